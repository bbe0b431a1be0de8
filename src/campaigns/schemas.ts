import { z } from 'zod';
import { Id, LanguageCode, pageOf, Paging, rowJson, singleLine, TemplateName, Timestamp } from '../api/schemas';
import { campaigns } from '../db/schema/sqlite';
import { CAMPAIGN_OUTCOMES, CAMPAIGN_RECIPIENT_STATUSES, CAMPAIGN_STATUSES, FAILURE_KINDS } from '../db/schema/values';
import { TemplateVariablesResponse, TemplateVariablesSchema } from '../drips/schemas';

/** An explicit audience: the CSV import's own ceiling; larger audiences are segments. */
export const MAX_CAMPAIGN_LEAD_IDS = 100_000;
/** How far ahead a campaign may be scheduled. */
const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;

const ScheduledAt = Timestamp.refine(
  (at) => Date.parse(at) < Date.now() + MAX_SCHEDULE_AHEAD_MS,
  'at most a year ahead',
).transform((at) => new Date(at));

const Audience = z.union([
  z.strictObject({ segmentId: Id }),
  z.strictObject({ leadIds: z.array(Id).min(1).max(MAX_CAMPAIGN_LEAD_IDS) }),
]);

export const CreateCampaignBody = z.strictObject({
  name: singleLine(200),
  templateName: TemplateName,
  templateLanguage: LanguageCode.default('en'),
  variables: TemplateVariablesSchema.default({}),
  audience: Audience,
  scheduledAt: ScheduledAt.optional(),
  /** Start at once (or at `scheduledAt`) instead of saving a draft. */
  start: z.boolean().default(false),
});

export const StartCampaignBody = z.strictObject({ scheduledAt: ScheduledAt.optional() });

export const CancelCampaignBody = z.strictObject({ reason: singleLine(200).optional() });

export const CloneCampaignBody = z.strictObject({ name: singleLine(200).optional() });

export const RetargetCampaignBody = z.strictObject({
  outcome: z.enum(CAMPAIGN_OUTCOMES),
  name: singleLine(200).optional(),
  templateName: TemplateName.optional(),
  templateLanguage: LanguageCode.optional(),
  variables: TemplateVariablesSchema.optional(),
  replyWindowHours: z.number().int().min(1).max(720).optional(),
});

export const ListCampaignsQuery = Paging.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() });

const ReplyWindow = z.coerce.number().int().min(1).max(720).default(72);

export const ReportQuery = z.object({ replyWindowHours: ReplyWindow });

export const RECIPIENT_FILTERS = [
  'pending',
  'sent',
  'delivered',
  'read',
  'replied',
  'failed',
  'skipped',
  ...CAMPAIGN_OUTCOMES,
] as const;

export const RecipientsQuery = Paging.extend({
  outcome: z.enum(RECIPIENT_FILTERS).optional(),
  replyWindowHours: ReplyWindow,
});

export const ExportQuery = z.object({
  outcome: z.enum(RECIPIENT_FILTERS).optional(),
  replyWindowHours: ReplyWindow,
});

// ---------------------------------------------------------------------------------------------
// Responses.

export const CampaignResponse = rowJson(campaigns, {
  variables: TemplateVariablesResponse,
  leadIds: z.array(z.number().int()).nullable(),
}).meta({ id: 'Campaign' });

export const CampaignProgressResponse = z
  .strictObject({
    total: z.number().int(),
    pending: z.number().int(),
    sent: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    /** Settled sends over the last minute, from the running workflow; null when it cannot say. */
    ratePerMinute: z.number().nullable(),
    expectedFinishAt: Timestamp.nullable(),
  })
  .meta({ id: 'CampaignProgress' });

export const CampaignWithProgressResponse = CampaignResponse.extend({ progress: CampaignProgressResponse });
export const CampaignPageResponse = pageOf(CampaignResponse);

export const RetryResponse = z.strictObject({ campaign: CampaignResponse, requeued: z.number().int() });
export const RetargetResponse = CampaignResponse.extend({ recipients: z.number().int() });

const Rate = z.number().nullable();

export const CampaignReportResponse = z
  .strictObject({
    campaignId: z.number().int(),
    replyWindowHours: z.number().int(),
    totalRecipients: z.number().int(),
    pending: z.number().int(),
    sent: z.number().int(),
    delivered: z.number().int(),
    read: z.number().int(),
    replied: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    failedBy: z.array(
      z.strictObject({ errorCode: z.string().nullable(), reason: z.string().nullable(), count: z.number().int() }),
    ),
    skippedBy: z.array(z.strictObject({ reason: z.string().nullable(), count: z.number().int() })),
    /** delivered, read and replied each over sent, as a fraction 0..1; null when nothing was sent. */
    deliveryRate: Rate,
    readRate: Rate,
    replyRate: Rate,
  })
  .meta({ id: 'CampaignReport' });

export const RecipientResponse = z.strictObject({
  id: z.number().int(),
  leadId: z.number().int(),
  status: z.enum(CAMPAIGN_RECIPIENT_STATUSES),
  reason: z.string().nullable(),
  errorCode: z.string().nullable(),
  failureKind: z.enum(FAILURE_KINDS).nullable(),
  processedAt: Timestamp.nullable(),
  messageId: z.number().int().nullable(),
  messageStatus: z.string().nullable(),
  sentAt: Timestamp.nullable(),
  deliveredAt: Timestamp.nullable(),
  readAt: Timestamp.nullable(),
  messageErrorCode: z.string().nullable(),
  messageErrorMessage: z.string().nullable(),
  replied: z.boolean(),
});
export const RecipientPageResponse = pageOf(RecipientResponse);
