import { z } from 'zod';
import { IdFromText, matching, MAX_ID, singleLine, Timestamp } from '../api/schemas';
import { MESSAGE_DIRECTIONS, MESSAGE_STATUSES, REFERENCE_TYPES } from '../db/schema/values';

/** The longest period a KPI query covers: a year and a month, for a year-on-year look. */
export const MAX_PERIOD_DAYS = 400;
/** The period a KPI query covers when none is given. */
export const DEFAULT_PERIOD_DAYS = 30;
const DAY_MS = 86_400_000;
/** Times outside these years are typing mistakes, not periods of a message log. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

/** An ISO 8601 date-time with a zone (`2030-01-31T09:00:00Z`, `…+05:30`) or a date (`2030-01-31`, UTC midnight). */
const Instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((value) => new Date(value))
  .refine((date) => date.getTime() >= EARLIEST && date.getTime() <= LATEST, {
    message: 'must be between 2000-01-01 and 2100-01-01',
  });

/** Hours after a send in which a message from the lead counts as a reply: 1 to 720 (30 days), 24 by default. */
const ReplyWindowHours = z.coerce
  .number()
  .int()
  .min(1)
  .max(720)
  .default(24)
  .meta({ description: 'A message from the lead this many hours after a send (or sooner) is a reply to it' });

export const ReplyWindowQuery = z.object({ replyWindowHours: ReplyWindowHours });

/**
 * A period: `to` defaults to now and `from` to 30 days before `to`; `from` must be before `to`
 * and the period at most 400 days.
 */
export const KpiQuery = z
  .object({
    from: Instant.optional(),
    to: Instant.optional(),
    replyWindowHours: ReplyWindowHours,
  })
  .transform((query, ctx) => {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'from must be before to' });
    else if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS)
      ctx.addIssue({ code: 'custom', path: ['from'], message: `the period must be at most ${MAX_PERIOD_DAYS} days` });
    return { from, to, replyWindowHours: query.replyWindowHours };
  });

export const SequenceParams = z.object({ sequenceId: IdFromText });
export const LeadParams = z.object({ leadId: IdFromText });

export const OutcomesQuery = z.object({
  referenceType: z.enum(REFERENCE_TYPES),
  referenceId: singleLine(64),
  replyWindowHours: ReplyWindowHours,
});

/** The largest CreatedAt a cursor can name: JavaScript's last representable time. */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** `<CreatedAt ms>-<Id>` of the last message of the previous page, as `nextCursor` gave it. */
const Cursor = matching(40, /^\d{1,16}-\d{1,10}$/, 'a cursor as nextCursor gave it').transform((text, ctx) => {
  const [at, id] = text.split('-').map(Number) as [number, number];
  if (at > MAX_TIME_MS || id < 1 || id > MAX_ID) {
    ctx.addIssue({ code: 'custom', message: 'a cursor as nextCursor gave it' });
    return z.NEVER;
  }
  return { at: new Date(at), id };
});

export const ConversationQuery = z.object({
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  order: z.enum(['asc', 'desc']).default('asc'),
});

// ---------------------------------------------------------------------------------------------
// Responses.

const Count = z.number().int().min(0);
/** A share of sent messages to four decimals; null when nothing was sent. */
const Rate = z.number().min(0).nullable();

const OutcomeCounts = {
  total: Count.meta({ description: 'Sends attempted (rows in the message log)' }),
  sent: Count.meta({ description: 'Accepted by the provider' }),
  delivered: Count,
  read: Count,
  replied: Count.meta({ description: 'Sent, and a message from the lead followed within the reply window' }),
  failed: Count,
  pending: Count.meta({ description: 'Neither sent nor failed yet' }),
  deliveryRate: Rate.meta({ description: 'delivered / sent' }),
  readRate: Rate.meta({ description: 'read / sent' }),
  replyRate: Rate.meta({ description: 'replied / sent' }),
};

const FailureCount = z.strictObject({
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  count: Count,
});

