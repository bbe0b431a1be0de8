/**
 * Analytics computed from the message log at read time: outcomes of a set of sends (the drip
 * funnel, the KPIs and the campaign report all count with `getSendOutcomes`), contacts and their
 * growth, response times, counts of what is running, and one lead's conversation. Nothing is
 * pre-aggregated, so a webhook that arrives late changes the numbers the next time they are read.
 *
 * Each query reads through one index of migrations 0050 and 0051 (see the comments there and the
 * EXPLAIN QUERY PLAN checks in bench/analytics.ts). Replies and answers are read from the columns
 * FirstReplyAt and AnsweredAt, which the writes of the message log keep (src/db/queries/messages.ts),
 * so no count seeks the lead's other messages. Long periods add whole days from a rollup that is
 * itself recomputed from the log (src/db/queries/analytics-days.ts). Filters the planner must match against a partial or
 * filtered index are written as literals, never parameters: SQL Server cannot use a filtered index
 * for a parameterised predicate, and SQLite only proves a partial index from a literal.
 *
 * Definitions, for every set of sends (outgoing rows of WhatsAppMessages):
 * - total: rows in the set, whatever their state (a send attempted);
 * - sent: accepted by the provider (SentAt, DeliveredAt or ReadAt set); a send accepted and later
 *   reported failed counts as sent and as failed;
 * - delivered: DeliveredAt or ReadAt set (a read report proves delivery even without its own);
 * - read: ReadAt set;
 * - replied: sent, and an incoming row from the same lead stored after the send and at most
 *   `replyWindowSeconds` after it (that is: the send's FirstReplyAt, the first such row, is at most
 *   that long after it);
 * - failed: Status 'failed' (refused, or reported failed after acceptance), with its error code;
 * - pending: neither sent nor failed yet (queued, or awaiting the provider's answer).
 */
import { and, asc, count, desc, eq, gt, gte, inArray, lt, lte, max, or, sql, type SQL } from 'drizzle-orm';
import { asMssql, type Db } from '../client';
import type { whatsAppMessages } from '../schema/sqlite';
import {
  ACTIVE_ASSIGNMENT_STATUSES,
  LIVE_CAMPAIGN_STATUSES,
  type AssignmentStatus,
  type ReferenceType,
} from '../schema/values';
import { parseJson } from './common';

// ---------------------------------------------------------------------------------------------
// Outcomes of a set of sends.

/**
 * Which outgoing messages an outcome count covers:
 * - `reference`: the sends of one reference, e.g. `{ referenceType: 'campaign', referenceId: '12' }`
 *   (index IX_WhatsAppMessages_Reference_Replies);
 * - `dripSequence`: every send of every assignment of one sequence (its assignments by
 *   IX_LeadDripAssignment_Sequence_Status, their sends by IX_WhatsAppMessages_Reference_Replies);
 * - `period`: every send created in [from, to) (IX_WhatsAppMessages_Direction_CreatedAt_Replies).
 */
export type SendSet =
  | { kind: 'reference'; referenceType: ReferenceType; referenceId: string }
  | { kind: 'dripSequence'; sequenceId: number }
  | { kind: 'period'; from: Date; to: Date };

export interface SendOutcomesParams {
  set: SendSet;
  /** A reply counts when the lead's message is stored at most this long after the send. */
  replyWindowSeconds: number;
  /**
   * Break the counts out by StepIndex 0 to `steps - 1` (a drip's steps, at most 100): one row per
   * step, zeros included, instead of one row for the whole set. Sends of a later step are counted
   * in no row.
   */
  steps?: number;
}

export interface SendOutcomeCounts {
  /** The step of these sends (with `steps`), else null. */
  stepIndex: number | null;
  total: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  pending: number;
}

export interface SendFailureCount {
  /** The step of these failures (with `byStep`), else null. */
  stepIndex: number | null;
  /** The provider's (or our) error code; null when none was recorded. */
  errorCode: string | null;
  /** One of the recorded reasons for this code (the greatest, so the same every time). */
  errorMessage: string | null;
  count: number;
}

