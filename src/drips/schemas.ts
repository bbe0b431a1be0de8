import { z } from 'zod';
import { CUSTOM_FIELD_KEY, LEAD_FIELDS, type LeadField } from '../shared';
import { Id, LanguageCode, matching, multiLine, Paging, singleLine, TemplateName } from '../api/schemas';

const MAX_DELAY_SECONDS = 365 * 24 * 3600;

const LEAD_FIELD_MESSAGE = `must be ${LEAD_FIELDS.join(', ')} or custom.<key> (a custom field name)`;

const isLeadField = (field: string): boolean =>
  (LEAD_FIELDS as readonly string[]).includes(field) ||
  (field.startsWith('custom.') && CUSTOM_FIELD_KEY.test(field.slice('custom.'.length)));

/** Where a template variable takes its value: a lead field, or a literal. */
export const VariableSourceSchema = z.union([
  z
    .object({
      field: matching(71, /^[A-Za-z0-9_.]+$/, LEAD_FIELD_MESSAGE)
        .refine(isLeadField, LEAD_FIELD_MESSAGE)
        .transform((field) => field as LeadField),
    })
    .strict(),
  // WhatsApp refuses a parameter with a line break or tab (error 132018): one line.
  z.object({ value: singleLine(1024) }).strict(),
]);

export const TemplateVariablesSchema = z
  .object({
    header: z.array(VariableSourceSchema).max(1).optional(),
    body: z.array(VariableSourceSchema).max(20).optional(),
    buttons: z
      .record(z.string().regex(/^\d$/, 'button index must be 0-9'), z.array(VariableSourceSchema).length(1))
      .optional(),
    fileName: singleLine(255).optional(),
  })
  .strict();

export const StepSchema = z
  .object({
    templateName: TemplateName,
    templateLanguage: LanguageCode.default('en'),
    delaySeconds: z.number().int().min(0).max(MAX_DELAY_SECONDS),
    variables: TemplateVariablesSchema.default({}),
  })
  .strict();

export const CreateSequenceBody = z
  .object({
    name: singleLine(200),
    description: multiLine(2000, { min: 0 }).optional(),
    stopOnReply: z.boolean().default(false),
    /** The sender number (Meta phone number id, Infobip sender) its messages go from; default: the deployment's. */
    sender: matching(32, /^\+?\d{1,30}$/, 'must be a phone number id or a sender number, digits').optional(),
    steps: z.array(StepSchema).min(1).max(100),
  })
  .strict();

export const UpdateSequenceBody = z
  .object({
    name: singleLine(200).optional(),
    description: multiLine(2000, { min: 0 }).optional(),
    stopOnReply: z.boolean().optional(),
    /** Null goes back to the deployment's default sender. */
    sender: matching(32, /^\+?\d{1,30}$/, 'must be a phone number id or a sender number, digits')
      .nullable()
      .optional(),
    steps: z.array(StepSchema).min(1).max(100).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

export const ListSequencesQuery = Paging.extend({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const MAX_LEADS_PER_ASSIGNMENT = 10_000;

export const AssignBody = z
  .object({
    leadIds: z.array(Id).min(1).max(MAX_LEADS_PER_ASSIGNMENT),
  })
  .strict();
