/**
 * Templates known to the local Interakt EMULATOR, and how they render in Interakt's template-list
 * shape (providers.md §1.5). Development tool only.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

const ButtonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('URL'), text: z.string().min(1), url: z.string().min(1) }),
  z.object({ type: z.literal('QUICK_REPLY'), text: z.string().min(1) }),
  z.object({ type: z.literal('PHONE_NUMBER'), text: z.string().min(1), phone_number: z.string().min(1) }),
  z.object({ type: z.literal('COPY_CODE'), text: z.string().min(1).default('Copy code') }),
]);

const HeaderSchema = z.discriminatedUnion('format', [
  z.object({ format: z.literal('TEXT'), text: z.string().min(1) }),
  z.object({ format: z.enum(['IMAGE', 'VIDEO', 'DOCUMENT']), exampleUrl: z.url().optional() }),
]);

export const EmulatorTemplateSchema = z.object({
  name: z.string().min(1),
  language: z.string().min(1),
  category: z.enum(['UTILITY', 'MARKETING', 'AUTHENTICATION']).default('UTILITY'),
  approvalStatus: z
    .enum(['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'IN_APPEAL', 'FLAGGED', 'PENDING_DELETION'])
    .default('APPROVED'),
  header: HeaderSchema.optional(),
  body: z.string().min(1),
  footer: z.string().optional(),
  buttons: z.array(ButtonSchema).optional(),
  /** The provider's quality rating (Meta's GREEN / YELLOW / RED / UNKNOWN). */
  quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).default('UNKNOWN'),
  /** Why review refused it (Meta's reason codes, e.g. INVALID_FORMAT), for a REJECTED template. */
  rejectionReason: z.string().optional(),
  /**
   * Fields of the template-list row replaced verbatim: how tests serve what real Interakt
   * sometimes does (double-encoded or broken `buttons`, an old category, a missing field).
   */
  listRowOverrides: z.record(z.string(), z.unknown()).optional(),
});

/** Input form: category and approval status default to UTILITY / APPROVED. */
export type EmulatorTemplate = z.input<typeof EmulatorTemplateSchema>;
export type StoredTemplate = z.output<typeof EmulatorTemplateSchema> & {
  id: string;
  waTemplateId: string;
  createdAt: string;
  modifiedAt: string;
};

export const DEFAULT_EMULATOR_TEMPLATES: readonly EmulatorTemplate[] = [
  { name: 'welcome_message', language: 'en', body: 'Hi {{1}}, welcome to {{2}}!' },
  {
    name: 'follow_up',
    language: 'en',
    category: 'MARKETING',
    body: 'Hi {{1}}, just checking in. Reply if you have questions.',
  },
  {
    name: 'drip_day_1',
    language: 'en',
    category: 'MARKETING',
    body: 'Hi {{1}}, here is what to expect from us this week.',
  },
  {
    name: 'drip_day_2',
    language: 'en',
    category: 'MARKETING',
    body: 'Hi {{1}}, a quick tip to get the most out of your account.',
  },
  {
    name: 'drip_day_3',
    language: 'en',
    category: 'MARKETING',
    body: 'Hi {{1}}, any questions? We are one message away.',
  },
  {
    name: 'seller_registration',
    language: 'en',
    header: { format: 'DOCUMENT', exampleUrl: 'https://example.com/seller-registration.pdf' },
    body: 'Hi {{1}}, your seller registration form is attached. Please fill it in and send it back.',
    footer: 'Reply STOP to opt out',
    buttons: [
      { type: 'QUICK_REPLY', text: 'Interested' },
      { type: 'QUICK_REPLY', text: 'Not interested' },
    ],
  },
];

/**
 * The seed's interactive CTA template (two URL buttons whose one variable is at the end, as
 * WhatsApp requires) and the brochure sent after "Interested", pointing at `baseUrl`.
 */