/** Reply windows beyond this are not replies to a send any more; the API bounds its input to it. */
export const MAX_REPLY_WINDOW_SECONDS = 30 * 86_400;
/** A sequence has at most 100 steps (src/drips/schemas.ts). */
export const MAX_STEPS = 100;

/** `sent / total`-style rate to four decimals, or null when the base is 0 (a rate of nothing is not 0). */
export function outcomeRate(part: number, base: number): number | null {
  return base === 0 ? null : Math.round((part / base) * 10_000) / 10_000;
}

export const M = 'm';
export const MESSAGES = 'WhatsAppMessages';
const ASSIGNMENTS = 'LeadDripAssignment';

/** `"alias"."Column"` in SQLite, `[alias].[Column]` in SQL Server. */
export const col = (alias: string, column: string): SQL => sql`${sql.identifier(alias)}.${sql.identifier(column)}`;
export const as = (expression: SQL, name: string): SQL => sql`${expression} as ${sql.identifier(name)}`;

/** A timestamp parameter, encoded as the dialect stores it (ms since the epoch in SQLite, datetime2 in SQL Server). */
export const at = (db: Db, value: Date): SQL => sql`${sql.param(value, db.schema.whatsAppMessages.createdAt)}`;

/** `time + seconds`: SQLite keeps milliseconds since the epoch; SQL Server adds with DATEADD. */
export function plusSeconds(db: Db, time: SQL, seconds: number): SQL {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_REPLY_WINDOW_SECONDS)
    throw new RangeError(`the reply window must be 0 to ${MAX_REPLY_WINDOW_SECONDS} s, got ${seconds}`);
  return db.dialect === 'mssql' ? sql`dateadd(second, ${seconds}, ${time})` : sql`(${time} + ${seconds * 1000})`;
}

/** An assignment id as the text ReferenceId holds for drip sends. */
const idAsText = (db: Db, id: SQL): SQL =>
  db.dialect === 'mssql' ? sql`cast(${id} as nvarchar(100))` : sql`cast(${id} as text)`;

/** Runs a raw SELECT in either dialect and returns its rows as objects keyed by column alias. */
export async function selectRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  if (db.dialect === 'mssql') return asMssql(db).orm.execute<T>(query, 'objects');
  return db.orm.all<T>(query);
}

/** The FROM and WHERE of a set of sends; its messages are aliased `m`. */
function sendSource(db: Db, set: SendSet): { from: SQL; where: SQL } {
  const messages = sql`${sql.identifier(MESSAGES)} ${sql.identifier(M)}`;
  switch (set.kind) {
    case 'reference':
      return {
        from: messages,
        where: sql`${col(M, 'ReferenceType')} = ${set.referenceType} and ${col(M, 'ReferenceId')} = ${set.referenceId}`,
      };
    case 'dripSequence':
      return {
        from: sql`${sql.identifier(ASSIGNMENTS)} ${sql.identifier('a')} inner join ${messages} on ${col(M, 'ReferenceType')} = 'drip' and ${col(M, 'ReferenceId')} = ${idAsText(db, col('a', 'Id'))}`,
        where: sql`${col('a', 'SequenceId')} = ${set.sequenceId}`,
      };
    case 'period':
      return {
        from: messages,
        where: sql`${col(M, 'Direction')} = 'outgoing' and ${col(M, 'CreatedAt')} >= ${at(db, set.from)} and ${col(M, 'CreatedAt')} < ${at(db, set.to)}`,
      };
  }
}

export const flag = (condition: SQL): SQL => sql`case when ${condition} then 1 else 0 end`;

const MEASURES = ['sent', 'delivered', 'read', 'replied', 'failed', 'pending'] as const;

/** When a send (aliased `m`) was accepted, as the outcomes read it; null while it was not. */
export const SENT_TIME = sql`coalesce(${col(M, 'SentAt')}, ${col(M, 'DeliveredAt')}, ${col(M, 'ReadAt')})`;

