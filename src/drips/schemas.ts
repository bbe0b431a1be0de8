import { z } from 'zod';
import { CUSTOM_FIELD_KEY, LEAD_FIELDS, type LeadField } from '../shared';
import {
  Id,
  LanguageCode,
  matching,
  multiLine,
  pageOf,
  Paging,
  rowJson,
  singleLine,
  TemplateName,
  Timestamp,
} from '../api/schemas';
import { ASSIGNMENT_STATUSES } from '../db/schema/values';
import { dripAssignmentEvents, dripSequences, dripSequenceSteps, leadDripAssignments } from '../db/schema/sqlite';
import { MessageResponse } from '../messages/schemas';
import { SequenceSendRulesSchema } from '../delivery/schemas';

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
    /** The sequence's own window, quiet days, exits and transactional flag; null or absent: the account's defaults. */
    sendRules: SequenceSendRulesSchema.nullable().optional(),
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
    sendRules: SequenceSendRulesSchema.nullable().optional(),
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

// ---------------------------------------------------------------------------------------------
// Responses.

/** A variable source as stored and shown: a lead field or a literal. */
export const VariableSourceResponse = z.union([
  z.strictObject({ field: z.string() }),
  z.strictObject({ value: z.string() }),
]);

export const TemplateVariablesResponse = z
  .strictObject({
    header: z.array(VariableSourceResponse).optional(),
    body: z.array(VariableSourceResponse).optional(),
    buttons: z.record(z.string(), z.array(VariableSourceResponse)).optional(),
    fileName: z.string().optional(),
  })
  .meta({ id: 'TemplateVariables' });

export const SequenceResponse = rowJson(dripSequences, { sendRules: SequenceSendRulesSchema.nullable() }).meta({
  id: 'Sequence',
});

export const SequenceWithStepsResponse = SequenceResponse.extend({
  steps: z.array(rowJson(dripSequenceSteps, { variables: TemplateVariablesResponse })),
}).meta({ id: 'SequenceWithSteps' });

export const SequencePageResponse = pageOf(SequenceResponse);

const StepSnapshotResponse = z.strictObject({
  templateName: z.string(),
  templateLanguage: z.string(),
  delaySeconds: z.number().int(),
  variables: TemplateVariablesResponse,
});

export const AssignmentResponse = rowJson(leadDripAssignments, { stepsSnapshot: z.array(StepSnapshotResponse) }).meta({
  id: 'Assignment',
});

export const AssignmentPageResponse = pageOf(AssignmentResponse);

/** What the running workflow says of itself (the `dripProgress` query). */
export const DripProgressResponse = z.strictObject({
  assignmentId: z.number().int(),
  status: z.enum(ASSIGNMENT_STATUSES),
  nextStep: z.number().int(),
  totalSteps: z.number().int(),
  nextSendAt: Timestamp.nullable(),
  stopReason: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const AssignmentDetailResponse = AssignmentResponse.extend({
  events: z.array(rowJson(dripAssignmentEvents)),
  messages: z.array(MessageResponse),
  /** With `live=true`: the workflow's own view, or null when no worker answered. */
  live: DripProgressResponse.nullable().optional(),
});

export const AssignResultResponse = z.strictObject({
  started: z.number().int(),
  skipped: z.number().int(),
  skippedByReason: z.record(z.string(), z.number().int()),
  assignments: z.array(
    z.strictObject({ assignmentId: z.number().int(), leadId: z.number().int(), workflowId: z.string() }),
  ),
  skippedLeads: z.array(
    z.strictObject({ leadId: z.number().int(), reason: z.string(), assignmentId: z.number().int().optional() }),
  ),
});

export const AssignmentActionResponse = z.strictObject({
  id: z.number().int(),
  workflowId: z.string(),
  requested: z.enum(['pause', 'resume', 'cancel']),
});
