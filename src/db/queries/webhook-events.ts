/**
 * The webhook event ledger: one row per provider event we accepted. Its unique index on
 * (Provider, DedupeKey) is what makes a redelivered event a no-op, in every process and across
 * restarts.
 */
import { and, asc, desc, eq, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { webhookEvents } from '../schema/sqlite';
import { chunk, firstOrThrow, MAX_IDS_PER_STATEMENT, type Page, type PageParams, selectPage } from './common';

export type WebhookEvent = typeof webhookEvents.$inferSelect;

/**
 * What applying the event did: `applied` changed a message, `unchanged` matched one that was
 * already at or past it, `unknown_message` matched none (kept so a later redelivery can retry),
 * `stored` wrote an incoming message, `recorded` is an event kept for the record only (an
 * account-level error), `unknown_template` named a template Message Master does not have.
 */
export type WebhookOutcome =
  'applied' | 'unchanged' | 'unknown_message' | 'unknown_template' | 'stored' | 'pending' | 'recorded';

/** Outcome of an event stored but not applied yet (see src/webhooks/queue.ts). */
export const PENDING_OUTCOME = 'pending';

export interface RecordWebhookEventParams {
  provider: string;
  /** Unique per provider; the same event delivered twice has the same key. */
  dedupeKey: string;
  eventType: string;
  providerMessageId: string | null;
  messageId: number | null;
  outcome: WebhookOutcome;
  receivedAt: Date;
  /** The event as received (JSON text), kept for audit and replays. */
  payload: string;
}

export interface RecordWebhookEventResult {
  /** True when an event with this key was already recorded; nothing was written. */
  duplicate: boolean;
  id?: number;
}

export interface ListWebhookEventsParams extends PageParams {
  provider?: string;
  providerMessageId?: string;
}

/** Inserts the event; a unique violation on (provider, dedupeKey) means it was seen before. */
export async function recordWebhookEvent(db: Db, params: RecordWebhookEventParams): Promise<RecordWebhookEventResult> {
  const values = { ...params };
  try {
    if (db.dialect === 'mssql') {
      const { orm, schema } = asMssql(db);
      const row = firstOrThrow(
        await orm.insert(schema.webhookEvents).output({ id: schema.webhookEvents.id }).values(values),
        'insert WebhookEvents',
      );
      return { duplicate: false, id: row.id };
    }
    const t = db.schema.webhookEvents;
    const row = firstOrThrow(await db.orm.insert(t).values(values).returning({ id: t.id }), 'insert WebhookEvents');
    return { duplicate: false, id: row.id };
  } catch (err) {
    if (isUniqueViolation(err)) return { duplicate: true };
    throw err;
  }
}

export async function findWebhookEvent(
  db: Db,
  params: { provider: string; dedupeKey: string },
): Promise<WebhookEvent | undefined> {
  const t = db.schema.webhookEvents;
  const [row] = await db.orm
    .select()
    .from(t)
    .where(and(eq(t.provider, params.provider), eq(t.dedupeKey, params.dedupeKey)));
  return row;
}

/**
 * Records what a retried event finally did: an event first recorded as `unknown_message` (its
 * message was not in the log yet) that matches on redelivery.
 */
export async function updateWebhookEventOutcome(
  db: Db,
  params: { id: number; outcome: WebhookOutcome; messageId: number | null },
): Promise<void> {
  const t = db.schema.webhookEvents;
  await db.orm.update(t).set({ outcome: params.outcome, messageId: params.messageId }).where(eq(t.id, params.id));
}

/** Newest first. */
export async function listWebhookEvents(db: Db, params: ListWebhookEventsParams): Promise<Page<WebhookEvent>> {
  const t = db.schema.webhookEvents;
  const conditions: SQL[] = [];
  if (params.provider !== undefined) conditions.push(eq(t.provider, params.provider));
  if (params.providerMessageId !== undefined) conditions.push(eq(t.providerMessageId, params.providerMessageId));
  const where = and(...conditions);

  return selectPage(db, 'webhookEvents', params, { where, orderBy: (t) => [desc(t.id)] });
}

/** A status event to store as pending: applied later by the processor from `statusEvent`. */
export interface PendingWebhookEvent {
  provider: string;
  dedupeKey: string;
  eventType: string;
  providerMessageId: string | null;
  receivedAt: Date;
  payload: string;
  /** The parsed event (JSON) the processor applies. */
  statusEvent: string;
}

/** Rows per multi-row insert on SQL Server: 8 parameters each, under its 2,100 limit. */
const PENDING_ROWS_PER_MSSQL_INSERT = 200;

const pendingKey = (provider: string, dedupeKey: string): string => `${provider}\u0000${dedupeKey}`;

/**
 * Stores many events as 'pending' in one statement (per chunk); an event whose (provider,
 * dedupeKey) is already stored is skipped. Returns the new ids by position (undefined for a
 * duplicate). A duplicate of an event recorded as `unknown_message` is put back to 'pending', so
 * a redelivery after its message turned up applies it (as before the queue). Call it inside a
 * transaction. The events must have distinct keys.
 *
 * SQLite: INSERT … ON CONFLICT (Provider, DedupeKey) DO NOTHING RETURNING. SQL Server has no
 * ON CONFLICT: INSERT … OUTPUT … SELECT … FROM (VALUES …) WHERE NOT EXISTS, with UPDLOCK,
 * HOLDLOCK on the probe so two processes inserting the same key serialise instead of one failing.
 */
export async function insertPendingWebhookEvents(
  db: Db,
  events: readonly PendingWebhookEvent[],
): Promise<(number | undefined)[]> {
  const ids = new Map<string, number>();
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.webhookEvents;
    for (const part of chunk(events, PENDING_ROWS_PER_MSSQL_INSERT)) {
      const values = sql.join(
        part.map(
          (e) =>
            sql`(${e.provider}, ${e.dedupeKey}, ${e.eventType}, ${e.providerMessageId}, ${PENDING_OUTCOME}, ${e.receivedAt}, ${e.payload}, ${e.statusEvent})`,
        ),
        sql`, `,
      );
      const rows = (await orm.execute(
        sql.join(
          [
            sql`insert into ${m} ([Provider], [DedupeKey], [EventType], [ProviderMessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent])`,
            sql`output INSERTED.[Id] as [id], INSERTED.[Provider] as [provider], INSERTED.[DedupeKey] as [dedupeKey]`,
            sql`select v.[Provider], v.[DedupeKey], v.[EventType], v.[ProviderMessageId], v.[Outcome], v.[ReceivedAt], v.[Payload], v.[StatusEvent]`,
            sql`from (values ${values}) as v ([Provider], [DedupeKey], [EventType], [ProviderMessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent])`,
            sql`where not exists (select 1 from ${m} as w with (updlock, holdlock) where w.[Provider] = v.[Provider] and w.[DedupeKey] = v.[DedupeKey])`,
          ],
          sql` `,
        ),
        'objects',
      )) as { id: number; provider: string; dedupeKey: string }[];
      for (const row of rows) ids.set(pendingKey(row.provider, row.dedupeKey), row.id);
    }
  } else {
    const t = db.schema.webhookEvents;
    const rows = await db.orm
      .insert(t)
      .values(events.map((e) => ({ ...e, messageId: null, outcome: PENDING_OUTCOME })))
      .onConflictDoNothing({ target: [t.provider, t.dedupeKey] })
      .returning({ id: t.id, provider: t.provider, dedupeKey: t.dedupeKey });
    for (const row of rows) ids.set(pendingKey(row.provider, row.dedupeKey), row.id);
  }

  const duplicates = events.filter((e) => !ids.has(pendingKey(e.provider, e.dedupeKey)));
  const byProvider = new Map<string, string[]>();
  for (const e of duplicates) byProvider.set(e.provider, [...(byProvider.get(e.provider) ?? []), e.dedupeKey]);
  const t = db.schema.webhookEvents;
  for (const [provider, keys] of byProvider) {
    for (const part of chunk(keys, MAX_IDS_PER_STATEMENT)) {
      await db.orm
        .update(t)
        .set({ outcome: PENDING_OUTCOME })
        .where(
          and(
            eq(t.provider, provider),
            inArray(t.dedupeKey, part),
            eq(t.outcome, 'unknown_message'),
            isNotNull(t.statusEvent),
          ),
        );
    }
  }
  return events.map((e) => ids.get(pendingKey(e.provider, e.dedupeKey)));
}