/** A send (aliased `m`) was sent and its lead's first reply after it came at most `seconds` later. */
export const repliedWithin = (db: Db, seconds: number): SQL =>
  sql`${SENT_TIME} is not null and ${col(M, 'FirstReplyAt')} > ${SENT_TIME} and ${col(M, 'FirstReplyAt')} <= ${plusSeconds(db, SENT_TIME, seconds)}`;

/** Each outcome but `replied` of a send aliased `m`, as 0/1 columns named after MEASURES. */
export const OUTCOME_FLAGS = {
  sent: flag(sql`${SENT_TIME} is not null`),
  delivered: flag(sql`${col(M, 'DeliveredAt')} is not null or ${col(M, 'ReadAt')} is not null`),
  read: flag(sql`${col(M, 'ReadAt')} is not null`),
  failed: flag(sql`${col(M, 'Status')} = 'failed'`),
  pending: flag(sql`${SENT_TIME} is null and ${col(M, 'Status')} <> 'failed'`),
};

/**
 * Counts the outcomes of a set of sends (see the file comment for each outcome), for the whole set
 * or per step, from the covering index of the set alone: a reply is the send's FirstReplyAt
 * compared with its sent time. Each send is first classified in a derived table, then summed (per
 * step: grouped by StepIndex; SQLite sorts the set's sends for it, a fixed cost per send the bench
 * includes).
 */
export async function getSendOutcomes(db: Db, params: SendOutcomesParams): Promise<SendOutcomeCounts[]> {
  const steps = params.steps;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS))
    throw new RangeError(`steps must be 1 to ${MAX_STEPS}, got ${steps}`);
  const { from, where } = sendSource(db, params.set);
  const classified = sql.join(
    [
      ...(steps === undefined ? [] : [as(col(M, 'StepIndex'), 'stepIndex')]),
      as(OUTCOME_FLAGS.sent, 'sent'),
      as(OUTCOME_FLAGS.delivered, 'delivered'),
      as(OUTCOME_FLAGS.read, 'read'),
      as(flag(repliedWithin(db, params.replyWindowSeconds)), 'replied'),
      as(OUTCOME_FLAGS.failed, 'failed'),
      as(OUTCOME_FLAGS.pending, 'pending'),
    ],
    sql`, `,
  );
  const s = (column: string) => col('s', column);
  const sums = [as(sql`count(*)`, 'total'), ...MEASURES.map((m) => as(sql`sum(${s(m)})`, m))];
  const query =
    steps === undefined
      ? sql`select ${sql.join(sums, sql`, `)} from (select ${classified} from ${from} where ${where}) ${sql.identifier('s')}`
      : sql`select ${as(s('stepIndex'), 'stepIndex')}, ${sql.join(sums, sql`, `)} from (select ${classified} from ${from} where ${where} and ${col(M, 'StepIndex')} >= 0 and ${col(M, 'StepIndex')} < ${sql.raw(String(steps))}) ${sql.identifier('s')} group by ${s('stepIndex')}`;
  const rows = await selectRows<Record<string, unknown>>(db, query);
  // An aggregate over no rows is one row of nulls, and a step nobody reached has no group: zeros.
  const countsOf = (row: Record<string, unknown> | undefined, stepIndex: number | null): SendOutcomeCounts => {
    const read = (name: string) => Number(row?.[name] ?? 0);
    return {
      stepIndex,
      total: read('total'),
      sent: read('sent'),
      delivered: read('delivered'),
      read: read('read'),
      replied: read('replied'),
      failed: read('failed'),
      pending: read('pending'),
    };
  };
  if (steps === undefined) return [countsOf(rows[0], null)];
  return Array.from({ length: steps }, (_, k) =>
    countsOf(
      rows.find((row) => Number(row.stepIndex) === k),
      k,
    ),
  );
}

