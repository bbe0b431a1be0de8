import { z } from 'zod';
import { HEADER_TYPES } from '../../db/schema/values';
import { normaliseApprovalStatus } from '../../templates/approval-status';
import { checkTemplateDefinition, placeholderProblem } from '../../templates/rules';
import { Paging } from './common';

export const TEMPLATE_CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'] as const;

const TemplateName = z.string().regex(/^[a-z0-9_]{1,512}$/, 'template names are lowercase letters, digits and underscores');
const Language = z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as en or en_US');
/** Any status a provider reports, stored normalised (`APPROVED` → `Approved`); see templates/approval-status.ts. */
const ApprovalStatus = z.string().trim().min(1).max(30).transform(normaliseApprovalStatus);
const HttpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2048);

const ButtonText = z.string().trim().min(1).max(25);
const ButtonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('QUICK_REPLY'), text: ButtonText }).strict(),
  z
    .object({
      type: z.literal('URL'),
      text: ButtonText,
      url: z.string().trim().min(1).max(2000).regex(/^https?:\/\//, 'an http(s) URL, optionally ending in {{1}}'),
      example: z.string().min(1).max(2000).optional(),
    })
    .strict(),
  z.object({ type: z.literal('PHONE_NUMBER'), text: ButtonText, phoneNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'E.164, e.g. +919876543210') }).strict(),
  z.object({ type: z.literal('COPY_CODE'), text: ButtonText.default('Copy code'), example: z.string().min(1).max(15).optional() }).strict(),
]);

const Body = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((body, ctx) => {
    const problem = placeholderProblem(body);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const TemplateFields = {
  name: TemplateName,
  language: Language,
  category: z.enum(TEMPLATE_CATEGORIES),
  headerType: z.enum(HEADER_TYPES),
  headerText: z.string().trim().min(1).max(60).nullable(),
  headerMediaUrl: HttpUrl.nullable(),
  body: Body,
  footer: z.string().trim().min(1).max(60).nullable(),
  buttons: z.array(ButtonSchema).max(10),
  approvalStatus: ApprovalStatus,
  rejectionReason: z.string().max(1000).nullable(),
};

/** Cross-field rules (header kinds, button counts, URL variables) as field issues of the body. */
function addDefinitionIssues(definition: Parameters<typeof checkTemplateDefinition>[0], ctx: z.RefinementCtx): void {
  for (const issue of checkTemplateDefinition(definition)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)) });
  }
}

export const CreateTemplateBody = z
  .object({
    ...TemplateFields,
    language: Language.default('en'),
    headerType: TemplateFields.headerType.default('none'),
    headerText: TemplateFields.headerText.optional(),
    headerMediaUrl: TemplateFields.headerMediaUrl.optional(),
    footer: TemplateFields.footer.optional(),
    buttons: TemplateFields.buttons.default([]),
    // A template created in the CRM has not been reviewed by WhatsApp yet.
    approvalStatus: ApprovalStatus.default('Pending'),
    rejectionReason: TemplateFields.rejectionReason.optional(),
  })
  .strict()
  .superRefine(addDefinitionIssues);

/** Every field optional; the rules across fields are checked on the edited template (see the route). */
export const UpdateTemplateBody = z
  .object(TemplateFields)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

const BooleanFlag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');

export const ListTemplatesQuery = Paging.extend({
  approvalStatus: ApprovalStatus.optional(),
  search: z.string().trim().min(1).max(100).optional(),
  language: Language.optional(),
  category: z.enum(TEMPLATE_CATEGORIES).optional(),
  includeArchived: BooleanFlag,
  includeRemoved: BooleanFlag,
});