export interface PendingWebhookEventRow {
  id: number;
  provider: string;
  statusEvent: string | null;
}

/**
 * The oldest pending events, by id. The condition is a literal so SQLite can use the partial
 * index IX_WebhookEvents_Pending (a bound parameter would not match its WHERE).
 */
export async function listPendingWebhookEvents(db: Db, limit: number): Promise<PendingWebhookEventRow[]> {
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.webhookEvents;
    return orm
      .select({ id: m.id, provider: m.provider, statusEvent: m.statusEvent })
      .from(m)
      .where(sql`${m.outcome} = N'pending'`)
      .orderBy(asc(m.id))
      .offset(0)
      .fetch(limit);
  }
  const t = db.schema.webhookEvents;
  return db.orm
    .select({ id: t.id, provider: t.provider, statusEvent: t.statusEvent })
    .from(t)
    .where(sql`${t.outcome} = 'pending'`)
    .orderBy(asc(t.id))
    .limit(limit);
}

/**
 * Records what applying pending events did, in one UPDATE per chunk (CASE Id WHEN … THEN …).
 * Only rows still 'pending' change: another processor that got there first keeps its record.
 * Ids and message ids are integers and outcomes a fixed set, so they are inlined, not bound.
 */
export async function setWebhookEventOutcomes(
  db: Db,
  rows: readonly { id: number; outcome: WebhookOutcome; messageId: number | null }[],
): Promise<void> {
  const t = db.schema.webhookEvents;
  const int = (n: number) => {
    if (!Number.isSafeInteger(n)) throw new Error(`not an integer id: ${n}`);
    return sql.raw(String(n));
  };
  const outcomes: readonly WebhookOutcome[] = ['applied', 'unchanged', 'unknown_message', 'stored', 'pending'];
  for (const part of chunk(rows, MAX_IDS_PER_STATEMENT)) {
    const outcomeCases = sql.join(
      part.map((row) => {
        if (!outcomes.includes(row.outcome)) throw new Error(`not an outcome: ${row.outcome}`);
        return sql`when ${int(row.id)} then ${sql.raw(`'${row.outcome}'`)}`;
      }),
      sql` `,
    );
    const withMessage = part.filter((row) => row.messageId !== null);
    const messageCases = sql.join(
      withMessage.map((row) => sql`when ${int(row.id)} then ${int(row.messageId!)}`),
      sql` `,
    );
    await db.orm
      .update(t)
      .set({
        outcome: sql`case ${t.id} ${outcomeCases} end`,
        ...(withMessage.length > 0 && { messageId: sql`case ${t.id} ${messageCases} else ${t.messageId} end` }),
      })
      .where(
        and(
          sql`${t.id} in (${sql.join(
            part.map((row) => int(row.id)),
            sql`, `,
          )})`,
          sql`${t.outcome} = ${sql.raw(db.dialect === 'mssql' ? "N'pending'" : "'pending'")}`,
        ),
      );
  }
}