/**
 * The failed sends of a set, by error code (and step with `byStep`), most frequent first, at most
 * `limit` (100) groups. `Status = 'failed'` is a literal, so the filtered index
 * IX_WhatsAppMessages_Reference_Failed serves the sets of a reference or a sequence.
 */
export async function getSendFailures(
  db: Db,
  params: { set: SendSet; byStep?: boolean; limit?: number },
): Promise<SendFailureCount[]> {
  const { from, where } = sendSource(db, params.set);
  const step = params.byStep ? col(M, 'StepIndex') : sql`null`;
  const groups = params.byStep ? sql`${col(M, 'StepIndex')}, ${col(M, 'ErrorCode')}` : col(M, 'ErrorCode');
  const limit = Math.max(1, Math.min(params.limit ?? 100, 1_000));
  const top = db.dialect === 'mssql' ? sql`top (${sql.raw(String(limit))}) ` : sql``;
  const tail = db.dialect === 'mssql' ? sql`` : sql` limit ${sql.raw(String(limit))}`;
  // Ordered by count(*) itself: SQL Server cannot order by an alias inside an expression.
  const query = sql`select ${top}${as(step, 'stepIndex')}, ${as(col(M, 'ErrorCode'), 'errorCode')}, ${as(
    sql`max(${col(M, 'ErrorMessage')})`,
    'errorMessage',
  )}, ${as(sql`count(*)`, 'count')} from ${from} where ${where} and ${col(M, 'Status')} = 'failed' group by ${groups} order by count(*) desc, ${col(M, 'ErrorCode')}${tail}`;
  const rows = await selectRows<Record<string, unknown>>(db, query);
  return rows.map((row) => ({
    stepIndex: row.stepIndex === null || row.stepIndex === undefined ? null : Number(row.stepIndex),
    errorCode: (row.errorCode as string | null) ?? null,
    errorMessage: (row.errorMessage as string | null) ?? null,
    count: Number(row.count),
  }));
}

// ---------------------------------------------------------------------------------------------
// Drip sequences.

export interface DripOutcomeCount {
  status: AssignmentStatus;
  /** Why a cancelled drip stopped (`replied`, `opted_out`, `cancelled_by_user`…); null otherwise. */
  stopReason: string | null;
  count: number;
  /** The most steps any of these assignments was given (versions of a sequence may differ). */
  maxSteps: number;
}

/** The sequence's assignments by status and stop reason (IX_LeadDripAssignment_Sequence_Outcome alone). */
export async function getDripOutcomes(db: Db, params: { sequenceId: number }): Promise<DripOutcomeCount[]> {
  const t = db.schema.leadDripAssignments;
  const rows = await db.orm
    .select({ status: t.status, stopReason: t.stopReason, count: count(), maxSteps: max(t.totalSteps) })
    .from(t)
    .where(eq(t.sequenceId, params.sequenceId))
    .groupBy(t.status, t.stopReason)
    .orderBy(t.status, t.stopReason);
  return rows.map((row) => ({ ...row, count: Number(row.count), maxSteps: Number(row.maxSteps ?? 0) }));
}

// ---------------------------------------------------------------------------------------------
// KPIs.

export interface MonthlyContacts {
  /** The month's first instant (UTC), or the period's start for its first, partial month. */
  from: Date;
  /** The next month's first instant, or the period's end for its last, partial month. */
  to: Date;
  /** Contacts created in [from, to). */
  created: number;
  /** Contacts that existed before `from`. */
  totalBefore: number;
}

export interface ContactGrowth {
  /** Contacts created before the period's end. */
  total: number;
  /** Contacts created before the period's start. */
  totalAtStart: number;
  months: MonthlyContacts[];
}

/** [from, to) cut at each UTC month boundary. */
export function monthsOf(from: Date, to: Date): { from: Date; to: Date }[] {
  const months: { from: Date; to: Date }[] = [];
  let start = from;
  while (start < to) {
    const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    const end = next < to ? next : to;
    months.push({ from: start, to: end });
    start = end;
  }
  return months;
}

