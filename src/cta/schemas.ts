import { z } from 'zod';
import { CTA_ACTIONS, CTA_RUN_STATUSES } from './contract';
import {
  Id,
  IdFromText,
  LanguageCode,
  pageOf,
  Paging,
  rowJson,
  singleLine,
  TemplateName,
  Timestamp,
  matching,
} from '../api/schemas';
import { VariableSourceResponse, VariableSourceSchema } from '../drips/schemas';
import { ctaFlowRuns, ctaFlows } from '../db/schema/sqlite';

const DAY = 86_400;
const seconds = (max: number) => z.number().int().min(1).max(max);

export const CreateCtaFlowBody = z
  .object({
    name: singleLine(200),
    templateName: TemplateName,
    templateLanguage: LanguageCode.default('en'),
    projectName: singleLine(200),
    /** Body {{1}}, {{2}}, ... of the interactive and brochure templates; default: the lead's name, the project. */
    bodyVariables: z.array(VariableSourceSchema).max(20).optional(),
    interestedButtonIndex: z.number().int().min(0).max(9).default(0),
    notInterestedButtonIndex: z.number().int().min(0).max(9).default(1),
    reminderAfterSeconds: seconds(30 * DAY).default(DAY),
    closeAfterSeconds: seconds(30 * DAY).default(2 * DAY),
    tokenTtlSeconds: seconds(90 * DAY).default(30 * DAY),
    brochureTemplateName: TemplateName,
    brochureTemplateLanguage: LanguageCode.default('en'),
    brochureUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    brochureFileName: singleLine(255).optional(),
    followUpCallAfterSeconds: seconds(30 * DAY).default(4 * 3600),
    /** Calls to this number (any format; stored as E.164) start this flow. */
    ivrNumber: singleLine(64).min(3).optional(),
    /** The sender number (Meta phone number id, Infobip sender) its messages go from; default: the deployment's. */
    sender: matching(32, /^\+?\d{1,30}$/, 'must be a phone number id or a sender number, digits').optional(),
  })
  .strict()
  .refine((flow) => flow.interestedButtonIndex !== flow.notInterestedButtonIndex, {
    path: ['notInterestedButtonIndex'],
    message: 'the two answers need different buttons',
  })
  .refine((flow) => flow.tokenTtlSeconds >= flow.reminderAfterSeconds + flow.closeAfterSeconds, {
    path: ['tokenTtlSeconds'],
    message: 'links must stay valid at least until the flow closes (reminderAfterSeconds + closeAfterSeconds)',
  });
export type CreateCtaFlowBody = z.infer<typeof CreateCtaFlowBody>;

export const StartCtaFlowBody = z.object({ leadIds: z.array(Id).min(1).max(1000) }).strict();

export const ListCtaRunsQuery = Paging.extend({
  flowId: IdFromText.optional(),
  leadId: IdFromText.optional(),
  status: z.enum(CTA_RUN_STATUSES).optional(),
});

export const CtaAnalyticsQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    flowId: IdFromText.optional(),
    recent: z.coerce.number().int().min(0).max(200).default(20),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), {
    path: ['to'],
    message: 'to must be after from',
  });

// ---------------------------------------------------------------------------------------------
// Responses.

export const CtaFlowResponse = rowJson(ctaFlows, { bodyVariables: z.array(VariableSourceResponse) }).meta({
  id: 'CtaFlow',
});

export const CtaRunResponse = rowJson(ctaFlowRuns).meta({ id: 'CtaRun' });

export const CtaRunPageResponse = pageOf(CtaRunResponse);

/** One run, with the workflow's own view (the `ctaState` query) while it waits; null otherwise. */
export const CtaRunDetailResponse = CtaRunResponse.extend({
  live: z
    .strictObject({
      runId: z.number().int(),
      status: z.enum(CTA_RUN_STATUSES),
      decision: z.enum(CTA_ACTIONS).nullable(),
      waitingUntil: Timestamp.nullable(),
      stopReason: z.string().nullable(),
    })
    .nullable(),
});

export const CtaStartResponse = z.strictObject({
  started: z.array(z.strictObject({ leadId: z.number().int(), runId: z.number().int(), workflowId: z.string() })),
  skipped: z.array(
    z.strictObject({ leadId: z.number().int(), reason: z.string(), runId: z.number().int().optional() }),
  ),
});

const Rate = z.number().nullable();

export const CtaAnalyticsResponse = z.strictObject({
  from: Timestamp,
  to: Timestamp,
  totals: z.strictObject({
    sent: z.number().int(),
    interested: z.number().int(),
    notInterested: z.number().int(),
    noResponse: z.number().int(),
    engagementRate: Rate,
    conversionRate: Rate,
  }),
  flows: z.array(
    z.strictObject({
      flowId: z.number().int(),
      flowName: z.string(),
      sent: z.number().int(),
      interested: z.number().int(),
      notInterested: z.number().int(),
      noResponse: z.number().int(),
      engagementRate: Rate,
      conversionRate: Rate,
    }),
  ),
  recentInteractions: z.array(
    z.strictObject({
      id: z.number().int(),
      runId: z.number().int(),
      flowId: z.number().int(),
      leadId: z.number().int(),
      leadName: z.string().nullable(),
      action: z.enum(CTA_ACTIONS),
      result: z.enum(['decided', 'repeat']),
      clickedAt: Timestamp,
    }),
  ),
});