export function ctaEmulatorTemplates(baseUrl: string): EmulatorTemplate[] {
  const trackUrl = `${baseUrl.replace(/\/+$/, '')}/track/{{1}}`;
  return [
    {
      name: 'project_update_template',
      language: 'en',
      category: 'MARKETING',
      body: 'Hi {{1}},\nWe shared details about *{{2}}*.\nAre you interested in this project?',
      footer: 'Bop Realty',
      buttons: [
        { type: 'URL', text: 'Interested ✅', url: trackUrl },
        { type: 'URL', text: 'Not interested ❌', url: trackUrl },
      ],
    },
    {
      name: 'project_brochure',
      language: 'en',
      category: 'MARKETING',
      header: { format: 'DOCUMENT', exampleUrl: 'https://example.com/brochure.pdf' },
      body: 'Hi {{1}}, here is the brochure for {{2}}. Our team will call you shortly.',
    },
  ];
}

/** The URL each URL button opens once its dynamic `{{1}}` takes the value sent for it. */
export function renderButtonUrls(
  template: Pick<StoredTemplate, 'buttons'>,
  buttonValues: Record<string, string[]>,
): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [index, button] of (template.buttons ?? []).entries()) {
    if (button.type !== 'URL') continue;
    const value = buttonValues[String(index)]?.[0];
    urls[String(index)] = value === undefined ? button.url : button.url.replace(/\{\{\s*1\s*\}\}$/, value);
  }
  return urls;
}

export const templateKey = (name: string, language: string): string => `${name}\u0000${language}`;

/** Meta numbers variables `{{1}}`, `{{2}}`, …; a repeated variable still takes one value. */
export function countVariables(text: string | undefined): number {
  if (!text) return 0;
  return new Set([...text.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((match) => match[1])).size;
}

export function storeTemplate(input: EmulatorTemplate, previous?: StoredTemplate): StoredTemplate {
  const parsed = EmulatorTemplateSchema.parse(input);
  const now = utcTimestamp();
  return {
    ...parsed,
    id: previous?.id ?? randomUUID(),
    waTemplateId: previous?.waTemplateId ?? String(1_000_000_000_000 + Math.floor(Math.random() * 1e12)),
    createdAt: previous?.createdAt ?? now,
    modifiedAt: now,
  };
}

/** One row of `GET /track/organization/templates`, including Interakt's JSON-in-a-string fields. */
export function templateListRow(template: StoredTemplate): Record<string, unknown> {
  const header = template.header;
  const variablesPresent =
    countVariables(template.body) > 0 ||
    (header?.format === 'TEXT' && countVariables(header.text) > 0) ||
    (template.buttons ?? []).some((button) => button.type === 'URL' && countVariables(button.url) > 0);
  const bodyExamples = Array.from({ length: countVariables(template.body) }, (_, index) => `example_${index + 1}`);
  return {
    id: template.id,
    created_at_utc: template.createdAt,
    modified_at_utc: template.modifiedAt,
    created_by_user_id: null,
    name: template.name,
    display_name: template.name.replace(/_/g, ' '),
    language: template.language,
    category: template.category,
    sub_category: null,
    template_category_label: null,
    header_format: header?.format ?? null,
    header: header?.format === 'TEXT' ? header.text : null,
    header_text: header?.format === 'TEXT' && countVariables(header.text) > 0 ? JSON.stringify(['example_1']) : null,
    header_handle: null,
    header_handle_file_url: header && header.format !== 'TEXT' ? (header.exampleUrl ?? null) : null,
    header_handle_file_name: null,
    body: template.body,
    body_text: bodyExamples.length > 0 ? JSON.stringify(bodyExamples) : null,
    footer: template.footer ?? null,
    buttons: template.buttons && template.buttons.length > 0 ? JSON.stringify(template.buttons) : null,
    button_text: null,
    allow_category_change: false,
    limited_time_offer: null,
    autosubmitted_for: null,
    approval_status: template.approvalStatus,
    wa_template_id: template.waTemplateId,
    variable_present: variablesPresent ? 'Yes' : 'No',
    rejection_reason: template.approvalStatus === 'REJECTED' ? 'Rejected in the emulator' : null,
    is_archived: false,
    channel_type: 'Whatsapp',
    ...template.listRowOverrides,
  };
}

/** Interakt's timestamps: ISO 8601 in UTC without the zone suffix. */
export const utcTimestamp = (date: Date = new Date()): string => date.toISOString().replace(/Z$/, '');