/**
 * Contacts before the period, and created in each of its months, in one pass over
 * IX_Clients_CreatedAt (a conditional sum per month; a period of 400 days has at most 15).
 */
export async function getContactGrowth(db: Db, params: { from: Date; to: Date }): Promise<ContactGrowth> {
  const c = db.schema.clients;
  const months = monthsOf(params.from, params.to);
  const sums: Record<string, SQL<number>> = { before: sql<number>`sum(${flag(lt(c.createdAt, params.from)!)})` };
  months.forEach((month, i) => {
    sums[`m${i}`] = sql<number>`sum(${flag(and(gte(c.createdAt, month.from), lt(c.createdAt, month.to))!)})`;
  });
  const [row] = (await db.orm
    .select({ total: count(), ...sums })
    .from(c)
    .where(lt(c.createdAt, params.to))) as Record<string, unknown>[];
  const totalAtStart = Number(row?.before ?? 0);
  let running = totalAtStart;
  return {
    total: Number(row?.total ?? 0),
    totalAtStart,
    months: months.map((month, i) => {
      const created = Number(row?.[`m${i}`] ?? 0);
      const entry = { ...month, created, totalBefore: running };
      running += created;
      return entry;
    }),
  };
}

/** The partial (filtered) index of the answered inbound messages in ResponseMs order (migration 0053). */
const RESPONSE_MS_INDEX = 'IX_WhatsAppMessages_Incoming_ResponseMs';
/** A period with at least this share of all answered inbound messages reads its ranks in index order. */
const WALK_SHARE = 0.1;
/** Below this many answered messages the period's sort costs less than counting the index to decide. */
const MIN_ANSWERED_TO_WALK = 1_000;

/** `indexed by` (SQLite) or `with (index(…))` (SQL Server) after a table and its alias. */
const indexHint = (db: Db, index: string): SQL =>
  db.dialect === 'mssql' ? sql` with (index(${sql.identifier(index)}))` : sql` indexed by ${sql.identifier(index)}`;

/** Every answered inbound message of a lead, counted from RESPONSE_MS_INDEX alone (its filter, as literals). */
async function countAnswered(db: Db): Promise<number> {
  const i = (column: string) => col('i', column);
  const [row] = await selectRows<{ answered: unknown }>(
    db,
    sql`select ${as(sql`count(*)`, 'answered')} from ${sql.identifier(MESSAGES)} ${sql.identifier('i')} where ${i('Direction')} = 'incoming' and ${i('ResponseMs')} is not null and ${i('LeadId')} is not null`,
  );
  return Number(row?.answered ?? 0);
}

export interface ResponseTimes {
  /** Incoming messages from leads stored in the period. */
  inbound: number;
  /** Of those, the ones an outgoing message to the same lead followed (at any time after). */
  answered: number;
  /** Nearest-rank percentiles of the time from an inbound message to the next outgoing one, in ms. */
  medianMs: number | null;
  p90Ms: number | null;
}

/**
 * Response time: for each incoming message of a lead stored in [from, to), the time until the next
 * outgoing message to that lead (any send: a reply typed by an agent, or the next automated step),
 * which the log keeps as the message's ResponseMs. The period's inbound messages are counted from
 * IX_WhatsAppMessages_Direction_CreatedAt_Replies alone, and each percentile is the value at its nearest rank, ceil(n × p), taken in SQL as one row at an offset of
 * the times in order (from the slower end for a rank past the middle, so the fewest rows are read
 * before it); no list of times leaves the database, and both dialects agree exactly.
 *
 * Which order the rank is read in depends on the period's share of all answered inbound messages.
 * A short period is sorted (its rows from the period's index, ordered in a temporary B-tree). A
 * long one walks IX_WhatsAppMessages_Incoming_ResponseMs (migration 0053), already in ResponseMs
 * order, and skips the rows outside the period from the index itself: about 0.6 of that index is
 * walked for both ranks whatever the period, and a walk costs a fraction of a sort per row, so it
 * wins once the period holds WALK_SHARE of the index, and at worst (the period's times all at the
 * far end) costs about what the sort would. The planners cost the two by statistics that may be
 * missing or stale and pick the sort for long periods, so the index is named (INDEXED BY, WITH
 * (INDEX)); the share is counted from that index only for a period with MIN_ANSWERED_TO_WALK
 * answered messages or more, below which the sort is cheaper than the count.
 */
