/**
 * The WhatsApp message log, which is also the send ledger that makes sends idempotent: a row is
 * claimed under the send's idempotency key before the provider is called, and every later write is
 * a conditional update, so retries, concurrent attempts and out-of-order webhooks cannot move a
 * message backwards.
 *
 * Two columns link a lead's messages across directions for the analytics (migration 0051), and are
 * kept here, in the statements that change what they depend on:
 * - FirstReplyAt, on an outgoing row: CreatedAt of the lead's first incoming row stored after the
 *   send's sent time, coalesce(SentAt, DeliveredAt, ReadAt). Recomputed (one index seek) by every
 *   update that sets one of those times; lowered by each incoming row stored, in its transaction.
 * - ResponseMs, on an incoming row: ms to the lead's first outgoing row stored after it. Lowered by
 *   each outgoing row claimed, in its transaction; computed for a new incoming row.
 * The lowering updates only ever move a value down to one that qualifies ("is null or later"), so
 * concurrent writers reach the same result in any order. They leave UpdatedAt alone: the live log
 * shows what a conversation shows, and neither column is part of that; the analytics rollup finds
 * the days they touched through the new row that caused them (analytics-days.ts).
 */
import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { asMssql, withTransaction, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { whatsAppMessages } from '../schema/sqlite';
import type { MessageDirection, MessageStatus, ReferenceType } from '../schema/values';
import {
  affectedRows,
  chunk,
  MAX_IDS_PER_STATEMENT,
  parseJson,
  type Page,
  type PageParams,
  selectPage,
  insertReturning,
} from './common';

type MessageRow = typeof whatsAppMessages.$inferSelect;

export type MessageContent = Record<string, unknown>;

export interface MessageLogRow extends Omit<MessageRow, 'messageContent'> {
  /** The values sent (header, body, buttons...), as given to claimOutgoingMessage. */
  messageContent: MessageContent;
}

export interface ClaimOutgoingMessageParams {
  idempotencyKey: string;
  leadId: number | null;
  phone: string;
  provider: string;
  templateName: string;
  templateLanguage: string;
  messageContent: MessageContent;
  referenceType: ReferenceType | null;
  referenceId: string | null;
  workflowId: string | null;
  stepIndex: number | null;
  /** Sent to the provider and echoed back in its webhooks; normally the idempotency key. */
  callbackData: string | null;
  countryCode?: string | null;
  mediaUrl?: string | null;
  campaignId?: string | null;
  /** The business number it goes from (Meta phone number id, Infobip sender), when the provider has one. */
  sender?: string | null;
}

export interface ListMessagesParams extends PageParams {
  leadId?: number;
  referenceType?: ReferenceType;
  referenceId?: string;
  status?: MessageStatus;
  templateName?: string;
  direction?: MessageDirection;
  /** CreatedAt at or after. */
  from?: Date;
  /** CreatedAt before (exclusive). */
  to?: Date;
  /** Newest first by default; `asc` reads a conversation in the order it happened. */
  order?: 'asc' | 'desc';
}

export interface ApplyMessageStatusParams {
  providerMessageId?: string;
  /** Our idempotency key echoed back by the provider; finds a row whose provider id we never learned. */
  callbackData?: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  at: Date;
  errorCode?: string;
  errorMessage?: string;
  /** The provider id to record when the row is found by callbackData and has none yet. */
  providerMessageIdToSet?: string;
}

export interface ApplyMessageStatusResult {
  matched: boolean;
  changed: boolean;
  messageId?: number;
}

/** Statuses a send attempt may start from or be confirmed from. */
const IN_FLIGHT: MessageStatus[] = ['pending', 'sending'];
/** Statuses a failure report may override: after delivery the message evidently did not fail. */
const FAILABLE: MessageStatus[] = ['pending', 'sending', 'sent'];
const PROGRESS_RANK: Record<MessageStatus, number> = {
  pending: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: -1,
};
const TIMESTAMP_OF = { sent: 'sentAt', delivered: 'deliveredAt', read: 'readAt' } as const;
/** Lost races in applyMessageStatus before giving up; each loss means another writer moved the row. */
const MAX_STATUS_ATTEMPTS = 5;

function toMessage(row: MessageRow): MessageLogRow {
  return { ...row, messageContent: parseJson<MessageContent>(row.messageContent, 'WhatsAppMessages.MessageContent') };
}

const MESSAGES = 'WhatsAppMessages';
/** A column of the row being updated, qualified so a subquery over the same table cannot capture it. */
const own = (column: string): SQL => sql`${sql.identifier(MESSAGES)}.${sql.identifier(column)}`;
/** A column of a subquery's alias. */
const of = (alias: string, column: string): SQL => sql`${sql.identifier(alias)}.${sql.identifier(column)}`;
/** A time as the dialect stores it (ms since the epoch in SQLite, datetime2 in SQL Server). */
const timeParam = (db: Db, value: Date): SQL => sql`${sql.param(value, db.schema.whatsAppMessages.createdAt)}`;

/** FirstReplyAt of the row being updated once its sent time is `sentTime`: its lead's first incoming row after it. */
function firstReplyAfter(sentTime: SQL): SQL {
  const r = (column: string) => of('r', column);
  return sql`(select min(${r('CreatedAt')}) from ${sql.identifier(MESSAGES)} ${sql.identifier('r')} where ${r('Direction')} = 'incoming' and ${r('LeadId')} = ${own('LeadId')} and ${r('CreatedAt')} > ${sentTime})`;
}

type TimeUpdate = Partial<Pick<MessageRow, 'sentAt' | 'deliveredAt' | 'readAt'>>;

/**
 * The FirstReplyAt to set with an update that sets some of SentAt, DeliveredAt and ReadAt (the
 * new sent time is their coalesce, the others keeping their values), or undefined when it sets none.
 */
function replyTimeWith(db: Db, update: TimeUpdate): SQL | undefined {
  const columns = [
    ['sentAt', 'SentAt'],
    ['deliveredAt', 'DeliveredAt'],
    ['readAt', 'ReadAt'],
  ] as const;
  if (columns.every(([key]) => update[key] === undefined || update[key] === null)) return undefined;
  const parts = columns.map(([key, column]) => {
    const value = update[key];
    return value === undefined || value === null ? own(column) : timeParam(db, value);
  });
  return firstReplyAfter(sql`coalesce(${sql.join(parts, sql`, `)})`);
}

/**
 * Returns the ledger row for this idempotency key, creating it as 'pending' if the key is new. An
 * existing row is returned untouched, whatever its status. Two concurrent claims of one key both
 * get the single row: the loser's insert hits the unique index and re-reads. A new row answers the
 * lead's incoming rows before it (their ResponseMs), in the same transaction.
 */
export async function claimOutgoingMessage(db: Db, params: ClaimOutgoingMessageParams): Promise<MessageLogRow> {
  const existing = await getMessageByKey(db, params.idempotencyKey);
  if (existing) return existing;

  const now = new Date();
  const values = {
    idempotencyKey: params.idempotencyKey,
    leadId: params.leadId,
    direction: 'outgoing' as const,
    provider: params.provider,
    phone: params.phone,
    countryCode: params.countryCode ?? null,
    templateName: params.templateName,
    templateLanguage: params.templateLanguage,
    messageContent: JSON.stringify(params.messageContent),
    mediaUrl: params.mediaUrl ?? null,
    referenceType: params.referenceType,
    referenceId: params.referenceId,
    workflowId: params.workflowId,
    stepIndex: params.stepIndex,
    callbackData: params.callbackData,
    campaignId: params.campaignId ?? null,
    sender: params.sender ?? null,
    status: 'pending' as const,
    createdAt: now,
    updatedAt: now,
  };
  try {
    return await withTransaction(db, async (tx) => {
      const row = toMessage(await insertReturning(tx, 'whatsAppMessages', values));
      if (row.leadId !== null) await answerIncoming(tx, { leadId: row.leadId, at: row.createdAt });
      return row;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const winner = await getMessageByKey(db, params.idempotencyKey);
    if (!winner) throw err;
    return winner;
  }
}

/** Milliseconds from a row's CreatedAt to `at`. */
const msSinceCreated = (db: Db, at: Date): SQL =>
  db.dialect === 'mssql'
    ? sql`datediff_big(millisecond, ${own('CreatedAt')}, ${timeParam(db, at)})`
    : sql`(${timeParam(db, at)} - ${own('CreatedAt')})`;

/**
 * An outgoing row stored at `at` answers the lead's incoming rows stored before it that no earlier
 * outgoing row answered (IX_WhatsAppMessages_Direction_Lead_CreatedAt).
 */
async function answerIncoming(db: Db, params: { leadId: number; at: Date }): Promise<void> {
  const t = db.schema.whatsAppMessages;
  const responseMs = msSinceCreated(db, params.at);
  await db.orm
    .update(t)
    .set({ responseMs: sql`${responseMs}` })
    .where(
      and(
        sql`${t.direction} = 'incoming'`,
        eq(t.leadId, params.leadId),
        lt(t.createdAt, params.at),
        or(isNull(t.responseMs), sql`${t.responseMs} > ${responseMs}`),
      ),
    );
}

/**
 * Marks the start of a provider call: 'sending', one more attempt. Only a 'pending' or 'sending'
 * row can start one; false means the row has moved on (sent, delivered, failed) or does not exist.
 */
export async function beginSendAttempt(db: Db, params: { id: number; now: Date }): Promise<boolean> {
  const t = db.schema.whatsAppMessages;
  const result = await db.orm
    .update(t)
    .set({ status: 'sending', attempts: sql`${t.attempts} + 1`, attemptStartedAt: params.now, updatedAt: params.now })
    .where(and(eq(t.id, params.id), inArray(t.status, IN_FLIGHT)));
  return affectedRows(result) > 0;
}

/**
 * Records the provider's acceptance: 'sent' with its message id. A webhook may have got there first
 * and moved the row to delivered or read; then the status stays, and only a missing provider id or
 * SentAt is filled in. Returns whether the status moved to 'sent'.
 */
export async function markMessageAccepted(
  db: Db,
  params: { id: number; providerMessageId: string; at: Date },
): Promise<boolean> {
  const t = db.schema.whatsAppMessages;
  const moved = await db.orm
    .update(t)
    .set({
      status: 'sent',
      providerMessageId: params.providerMessageId,
      sentAt: params.at,
      firstReplyAt: firstReplyAfter(timeParam(db, params.at)),
      updatedAt: params.at,
    })
    .where(and(eq(t.id, params.id), inArray(t.status, IN_FLIGHT)));
  if (affectedRows(moved) > 0) return true;

  await db.orm
    .update(t)
    .set({
      providerMessageId: sql`coalesce(${t.providerMessageId}, ${params.providerMessageId})`,
      sentAt: sql`coalesce(${t.sentAt}, ${params.at})`,
      firstReplyAt: firstReplyAfter(sql`coalesce(${own('SentAt')}, ${timeParam(db, params.at)})`),
      updatedAt: params.at,
    })
    .where(and(eq(t.id, params.id), inArray(t.status, ['delivered', 'read']), isNull(t.providerMessageId)));
  return false;
}

/** The provider refused the message for good. Never overrides a delivered or read message. */
export async function markMessageFailed(
  db: Db,
  params: { id: number; errorCode: string | null; errorMessage: string | null; at: Date },
): Promise<boolean> {
  const t = db.schema.whatsAppMessages;
  const result = await db.orm
    .update(t)
    .set({
      status: 'failed',
      errorCode: params.errorCode,
      errorMessage: params.errorMessage,
      failedAt: params.at,
      updatedAt: params.at,
    })
    .where(and(eq(t.id, params.id), inArray(t.status, FAILABLE)));
  return affectedRows(result) > 0;
}

/** The provider definitely did not take the message (retryable refusal): back to 'pending'. */
export async function releaseSendAttempt(db: Db, params: { id: number }): Promise<boolean> {
  const t = db.schema.whatsAppMessages;
  const result = await db.orm
    .update(t)
    .set({ status: 'pending', updatedAt: new Date() })
    .where(and(eq(t.id, params.id), eq(t.status, 'sending')));
  return affectedRows(result) > 0;
}

export async function getMessageByKey(db: Db, idempotencyKey: string): Promise<MessageLogRow | undefined> {
  const t = db.schema.whatsAppMessages;
  const [row] = await db.orm.select().from(t).where(eq(t.idempotencyKey, idempotencyKey));
  return row && toMessage(row);
}

export async function getMessageById(db: Db, id: number): Promise<MessageLogRow | undefined> {
  const t = db.schema.whatsAppMessages;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toMessage(row);
}

export async function listMessages(db: Db, params: ListMessagesParams): Promise<Page<MessageLogRow>> {
  const t = db.schema.whatsAppMessages;
  const conditions: SQL[] = [];
  if (params.leadId !== undefined) conditions.push(eq(t.leadId, params.leadId));
  if (params.referenceType !== undefined) conditions.push(eq(t.referenceType, params.referenceType));
  if (params.referenceId !== undefined) conditions.push(eq(t.referenceId, params.referenceId));
  if (params.status !== undefined) conditions.push(eq(t.status, params.status));
  if (params.templateName !== undefined) conditions.push(eq(t.templateName, params.templateName));
  if (params.direction !== undefined) conditions.push(eq(t.direction, params.direction));
  if (params.from !== undefined) conditions.push(gte(t.createdAt, params.from));
  if (params.to !== undefined) conditions.push(lt(t.createdAt, params.to));
  const where = and(...conditions);

  const page = await selectPage(db, 'whatsAppMessages', params, {
    where,
    orderBy: (t) => [params.order === 'asc' ? asc(t.id) : desc(t.id)],
  });
  return { ...page, items: page.items.map(toMessage) };
}

/**
 * Applies a provider status report (webhook) monotonically:
 * - the status only moves forward along pending < sending < sent < delivered < read;
 * - 'failed' overrides only pending, sending and sent (a delivered message evidently did not fail),
 *   and delivered/read, being proof of delivery, override 'failed';
 * - each status's own timestamp column is set once, by the first report of it;
 * - found by callbackData (our idempotency key) on a row that never learned its provider id, the
 *   id is filled in and a 'sending' row becomes 'sent': that is how a send whose outcome was
 *   unknown (timeout, crash) is reconciled.
 * Reports may arrive twice and out of order; applying one again changes nothing.
 */
export async function applyMessageStatus(db: Db, params: ApplyMessageStatusParams): Promise<ApplyMessageStatusResult> {
  for (let attempt = 0; attempt < MAX_STATUS_ATTEMPTS; attempt++) {
    const found = await findForStatus(db, params);
    if (!found) return { matched: false, changed: false };
    const { row, byCallback } = found;

    const update = nextState(row, params, byCallback);
    if (!update) return { matched: true, changed: false, messageId: row.id };

    // Optimistic: the update applies only if nothing it decided on has changed since the read.
    const t = db.schema.whatsAppMessages;
    const guards: SQL[] = [eq(t.id, row.id), eq(t.status, row.status)];
    for (const column of ['sentAt', 'deliveredAt', 'readAt', 'failedAt', 'providerMessageId'] as const) {
      if (update[column] !== undefined) guards.push(isNull(t[column]));
    }
    const firstReplyAt = replyTimeWith(db, update);
    const result = await db.orm
      .update(t)
      .set({ ...update, ...(firstReplyAt && { firstReplyAt }), updatedAt: new Date() })
      .where(and(...guards));
    if (affectedRows(result) > 0) return { matched: true, changed: true, messageId: row.id };
  }
  throw new Error(
    `applyMessageStatus lost ${MAX_STATUS_ATTEMPTS} races in a row for ${params.providerMessageId ?? params.callbackData}`,
  );
}

/** One report's result in applyMessageStatusBatch, as applyMessageStatus would give it. */
export interface BatchStatusResult {
  matched: boolean;
  changed: boolean;
  messageId?: number;
}

/**
 * applyMessageStatus for many reports at once, in order, with the same monotone rules: one read
 * of every message named by provider id, the reports folded in memory (several reports of one
 * message in a batch become one change), then the writes. Call it inside a transaction.
 *
 * SQLite: the caller's transaction holds the file's write lock from BEGIN (no other writer, in
 * this process or another, can move a row between the read and the write), so the changes go out
 * as one set-based UPDATE … CASE Id WHEN … per batch. SQL Server reads without that lock, so each
 * changed message gets its own optimistic guarded update there. Reports found only by
 * callbackData, and a message whose guard lost a race, go through applyMessageStatus one by one.
 */
export async function applyMessageStatusBatch(
  db: Db,
  reports: readonly ApplyMessageStatusParams[],
): Promise<BatchStatusResult[]> {
  const t = db.schema.whatsAppMessages;
  const results: (BatchStatusResult | undefined)[] = reports.map(() => undefined);
  const providerIds = [...new Set(reports.map((r) => r.providerMessageId).filter((id): id is string => Boolean(id)))];
  const columns = statusColumns(t);
  const byProviderId = new Map<string, StatusRow>();
  for (const part of chunk(providerIds, MAX_IDS_PER_STATEMENT)) {
    for (const row of await db.orm.select(columns).from(t).where(inArray(t.providerMessageId, part))) {
      if (row.providerMessageId !== null) byProviderId.set(row.providerMessageId, row);
    }
  }

  interface Pending {
    original: StatusRow;
    current: StatusRow;
    update: StatusUpdate;
    reports: number[];
  }
  const changes = new Map<number, Pending>();
  const oneByOne: number[] = [];
  reports.forEach((report, index) => {
    const original = report.providerMessageId ? byProviderId.get(report.providerMessageId) : undefined;
    if (!original) {
      oneByOne.push(index);
      return;
    }
    let pending = changes.get(original.id);
    const current = pending?.current ?? original;
    const update = nextState(current, report, false);
    if (!update) {
      results[index] = { matched: true, changed: false, messageId: original.id };
      return;
    }
    if (!pending) {
      pending = { original, current: { ...original }, update: {}, reports: [] };
      changes.set(original.id, pending);
    }
    Object.assign(pending.update, update);
    Object.assign(pending.current, update);
    pending.reports.push(index);
    results[index] = { matched: true, changed: true, messageId: original.id };
  });

  const now = new Date();
  if (changes.size > 0 && db.dialect === 'sqlite') {
    await setMessagesByCase(
      db,
      [...changes].map(([id, c]) => ({ id, update: c.update })),
      now,
    );
  } else {
    for (const [id, change] of changes) {
      const guards: SQL[] = [eq(t.id, id), eq(t.status, change.original.status)];
      for (const column of ['sentAt', 'deliveredAt', 'readAt', 'failedAt', 'providerMessageId'] as const) {
        if (change.update[column] !== undefined) guards.push(isNull(t[column]));
      }
      const firstReplyAt = replyTimeWith(db, change.update);
      const result = await db.orm
        .update(t)
        .set({ ...change.update, ...(firstReplyAt && { firstReplyAt }), updatedAt: now })
        .where(and(...guards));
      if (affectedRows(result) === 0) oneByOne.push(...change.reports);
    }
  }

  for (const index of oneByOne.sort((a, b) => a - b)) results[index] = await applyMessageStatus(db, reports[index]!);
  return results.map((r) => r!);
}

const CASE_COLUMNS = [
  'status',
  'sentAt',
  'deliveredAt',
  'readAt',
  'failedAt',
  'providerMessageId',
  'errorCode',
  'errorMessage',
] as const;

/**
 * One UPDATE for many rows: each column set by CASE Id WHEN … THEN … ELSE the column END, and
 * FirstReplyAt recomputed for the rows whose sent time may move.
 */
async function setMessagesByCase(db: Db, rows: { id: number; update: StatusUpdate }[], now: Date): Promise<void> {
  const t = db.schema.whatsAppMessages;
  for (const part of chunk(rows, 200)) {
    const set: Record<string, SQL> = {};
    for (const column of CASE_COLUMNS) {
      const whens = part
        .filter((row) => row.update[column] !== undefined)
        .map((row) => sql`when ${row.id} then ${sql.param(row.update[column], t[column])}`);
      if (whens.length > 0) set[column] = sql`case ${t.id} ${sql.join(whens, sql` `)} else ${t[column]} end`;
    }
    const replyWhens = part.flatMap((row) => {
      const firstReplyAt = replyTimeWith(db, row.update);
      return firstReplyAt ? [sql`when ${row.id} then ${firstReplyAt}`] : [];
    });
    if (replyWhens.length > 0)
      set.firstReplyAt = sql`case ${t.id} ${sql.join(replyWhens, sql` `)} else ${t.firstReplyAt} end`;
    await db.orm
      .update(t)
      .set({ ...set, updatedAt: now })
      .where(
        inArray(
          t.id,
          part.map((row) => row.id),
        ),
      );
  }
}

/** The columns a status report is decided on (webhooks hit this path hard: read no more). */
const statusColumns = (t: Db['schema']['whatsAppMessages']) => ({
  id: t.id,
  status: t.status,
  providerMessageId: t.providerMessageId,
  sentAt: t.sentAt,
  deliveredAt: t.deliveredAt,
  readAt: t.readAt,
  failedAt: t.failedAt,
});
type StatusRow = Pick<MessageRow, keyof ReturnType<typeof statusColumns>>;

async function findForStatus(
  db: Db,
  params: ApplyMessageStatusParams,
): Promise<{ row: StatusRow; byCallback: boolean } | undefined> {
  const t = db.schema.whatsAppMessages;
  const columns = statusColumns(t);
  if (params.providerMessageId) {
    const [row] = await db.orm.select(columns).from(t).where(eq(t.providerMessageId, params.providerMessageId));
    if (row) return { row, byCallback: false };
  }
  if (params.callbackData) {
    const [row] = await db.orm
      .select(columns)
      .from(t)
      .where(and(eq(t.callbackData, params.callbackData), eq(t.direction, 'outgoing')));
    if (row) return { row, byCallback: true };
  }
  return undefined;
}

type StatusUpdate = Partial<
  Pick<
    MessageRow,
    'status' | 'sentAt' | 'deliveredAt' | 'readAt' | 'failedAt' | 'providerMessageId' | 'errorCode' | 'errorMessage'
  >
>;

/** What the report changes on this row, or undefined when it changes nothing. */
function nextState(row: StatusRow, params: ApplyMessageStatusParams, byCallback: boolean): StatusUpdate | undefined {
  const update: StatusUpdate = {};
  let status = row.status;

  const learnedId = params.providerMessageIdToSet ?? params.providerMessageId;
  if (byCallback && row.providerMessageId === null && learnedId) {
    update.providerMessageId = learnedId;
    if (status === 'sending') status = 'sent';
  }

  if (params.status === 'failed') {
    if (FAILABLE.includes(status)) {
      status = 'failed';
      if (row.failedAt === null) update.failedAt = params.at;
      if (params.errorCode !== undefined) update.errorCode = params.errorCode;
      if (params.errorMessage !== undefined) update.errorMessage = params.errorMessage;
    }
  } else {
    const forward =
      status === 'failed' ? params.status !== 'sent' : PROGRESS_RANK[params.status] > PROGRESS_RANK[status];
    if (forward) status = params.status;
    // Recorded even when the status is already past it: a late 'delivered' still says when.
    const column = TIMESTAMP_OF[params.status];
    if (row[column] === null) update[column] = params.at;
  }
  if (status === 'sent' && row.sentAt === null) update.sentAt ??= params.at;
  if (status !== row.status) update.status = status;

  return Object.keys(update).length > 0 ? update : undefined;
}

export interface ListMessagesChangedSinceParams {
  /** Keyset cursor: rows with (UpdatedAt, Id) after (since, afterId). */
  since: Date;
  afterId: number;
  /** Only rows with UpdatedAt at or before this time (lets late writers settle; see live-log.ts). */
  until?: Date;
  leadId?: number;
  limit: number;
}

/**
 * Messages created or changed after a (UpdatedAt, Id) cursor, in cursor order: what the live log
 * tails. Every write to a message row bumps UpdatedAt, in both processes that write them.
 */
export async function listMessagesChangedSince(
  db: Db,
  params: ListMessagesChangedSinceParams,
): Promise<MessageLogRow[]> {
  const t = db.schema.whatsAppMessages;
  const conditions: SQL[] = [
    or(gt(t.updatedAt, params.since), and(eq(t.updatedAt, params.since), gt(t.id, params.afterId)))!,
  ];
  if (params.until !== undefined) conditions.push(lte(t.updatedAt, params.until));
  if (params.leadId !== undefined) conditions.push(eq(t.leadId, params.leadId));
  const where = and(...conditions);

  let rows: MessageRow[];
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.whatsAppMessages;
    rows = await orm.select().from(m).where(where).orderBy(asc(m.updatedAt), asc(m.id)).offset(0).fetch(params.limit);
  } else {
    rows = await db.orm.select().from(t).where(where).orderBy(asc(t.updatedAt), asc(t.id)).limit(params.limit);
  }
  return rows.map(toMessage);
}

export interface InsertIncomingMessageParams {
  provider: string;
  providerMessageId: string;
  /** E.164 when it could be normalised, else the number (or user id) as the provider gave it. */
  phone: string;
  /** `+91` for an E.164 phone; null otherwise. */
  countryCode?: string | null;
  leadId: number | null;
  messageContent: MessageContent;
  mediaUrl?: string | null;
  /** When the provider received it from the customer. */
  receivedAt: Date;
}

/**
 * Stores a message a customer sent us, once per provider message id: the row's idempotency key is
 * `<provider>:in:<providerMessageId>`, so a redelivered webhook finds the first row (`created:
 * false`) instead of adding a second. In the same transaction, a new row from a lead is the first
 * reply to the lead's sends before it that none had yet (their FirstReplyAt), and takes its own
 * ResponseMs (normally none: nothing was sent after a message just stored).
 *
 * Convention for incoming rows: status 'delivered' (it reached us; nothing moves it further) with
 * DeliveredAt = when the provider received it; no template; CreatedAt = when we stored it.
 */
export async function insertIncomingMessage(
  db: Db,
  params: InsertIncomingMessageParams,
): Promise<{ message: MessageLogRow; created: boolean }> {
  const idempotencyKey = `${params.provider}:in:${params.providerMessageId}`;
  const now = new Date();
  const values = {
    idempotencyKey,
    leadId: params.leadId,
    direction: 'incoming' as const,
    provider: params.provider,
    providerMessageId: params.providerMessageId,
    phone: params.phone,
    countryCode: params.countryCode ?? null,
    messageContent: JSON.stringify(params.messageContent),
    mediaUrl: params.mediaUrl ?? null,
    status: 'delivered' as const,
    deliveredAt: params.receivedAt,
    createdAt: now,
    updatedAt: now,
  };
  try {
    const message = await withTransaction(db, async (tx) => {
      const row = toMessage(await insertReturning(tx, 'whatsAppMessages', values));
      if (row.leadId === null) return row;
      const t = tx.schema.whatsAppMessages;
      const sentTime = sql`coalesce(${t.sentAt}, ${t.deliveredAt}, ${t.readAt})`;
      await tx.orm
        .update(t)
        .set({ firstReplyAt: row.createdAt })
        .where(
          and(
            sql`${t.direction} = 'outgoing'`,
            eq(t.leadId, row.leadId),
            sql`${sentTime} < ${timeParam(tx, row.createdAt)}`,
            or(isNull(t.firstReplyAt), gt(t.firstReplyAt, row.createdAt)),
          ),
        );
      // Only a send stored after `now` but committed first answers it already: null otherwise.
      const o = (column: string) => of('o', column);
      const answer = sql`(select min(${o('CreatedAt')}) from ${sql.identifier(MESSAGES)} ${sql.identifier('o')} where ${o('Direction')} = 'outgoing' and ${o('LeadId')} = ${own('LeadId')} and ${o('CreatedAt')} > ${own('CreatedAt')})`;
      const responseMs =
        tx.dialect === 'mssql'
          ? sql`datediff_big(millisecond, ${own('CreatedAt')}, ${answer})`
          : sql`(${answer} - ${own('CreatedAt')})`;
      await tx.orm
        .update(t)
        .set({ responseMs: sql`${responseMs}` })
        .where(eq(t.id, row.id));
      return row;
    });
    return { message, created: true };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const existing = await getMessageByKey(db, idempotencyKey);
    if (!existing) throw err;
    return { message: existing, created: false };
  }
}

/**
 * A send the provider refused for good and never accepted goes back to 'pending', so a retry
 * the user asked for sends it again under the same idempotency key. A row the provider accepted
 * (it has a provider message id, whatever a webhook said since) is left alone: it went out.
 */
export async function reopenFailedMessage(db: Db, params: { id: number }): Promise<boolean> {
  const t = db.schema.whatsAppMessages;
  const result = await db.orm
    .update(t)
    .set({ status: 'pending', errorCode: null, errorMessage: null, failedAt: null, updatedAt: new Date() })
    .where(and(eq(t.id, params.id), eq(t.status, 'failed'), isNull(t.providerMessageId)));
  return affectedRows(result) > 0;
}
