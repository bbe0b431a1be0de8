import { z } from 'zod';
import { HEADER_TYPES } from '../db/schema/values';
import { normaliseApprovalStatus } from '../providers/approval-status';
import { checkTemplateDefinition, placeholderProblem } from './rules';
import {
  E164,
  LanguageCode,
  matching,
  multiLine,
  pageOf,
  Paging,
  rowJson,
  singleLine,
  TemplateName,
} from '../api/schemas';
import { TEMPLATE_BUTTON_TYPES } from '../db/queries/templates';
import { messageMaster, templateSyncRuns } from '../db/schema/sqlite';
import { SYNC_RUN_STATUSES } from '../db/schema/values';

export const TEMPLATE_CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'] as const;

const Language = LanguageCode;
/** Any status a provider reports, stored normalised (`APPROVED` → `Approved`); see templates/approval-status.ts. */
const ApprovalStatus = singleLine(30).transform(normaliseApprovalStatus);
const HttpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2048);

const ButtonText = singleLine(25);
const ButtonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('QUICK_REPLY'), text: ButtonText }).strict(),
  z
    .object({
      type: z.literal('URL'),
      text: ButtonText,
      url: matching(2000, /^https?:\/\/\S+$/, 'an http(s) URL, optionally ending in {{1}}'),
      example: singleLine(2000).optional(),
    })
    .strict(),
  z.object({ type: z.literal('PHONE_NUMBER'), text: ButtonText, phoneNumber: E164 }).strict(),
  z
    .object({ type: z.literal('COPY_CODE'), text: ButtonText.default('Copy code'), example: singleLine(15).optional() })
    .strict(),
]);

// Bounded (and aborting) before the placeholder scan runs.
const Body = multiLine(1024).superRefine((body, ctx) => {
  const problem = placeholderProblem(body);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const TemplateFields = {
  name: TemplateName,
  language: Language,
  category: z.enum(TEMPLATE_CATEGORIES),
  headerType: z.enum(HEADER_TYPES),
  headerText: singleLine(60).nullable(),
  headerMediaUrl: HttpUrl.nullable(),
  body: Body,
  footer: singleLine(60).nullable(),
  buttons: z.array(ButtonSchema).max(10),
  approvalStatus: ApprovalStatus,
  rejectionReason: multiLine(1000, { min: 0 }).nullable(),
};

/** Cross-field rules (header kinds, button counts, URL variables) as field issues of the body. */
function addDefinitionIssues(definition: Parameters<typeof checkTemplateDefinition>[0], ctx: z.RefinementCtx): void {
  for (const issue of checkTemplateDefinition(definition)) {
    ctx.addIssue({
      code: 'custom',
      message: issue.message,
      path: issue.path.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
    });
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
  search: singleLine(100).optional(),
  language: Language.optional(),
  category: z.enum(TEMPLATE_CATEGORIES).optional(),
  includeArchived: BooleanFlag,
  includeRemoved: BooleanFlag,
});

// ---------------------------------------------------------------------------------------------
// Responses.

const ButtonResponse = z.strictObject({
  type: z.enum(TEMPLATE_BUTTON_TYPES),
  text: z.string(),
  url: z.string().optional(),
  phoneNumber: z.string().optional(),
  example: z.string().optional(),
});

/** A Message Master row, its buttons as a list. */
export const TemplateResponse = rowJson(messageMaster, { buttons: z.array(ButtonResponse) }).meta({ id: 'Template' });

export const TemplatePageResponse = pageOf(TemplateResponse);

export const TemplateSyncRunResponse = rowJson(templateSyncRuns, {
  status: z.enum(SYNC_RUN_STATUSES),
  trigger: z.enum(['api', 'schedule']),
  errors: z.array(z.strictObject({ template: z.string().optional(), message: z.string() })),
}).meta({ id: 'TemplateSyncRun' });

export const TemplateSyncRunPageResponse = pageOf(TemplateSyncRunResponse);

export const TemplateSyncStartResponse = z.strictObject({
  runId: z.number().int(),
  workflowId: z.string(),
  status: z.enum(SYNC_RUN_STATUSES),
  /** True when a sync was already under way: this request joined it. */
  alreadyRunning: z.boolean(),
});