export async function getResponseTimes(db: Db, params: { from: Date; to: Date }): Promise<ResponseTimes> {
  const i = (column: string) => col('i', column);
  const period = sql`where ${i('Direction')} = 'incoming' and ${i('CreatedAt')} >= ${at(db, params.from)} and ${i('CreatedAt')} < ${at(db, params.to)} and ${i('LeadId')} is not null`;
  const inbound = sql`${sql.identifier(MESSAGES)} ${sql.identifier('i')} ${period}`;
  const periodAnswered = sql`${period} and ${i('ResponseMs')} is not null`;
  const [counts] = await selectRows<{ inbound: unknown; answered: unknown }>(
    db,
    sql`select ${as(sql`count(*)`, 'inbound')}, ${as(sql`count(${i('ResponseMs')})`, 'answered')} from ${inbound}`,
  );
  const answered = Number(counts?.answered ?? 0);
  if (answered === 0) return { inbound: Number(counts?.inbound ?? 0), answered, medianMs: null, p90Ms: null };
  const byResponseMs = answered >= MIN_ANSWERED_TO_WALK && answered >= WALK_SHARE * (await countAnswered(db));
  const source = sql`${sql.identifier(MESSAGES)} ${sql.identifier('i')}${byResponseMs ? indexHint(db, RESPONSE_MS_INDEX) : sql``} ${periodAnswered}`;
  // The time at 1-based rank `rank` among the answered ones, fastest first.
  const atRank = async (rank: number): Promise<number | null> => {
    const fromSlowest = rank > answered / 2;
    const offset = sql.raw(String(fromSlowest ? answered - rank : rank - 1));
    const order = sql`${i('ResponseMs')}${fromSlowest ? sql` desc` : sql``}`;
    const page =
      db.dialect === 'mssql'
        ? sql`order by ${order} offset ${offset} rows fetch next 1 rows only`
        : sql`order by ${order} limit 1 offset ${offset}`;
    const [row] = await selectRows<{ ms: unknown }>(
      db,
      sql`select ${as(i('ResponseMs'), 'ms')} from ${source} ${page}`,
    );
    return row ? Number(row.ms) : null;
  };
  const [medianMs, p90Ms] = await Promise.all([
    atRank(Math.floor((answered + 1) / 2)),
    atRank(Math.floor((9 * answered + 9) / 10)),
  ]);
  return { inbound: Number(counts?.inbound ?? 0), answered, medianMs, p90Ms };
}

export interface RunningCounts {
  /** Drip assignments pending, active or paused. */
  drips: number;
  /** Campaigns scheduled, running or paused. */
  campaigns: number;
  /** CTA flows not archived, and their runs still waiting for an answer (pending, sent, reminded). */
  ctaFlows: number;
  ctaRunsOpen: number;
}

/**
 * What is running now. Drips are counted through the filtered unique index of live assignments
 * (its filter is written out as literals so both planners can use it); open CTA runs through
 * IX_CtaFlowRuns_Status.
 */