export const OutcomesResponse = z
  .strictObject({
    referenceType: z.enum(REFERENCE_TYPES),
    referenceId: z.string(),
    replyWindowHours: z.number().int(),
    ...OutcomeCounts,
    failures: z.array(FailureCount),
  })
  .meta({ id: 'SendOutcomes' });

export const DripFunnelResponse = z
  .strictObject({
    sequenceId: z.number().int(),
    sequenceName: z.string(),
    replyWindowHours: z.number().int(),
    steps: z.array(
      z.strictObject({
        stepIndex: z.number().int(),
        templateName: z.string().nullable(),
        reached: Count.meta({ description: 'Assignments whose step came due and was attempted' }),
        ...OutcomeCounts,
        failures: z.array(FailureCount),
      }),
    ),
    outcomes: z.strictObject({
      assignments: Count,
      pending: Count,
      active: Count,
      paused: Count,
      completed: Count,
      cancelled: Count,
      failed: Count,
      cancelledByReason: z.array(z.strictObject({ reason: z.string().nullable(), count: Count })),
    }),
  })
  .meta({ id: 'DripFunnel' });

export const KpiResponse = z
  .strictObject({
    from: Timestamp,
    to: Timestamp,
    replyWindowHours: z.number().int(),
    contacts: z.strictObject({
      total: Count.meta({ description: 'Contacts created before the period ends' }),
      totalAtStart: Count,
      newInPeriod: Count,
      months: z.array(
        z.strictObject({
          month: z.string().meta({ description: 'YYYY-MM (UTC)' }),
          from: Timestamp,
          to: Timestamp,
          created: Count,
          totalBefore: Count,
          growthRate: Rate.meta({ description: 'created / totalBefore; null when there were none before' }),
        }),
      ),
    }),
    messages: z.strictObject({ ...OutcomeCounts }).meta({ description: 'Outcomes of the sends created in the period' }),
    responseTime: z.strictObject({
      inbound: Count.meta({ description: 'Messages from leads stored in the period' }),
      answered: Count.meta({ description: 'Of those, the ones an outgoing message to the lead followed' }),
      medianMs: z.number().int().nullable(),
      p90Ms: z.number().int().nullable(),
    }),
    running: z.strictObject({
      drips: Count.meta({ description: 'Drip assignments pending, active or paused' }),
      campaigns: Count.meta({ description: 'Campaigns scheduled, running or paused' }),
      ctaFlows: Count.meta({ description: 'CTA flows not archived' }),
      ctaRunsOpen: Count.meta({ description: 'CTA runs waiting for an answer' }),
    }),
  })
  .meta({ id: 'Kpis' });

/** One message of a conversation: no phone number (the lead's is on the lead). */
export const ConversationMessageResponse = z
  .strictObject({
    id: z.number().int(),
    direction: z.enum(MESSAGE_DIRECTIONS),
    status: z.enum(MESSAGE_STATUSES),
    tick: z
      .enum(['pending', 'sent', 'delivered', 'read', 'failed'])
      .nullable()
      .meta({ description: "An outgoing message's tick: clock, one, two, two blue, or failed; null for incoming" }),
    at: Timestamp.meta({ description: 'When the message was stored (outgoing: when the send began)' }),
    templateName: z.string().nullable(),
    templateLanguage: z.string().nullable(),
    content: z.record(z.string(), z.unknown()),
    mediaUrl: z.string().nullable(),
    referenceType: z.enum(REFERENCE_TYPES).nullable(),
    referenceId: z.string().nullable(),
    stepIndex: z.number().int().nullable(),
    sentAt: Timestamp.nullable(),
    deliveredAt: Timestamp.nullable(),
    readAt: Timestamp.nullable(),
    failedAt: Timestamp.nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
  })
  .meta({ id: 'ConversationMessage' });

export const ConversationResponse = z
  .strictObject({
    leadId: z.number().int(),
    leadName: z.string(),
    order: z.enum(['asc', 'desc']),
    items: z.array(ConversationMessageResponse),
    nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last' }),
  })
  .meta({ id: 'Conversation' });
