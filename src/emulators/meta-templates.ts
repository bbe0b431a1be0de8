/**
 * The Meta emulator's `message_templates` edge (providers.md §3.2): templates rendered as Graph
 * lists them, a created template read back into the emulator's store, and the WhatsApp Business
 * Account webhooks a review or a quality change posts. Development tool only.
 */
import { z } from 'zod';
import { countVariables, type EmulatorTemplate, type StoredTemplate } from './interakt-templates';

/** One row of `GET /<WABA_ID>/message_templates`, all fields (the emulator ignores `fields`). */
export function metaTemplateRow(template: StoredTemplate): Record<string, unknown> {
  const components: Record<string, unknown>[] = [];
  const header = template.header;
  if (header?.format === 'TEXT') components.push({ type: 'HEADER', format: 'TEXT', text: header.text });
  else if (header) {
    components.push({
      type: 'HEADER',
      format: header.format,
      ...(header.exampleUrl && { example: { header_handle: [header.exampleUrl] } }),
    });
  }
  const examples = Array.from({ length: countVariables(template.body) }, (_, index) => `example_${index + 1}`);
  components.push({
    type: 'BODY',
    text: template.body,
    ...(examples.length > 0 && { example: { body_text: [examples] } }),
  });
  if (template.footer) components.push({ type: 'FOOTER', text: template.footer });
  if (template.buttons?.length) {
    components.push({
      type: 'BUTTONS',
      buttons: template.buttons.map((button) => ({ ...button })),
    });
  }
  return {
    id: template.waTemplateId,
    name: template.name,
    language: template.language,
    status: template.approvalStatus,
    category: template.category,
    parameter_format: 'POSITIONAL',
    components,
    ...(template.approvalStatus === 'REJECTED' && { rejected_reason: template.rejectionReason ?? 'INVALID_FORMAT' }),
    quality_score: { score: template.quality, date: Math.floor(Date.parse(`${template.modifiedAt}Z`) / 1000) },
  };
}

const NAME = /^[a-z0-9_]{1,512}$/;

const CreateComponentSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('HEADER'),
    format: z.enum(['TEXT', 'IMAGE', 'VIDEO', 'DOCUMENT']),
    text: z.string().max(60).optional(),
    example: z.unknown().optional(),
  }),
  z.object({ type: z.literal('BODY'), text: z.string().min(1).max(1024), example: z.unknown().optional() }),
  z.object({ type: z.literal('FOOTER'), text: z.string().min(1).max(60) }),
  z.object({
    type: z.literal('BUTTONS'),
    buttons: z
      .array(
        z.looseObject({
          type: z.enum(['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE']),
          text: z.string().min(1).max(25).optional(),
          url: z.string().optional(),
          phone_number: z.string().optional(),
        }),
      )
      .min(1)
      .max(10),
  }),
]);

/** `POST /<WABA_ID>/message_templates` as Graph validates it, enough to refuse what review never sees. */
export const CreateTemplateSchema = z.object({
  name: z.string().regex(NAME, 'name must be lowercase letters, digits and underscores'),
  language: z.string().min(2).max(20),
  category: z.enum(['MARKETING', 'UTILITY', 'AUTHENTICATION']),
  allow_category_change: z.boolean().optional(),
  parameter_format: z.enum(['POSITIONAL', 'NAMED']).optional(),
  components: z.array(CreateComponentSchema).min(1),
});

/** Why Graph refuses a definition that parses: a body, examples for its variables, a URL's variable at its end. */
export function definitionProblem(definition: z.infer<typeof CreateTemplateSchema>): string | null {
  const body = definition.components.find((component) => component.type === 'BODY');
  if (!body) return 'components: a BODY component is required';
  const variables = countVariables(body.text);
  if (variables > 0) {
    const example = (body.example as { body_text?: unknown } | undefined)?.body_text;
    const first = Array.isArray(example) ? example[0] : undefined;
    if (!Array.isArray(first) || first.length !== variables)
      return `components: the BODY has ${variables} variables and needs example.body_text with ${variables} values`;
  }
  for (const component of definition.components) {
    if (component.type !== 'BUTTONS') continue;
    for (const button of component.buttons) {
      if (button.type === 'URL' && /\{\{\d+\}\}(?!$)/.test(button.url ?? ''))
        return 'components: a URL button may hold one variable, at the end of its url';
    }
  }
  return null;
}

/** The created template as the emulator stores it, pending review. */
export function templateFromDefinition(definition: z.infer<typeof CreateTemplateSchema>): EmulatorTemplate {
  const find = <T extends z.infer<typeof CreateComponentSchema>['type']>(type: T) =>
    definition.components.find(
      (component): component is Extract<z.infer<typeof CreateComponentSchema>, { type: T }> => component.type === type,
    );
  const header = find('HEADER');
  const buttons = find('BUTTONS');
  return {
    name: definition.name,
    language: definition.language,
    category: definition.category,
    approvalStatus: 'PENDING',
    ...(header && {
      header: header.format === 'TEXT' ? { format: 'TEXT', text: header.text ?? '' } : { format: header.format },
    }),
    body: find('BODY')!.text,
    ...(find('FOOTER') && { footer: find('FOOTER')!.text }),
    ...(buttons && {
      buttons: buttons.buttons.map((button) => {
        const text = button.text ?? 'Copy code';
        switch (button.type) {
          case 'URL':
            return { type: 'URL' as const, text, url: button.url ?? '' };
          case 'PHONE_NUMBER':
            return { type: 'PHONE_NUMBER' as const, text, phone_number: button.phone_number ?? '' };
          case 'COPY_CODE':
            return { type: 'COPY_CODE' as const, text };
          default:
            return { type: 'QUICK_REPLY' as const, text };
        }
      }),
    }),
  };
}

/** Meta writes a template's language with a hyphen in these webhooks (`en-US`), where its lists have `en_US`. */
export const webhookLanguage = (language: string): string => language.replace(/_/g, '-');