export async function getRunningCounts(db: Db): Promise<RunningCounts> {
  const a = db.schema.leadDripAssignments;
  const f = db.schema.ctaFlows;
  const r = db.schema.ctaFlowRuns;
  const live = sql.raw(ACTIVE_ASSIGNMENT_STATUSES.map((s) => `'${s}'`).join(', '));
  const [drips] = await db.orm
    .select({ n: count() })
    .from(a)
    .where(sql`${a.status} in (${live})`);
  const [flows] = await db.orm
    .select({ n: count() })
    .from(f)
    .where(sql`${f.archivedAt} is null`);
  const [runs] = await db.orm
    .select({ n: count() })
    .from(r)
    .where(inArray(r.status, ['pending', 'sent', 'reminded']));
  const c = db.schema.campaigns;
  const [campaigns] = await db.orm
    .select({ n: count() })
    .from(c)
    .where(inArray(c.status, [...LIVE_CAMPAIGN_STATUSES]));
  return {
    drips: Number(drips?.n ?? 0),
    campaigns: Number(campaigns?.n ?? 0),
    ctaFlows: Number(flows?.n ?? 0),
    ctaRunsOpen: Number(runs?.n ?? 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Conversations.

type MessageRow = typeof whatsAppMessages.$inferSelect;

export interface ConversationMessage extends Pick<
  MessageRow,
  | 'id'
  | 'direction'
  | 'status'
  | 'templateName'
  | 'templateLanguage'
  | 'mediaUrl'
  | 'referenceType'
  | 'referenceId'
  | 'stepIndex'
  | 'sentAt'
  | 'deliveredAt'
  | 'readAt'
  | 'failedAt'
  | 'errorCode'
  | 'errorMessage'
  | 'createdAt'
> {
  content: Record<string, unknown>;
}

/** A position in a conversation: the (CreatedAt, Id) of the last message of the page before. */
export interface ConversationCursor {
  at: Date;
  id: number;
}

export interface ListConversationParams {
  leadId: number;
  /** Messages strictly after this position (in the order asked for). */
  after?: ConversationCursor;
  /** `asc`: oldest first, the order the conversation happened; `desc`: newest first. */
  order: 'asc' | 'desc';
  limit: number;
}

/**
 * One lead's messages in both directions, in (CreatedAt, Id) order, a keyset page at a time: a
 * page starts strictly after the cursor, so a message stored while someone pages is never skipped
 * or shown twice, and every page is one seek on IX_WhatsAppMessages_Lead_CreatedAt (whose rows
 * carry the Id). The lead's phone is not part of a message here.
 */
export async function listConversation(db: Db, params: ListConversationParams): Promise<ConversationMessage[]> {
  const t = db.schema.whatsAppMessages;
  const columns = {
    id: t.id,
    direction: t.direction,
    status: t.status,
    templateName: t.templateName,
    templateLanguage: t.templateLanguage,
    messageContent: t.messageContent,
    mediaUrl: t.mediaUrl,
    referenceType: t.referenceType,
    referenceId: t.referenceId,
    stepIndex: t.stepIndex,
    sentAt: t.sentAt,
    deliveredAt: t.deliveredAt,
    readAt: t.readAt,
    failedAt: t.failedAt,
    errorCode: t.errorCode,
    errorMessage: t.errorMessage,
    createdAt: t.createdAt,
  };
  const conditions: (SQL | undefined)[] = [eq(t.leadId, params.leadId)];
  const after = params.after;
  if (after) {
    // The bound on CreatedAt alone lets the seek start at the cursor; the OR settles equal times by Id.
    const [beyond, from] = params.order === 'asc' ? [gt, gte] : [lt, lte];
    conditions.push(from(t.createdAt, after.at), or(beyond(t.createdAt, after.at), beyond(t.id, after.id)));
  }
  const direction = params.order === 'asc' ? asc : desc;
  const order = [direction(t.createdAt), direction(t.id)];
  let rows: (Omit<ConversationMessage, 'content'> & { messageContent: string })[];
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    rows = await orm
      .select(columns as never)
      .from(schema.whatsAppMessages)
      .where(and(...conditions))
      .orderBy(...(order as never[]))
      .offset(0)
      .fetch(params.limit);
  } else {
    rows = await db.orm
      .select(columns)
      .from(t)
      .where(and(...conditions))
      .orderBy(...order)
      .limit(params.limit);
  }
  return rows.map(({ messageContent, ...row }) => ({
    ...row,
    content: parseJson<Record<string, unknown>>(messageContent, 'WhatsAppMessages.MessageContent'),
  }));
}
