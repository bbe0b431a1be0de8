/**
 * The webhook event ledger: one row per provider event we accepted. Its unique index on
 * (Provider, DedupeKey) is what makes a redelivered event a no-op, in every process and across
 * restarts.
 */
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { webhookEvents } from '../schema/sqlite';
import { firstOrThrow, pageOffset, type Page, type PageParams } from './common';

export type WebhookEvent = typeof webhookEvents.$inferSelect;

/**
 * What applying the event did: `applied` changed a message, `unchanged` matched one that was
 * already at or past it, `unknown_message` matched none (kept so a later redelivery can retry),
 * `stored` wrote an incoming message.
 */
export type WebhookOutcome = 'applied' | 'unchanged' | 'unknown_message' | 'stored';

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
      const row = firstOrThrow(await orm.insert(schema.webhookEvents).output({ id: schema.webhookEvents.id }).values(values), 'insert WebhookEvents');
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

export async function findWebhookEvent(db: Db, params: { provider: string; dedupeKey: string }): Promise<WebhookEvent | undefined> {
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
export async function updateWebhookEventOutcome(db: Db, params: { id: number; outcome: WebhookOutcome; messageId: number | null }): Promise<void> {
  const t = db.schema.webhookEvents;
  await db.orm.update(t).set({ outcome: params.outcome, messageId: params.messageId }).where(eq(t.id, params.id));
}

/** Newest first. */
export async function listWebhookEvents(db: Db, params: ListWebhookEventsParams): Promise<Page<WebhookEvent>> {
  const t = db.schema.webhookEvents;
  const offset = pageOffset(params);
  const conditions: SQL[] = [];
  if (params.provider !== undefined) conditions.push(eq(t.provider, params.provider));
  if (params.providerMessageId !== undefined) conditions.push(eq(t.providerMessageId, params.providerMessageId));
  const where = and(...conditions);

  const [totalRow] = await db.orm.select({ total: count() }).from(t).where(where);
  let rows: WebhookEvent[];
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.webhookEvents;
    rows = await orm.select().from(m).where(where).orderBy(desc(m.id)).offset(offset).fetch(params.pageSize);
  } else {
    rows = await db.orm.select().from(t).where(where).orderBy(desc(t.id)).limit(params.pageSize).offset(offset);
  }
  return { items: rows, total: totalRow?.total ?? 0, page: params.page, pageSize: params.pageSize };
}
