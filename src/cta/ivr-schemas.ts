import { z } from 'zod';
import { IVR_CALL_STATUSES } from '../db/schema/values';
import { Id, pageOf, Paging, rowJson, singleLine } from '../api/schemas';
import { ivrCallLog } from '../db/schema/sqlite';

/** An ISO 8601 date-time with a zone (`2030-01-31T09:00:00Z`, `…+05:30`). */
const DateTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/** An ISO 8601 date-time with a zone, or a date (UTC midnight). */
const Instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((value) => new Date(value));

/** Lengths are the IVRCallLog columns'. */
export const IvrCallBody = z
  .object({
    callId: singleLine(200),
    callerNumber: singleLine(64),
    calledNumber: singleLine(64),
    calledAt: DateTime,
  })
  .strict();

export const MAX_IVR_CALLS_PER_BATCH = 500;

export const IvrCallBatchBody = z.object({ calls: z.array(IvrCallBody).min(1).max(MAX_IVR_CALLS_PER_BATCH) }).strict();

/**
 * One call, or `{ calls: [...] }`. Dispatched on the `calls` key rather than by z.union, whose
 * error would say "invalid input" instead of naming the failing fields.
 */
export const PostIvrCallsBody = z.unknown().transform((body, ctx) => {
  const isBatch = typeof body === 'object' && body !== null && 'calls' in body;
  const parsed = isBatch ? IvrCallBatchBody.safeParse(body) : IvrCallBody.safeParse(body);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  return z.NEVER;
});

export const ListIvrCallsQuery = Paging.extend({
  status: z.enum(IVR_CALL_STATUSES).optional(),
  /** CalledAt at or after. */
  from: Instant.optional(),
  /** CalledAt before (exclusive). */
  to: Instant.optional(),
}).refine((query) => !query.from || !query.to || query.from < query.to, {
  message: 'from must be before to',
  path: ['to'],
});

export const ProcessIvrCallsBody = z
  .object({
    limit: z.number().int().min(1).max(1000).default(10),
    flowId: Id.optional(),
  })
  .strict();

// ---------------------------------------------------------------------------------------------
// Responses.

/** A logged call; the caller's number leaves only masked (the lead id is the way to the person). */
export const IvrCallResponse = rowJson(ivrCallLog).meta({ id: 'IvrCall' });

export const RecordedIvrCallResponse = z.strictObject({
  callId: z.string(),
  /** True when this call id was already logged: nothing was written. */
  duplicate: z.boolean(),
  leadId: z.number().int(),
  leadCreated: z.boolean(),
  call: IvrCallResponse,
});

export const RecordedIvrCallBatchResponse = z.strictObject({
  created: z.number().int(),
  duplicates: z.number().int(),
  results: z.array(RecordedIvrCallResponse),
});

export const IvrCallPageResponse = pageOf(IvrCallResponse);

export const ProcessIvrCallsResponse = z.strictObject({
  processed: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  inProgress: z.number().int(),
  results: z.array(
    z.strictObject({
      callId: z.string(),
      outcome: z.enum(['processed', 'skipped', 'failed', 'in_progress']),
      runId: z.number().int().optional(),
      reason: z.string().optional(),
    }),
  ),
});
