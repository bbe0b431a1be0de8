/** The send rules' request and response shapes: one definition each, shared by settings, sequences and the preview. */
import { z } from 'zod';
import { LanguageCode, matching, singleLine, TemplateName, Timestamp } from '../api/schemas';
import { TimeZone } from '../leads/schemas';
import { minuteOfDay } from './contract';
import { MAX_MARKETING_LIMIT_RETRY_MINUTES } from './settings';

const HHMM = matching(5, /^(?:[01]\d|2[0-3]):[0-5]\d$/, 'a local time such as 09:00');
const LocalDate = matching(10, /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/, 'a date such as 2026-12-25');

/** E.g. Mon–Sat 09:00–20:00: `{ "days": [1,2,3,4,5,6], "start": "09:00", "end": "20:00" }`. */
export const SendWindowSchema = z
  .strictObject({
    days: z
      .array(
        z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5), z.literal(6), z.literal(7)]),
      )
      .min(1)
      .max(7)
      .refine((days) => new Set(days).size === days.length, 'each day once'),
    start: HHMM,
    end: HHMM,
  })
  .refine((window) => minuteOfDay(window.end) > minuteOfDay(window.start), 'end must be after start')
  .meta({ id: 'SendWindow', description: 'Weekdays (1 = Monday … 7 = Sunday) and local hours a message may go in' });

export const QuietDates = z.array(LocalDate).max(366);

/** Statuses and stages are the CRM's words (see leads/schemas.ts LeadStatus). */
const ExitStatuses = z.array(singleLine(50)).max(20);

export const SequenceSendRulesSchema = z
  .strictObject({
    window: SendWindowSchema.nullable().optional(),
    quietDates: QuietDates.optional(),
    exitStatuses: ExitStatuses.optional(),
    exitOnCtaAnswer: z.boolean().optional(),
    transactional: z.boolean().optional(),
  })
  .meta({ id: 'SequenceSendRules' });

export const FrequencyCapSchema = z
  .strictObject({
    max: z.number().int().min(1).max(50),
    periodSeconds: z
      .number()
      .int()
      .min(60)
      .max(90 * 24 * 3600),
  })
  .meta({ id: 'FrequencyCap', description: 'At most `max` marketing messages per lead in any rolling period' });

const Keyword = singleLine(50);

export const KeywordReplyTemplateSchema = z
  .strictObject({ templateName: TemplateName, templateLanguage: LanguageCode.default('en') })
  .meta({
    id: 'KeywordReplyTemplate',
    description: "An approved template in Message Master: no body variable, or {{1}} = the lead's name",
  });

const StoredKeywordReplyTemplate = z.strictObject({ templateName: z.string(), templateLanguage: z.string() });

const KeywordRepliesSchema = z.strictObject({
  optOut: KeywordReplyTemplateSchema.nullable(),
  optIn: KeywordReplyTemplateSchema.nullable(),
});

/** Minutes; null: no automatic retry. */
const MarketingLimitRetryMinutes = z.number().int().min(1).max(MAX_MARKETING_LIMIT_RETRY_MINUTES).nullable();

export const UpdateDeliverySettingsBody = z
  .strictObject({
    defaultTimeZone: TimeZone,
    window: SendWindowSchema.nullable(),
    quietDates: QuietDates,
    frequencyCap: FrequencyCapSchema.nullable(),
    optOutKeywords: z.array(Keyword).max(50),
    optInKeywords: z.array(Keyword).max(50),
    /** One kind may be given alone: the other keeps its template. */
    keywordReplies: KeywordRepliesSchema.partial(),
    marketingLimitRetryMinutes: MarketingLimitRetryMinutes,
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

export const DeliverySettingsResponse = z
  .strictObject({
    defaultTimeZone: z.string(),
    window: SendWindowSchema.nullable(),
    quietDates: z.array(z.string()),
    frequencyCap: FrequencyCapSchema.nullable(),
    optOutKeywords: z.array(z.string()),
    optInKeywords: z.array(z.string()),
    keywordReplies: z.strictObject({
      optOut: StoredKeywordReplyTemplate.nullable(),
      optIn: StoredKeywordReplyTemplate.nullable(),
    }),
    marketingLimitRetryMinutes: z.number().int().nullable(),
  })
  .meta({ id: 'DeliverySettings' });

export const TimelineQuery = z
  .object({
    leadId: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
    timeZone: TimeZone.optional(),
    /** When the drip would start; now by default. Bounded so every planned time stays a real date. */
    from: z.iso
      .datetime()
      .refine((text) => {
        const ms = Date.parse(text);
        return ms >= Date.UTC(2000, 0, 1) && ms <= Date.UTC(2200, 0, 1);
      }, 'a time between 2000 and 2200')
      .optional(),
  })
  .refine((query) => query.leadId === undefined || query.timeZone === undefined, 'give leadId or timeZone, not both');

export const TimelineResponse = z
  .strictObject({
    sequenceId: z.number().int(),
    timeZone: z.string(),
    timeZoneSource: z.enum(['lead', 'phone', 'default', 'query']),
    capped: z.boolean(),
    steps: z.array(
      z.strictObject({
        stepIndex: z.number().int(),
        templateName: z.string(),
        dueAt: Timestamp,
        sendAt: Timestamp,
        /** The send time on the lead's clock, `YYYY-MM-DD HH:MM` and weekday. */
        localSendAt: z.string(),
        deferredBy: z.enum(['none', 'window', 'cap']),
      }),
    ),
  })
  .meta({ id: 'Timeline' });

export const RescheduleBody = z
  .discriminatedUnion('action', [
    z.strictObject({ action: z.literal('send_now') }),
    z.strictObject({
      action: z.literal('snooze'),
      seconds: z
        .number()
        .int()
        .min(60)
        .max(365 * 24 * 3600),
    }),
    z.strictObject({
      action: z.literal('move'),
      at: z.iso.datetime().refine((text) => Date.parse(text) <= Date.UTC(2200, 0, 1), 'a time before 2200'),
    }),
  ])
  .meta({ id: 'RescheduleDrip' });

export const RescheduleResponse = z.strictObject({
  id: z.number().int(),
  workflowId: z.string(),
  nextSendAt: Timestamp,
});

export const RetryResponse = z.strictObject({
  id: z.number().int(),
  workflowId: z.string(),
  retriedStep: z.number().int(),
  /** What the step's message log row said: `failed` rows are sent again, a row the provider accepted is not. */
  previousMessageStatus: z.string().nullable(),
});
