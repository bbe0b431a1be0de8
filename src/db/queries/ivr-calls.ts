import { and, asc, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { ivrCallLog } from '../schema/sqlite';
import type { IvrCallStatus } from '../schema/values';
import { affectedRows, type Page, type PageParams, selectPage, insertReturning } from './common';

export type IvrCall = typeof ivrCallLog.$inferSelect;
export type { IvrCallStatus };

export interface NewIvrCall {
  callId: string;
  /** As the IVR reported it. */
  callerNumber: string;
  /** E.164. */
  callerPhone: string;
  calledNumber: string;
  calledAt: Date;
  leadId: number;
  leadCreated: boolean;
}

/**
 * Logs a call once per call id. A repeat (or the loser of two identical posts racing on
 * UX_IVRCallLog_CallId) writes nothing and gets the stored row with `duplicate: true`.
 */
export async function logIvrCall(db: Db, params: NewIvrCall): Promise<{ duplicate: boolean; call: IvrCall }> {
  const values = { ...params, status: 'received' as const, createdAt: new Date() };
  try {
    return { duplicate: false, call: await insertReturning(db, 'ivrCallLog', values) };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const existing = await findIvrCallByCallId(db, params.callId);
    if (!existing) throw error;
    return { duplicate: true, call: existing };
  }
}

export async function findIvrCallByCallId(db: Db, callId: string): Promise<IvrCall | undefined> {
  const { ivrCallLog } = db.schema;
  const [row] = await db.orm.select().from(ivrCallLog).where(eq(ivrCallLog.callId, callId));
  return row;
}

export async function getIvrCall(db: Db, id: number): Promise<IvrCall | undefined> {
  const { ivrCallLog } = db.schema;
  const [row] = await db.orm.select().from(ivrCallLog).where(eq(ivrCallLog.id, id));
  return row;
}

export interface ListIvrCallsParams extends PageParams {
  status?: IvrCallStatus;
  /** Calls made at or after this time. */
  from?: Date;
  /** Calls made before this time. */
  to?: Date;
}

/** Newest first (by log id: calls are logged as they arrive). */
export async function listIvrCalls(db: Db, params: ListIvrCallsParams): Promise<Page<IvrCall>> {
  const t = db.schema.ivrCallLog;
  const conditions: SQL[] = [];
  if (params.status !== undefined) conditions.push(eq(t.status, params.status));
  if (params.from !== undefined) conditions.push(gte(t.calledAt, params.from));
  if (params.to !== undefined) conditions.push(lt(t.calledAt, params.to));
  const where = and(...conditions);

  return selectPage(db, 'ivrCallLog', params, { where, orderBy: (t) => [desc(t.id)] });
}

/**
 * The oldest calls not yet turned into a flow. The condition is a literal so both dialects can
 * use the filtered index IX_IVRCallLog_Received (a bound parameter would not match its WHERE).
 */
export async function listReceivedIvrCalls(db: Db, limit: number): Promise<IvrCall[]> {
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.ivrCallLog;
    return orm
      .select()
      .from(m)
      .where(sql`${m.status} = N'received'`)
      .orderBy(asc(m.id))
      .offset(0)
      .fetch(limit);
  }
  const t = db.schema.ivrCallLog;
  return db.orm
    .select()
    .from(t)
    .where(sql`${t.status} = 'received'`)
    .orderBy(asc(t.id))
    .limit(limit);
}

/**
 * The call started (or belongs to) flow run `flowRunId`. Only a call still `received` moves, so of
 * two passes finishing the same call the first one's outcome stands. Returns whether it moved.
 */
export async function markIvrCallProcessed(
  db: Db,
  params: { id: number; flowRunId: number; at: Date },
): Promise<boolean> {
  return settleIvrCall(db, params.id, {
    status: 'processed',
    flowRunId: params.flowRunId,
    note: null,
    processedAt: params.at,
  });
}

/** The call starts no flow, for the reason in `note`; `flowRunId` names the run that already had the lead, if any. */
export async function markIvrCallSkipped(
  db: Db,
  params: { id: number; note: string; flowRunId?: number | null; at: Date },
): Promise<boolean> {
  return settleIvrCall(db, params.id, {
    status: 'skipped',
    flowRunId: params.flowRunId ?? null,
    note: params.note.slice(0, 1000),
    processedAt: params.at,
  });
}

async function settleIvrCall(
  db: Db,
  id: number,
  set: { status: IvrCallStatus; flowRunId: number | null; note: string | null; processedAt: Date },
): Promise<boolean> {
  const { ivrCallLog } = db.schema;
  const result = await db.orm
    .update(ivrCallLog)
    .set(set)
    .where(and(eq(ivrCallLog.id, id), eq(ivrCallLog.status, 'received')));
  return affectedRows(result) > 0;
}
