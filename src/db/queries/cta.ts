import { and, count, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { CtaAction, CtaRunStatus } from '../schema/values';
import type { VariableSource } from '../../shared';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { ctaFlowRuns, ctaFlows, ctaInteractions, leadNotes, leadTasks } from '../schema/sqlite';
import type { CtaClickResult } from '../schema/values';
import { affectedRows, parseJson, type Page, type PageParams, selectPage, insertReturning } from './common';

type CtaFlowRow = typeof ctaFlows.$inferSelect;
export type CtaRun = typeof ctaFlowRuns.$inferSelect;
export type CtaInteraction = typeof ctaInteractions.$inferSelect;
export type LeadNote = typeof leadNotes.$inferSelect;
export type LeadTask = typeof leadTasks.$inferSelect;

export interface CtaFlow extends Omit<CtaFlowRow, 'bodyVariables'> {
  bodyVariables: VariableSource[];
}

export type NewCtaFlow = Omit<CtaFlow, 'id' | 'createdAt' | 'updatedAt' | 'archivedAt' | 'sender'> & {
  /** The sender number its messages go from; absent or null: the deployment's default. */
  sender?: string | null;
};

/** A run still waiting for its answer: a click or a stop may still change it. */
export const OPEN_CTA_RUN_STATUSES: readonly CtaRunStatus[] = ['pending', 'sent', 'reminded'];

function toFlow(row: CtaFlowRow): CtaFlow {
  return { ...row, bodyVariables: parseJson<VariableSource[]>(row.bodyVariables, 'CtaFlows.BodyVariables') };
}

/** Inserts a flow. A second flow with the same name hits UX_CtaFlows_Name (see isUniqueViolation). */
export async function createCtaFlow(db: Db, params: NewCtaFlow): Promise<CtaFlow> {
  const now = new Date();
  const values = {
    ...params,
    sender: params.sender ?? null,
    bodyVariables: JSON.stringify(params.bodyVariables),
    createdAt: now,
    updatedAt: now,
  };
  return toFlow(await insertReturning(db, 'ctaFlows', values));
}

export async function getCtaFlow(db: Db, id: number): Promise<CtaFlow | undefined> {
  const { ctaFlows } = db.schema;
  const [row] = await db.orm.select().from(ctaFlows).where(eq(ctaFlows.id, id));
  return row && toFlow(row);
}

export async function listCtaFlows(db: Db, params: { includeArchived?: boolean } = {}): Promise<CtaFlow[]> {
  const { ctaFlows } = db.schema;
  const rows = await db.orm
    .select()
    .from(ctaFlows)
    .where(params.includeArchived ? undefined : isNull(ctaFlows.archivedAt))
    .orderBy(ctaFlows.id);
  return rows.map(toFlow);
}

/** The live flow that calls to `ivrNumber` (E.164) start, if any. */
export async function findCtaFlowByIvrNumber(db: Db, ivrNumber: string): Promise<CtaFlow | undefined> {
  const { ctaFlows } = db.schema;
  const [row] = await db.orm
    .select()
    .from(ctaFlows)
    .where(and(eq(ctaFlows.ivrNumber, ivrNumber), isNull(ctaFlows.archivedAt)))
    .orderBy(ctaFlows.id);
  return row && toFlow(row);
}

export async function archiveCtaFlow(db: Db, id: number): Promise<boolean> {
  const { ctaFlows } = db.schema;
  const now = new Date();
  const result = await db.orm
    .update(ctaFlows)
    .set({ archivedAt: now, updatedAt: now })
    .where(and(eq(ctaFlows.id, id), isNull(ctaFlows.archivedAt)));
  return affectedRows(result) > 0;
}

export interface NewCtaRun {
  flowId: number;
  leadId: number;
  workflowId: string;
  trigger: 'ivr' | 'api';
  ivrCallId?: number | null;
}

/**
 * Claims the one run of a lead in a flow. `created: false` returns the run that already holds
 * the claim (UX_CtaFlowRuns_Flow_Lead), so two callers racing end with one run.
 */
export async function claimCtaRun(db: Db, params: NewCtaRun): Promise<{ created: boolean; run: CtaRun }> {
  const now = new Date();
  const values = {
    ...params,
    ivrCallId: params.ivrCallId ?? null,
    status: 'pending' as const,
    createdAt: now,
    updatedAt: now,
  };
  try {
    return { created: true, run: await insertReturning(db, 'ctaFlowRuns', values) };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const existing = await findCtaRun(db, { flowId: params.flowId, leadId: params.leadId });
    if (!existing) throw error;
    return { created: false, run: existing };
  }
}

export async function getCtaRun(db: Db, id: number): Promise<CtaRun | undefined> {
  const { ctaFlowRuns } = db.schema;
  const [row] = await db.orm.select().from(ctaFlowRuns).where(eq(ctaFlowRuns.id, id));
  return row;
}

export async function findCtaRun(db: Db, params: { flowId: number; leadId: number }): Promise<CtaRun | undefined> {
  const { ctaFlowRuns } = db.schema;
  const [row] = await db.orm
    .select()
    .from(ctaFlowRuns)
    .where(and(eq(ctaFlowRuns.flowId, params.flowId), eq(ctaFlowRuns.leadId, params.leadId)));
  return row;
}

export interface ListCtaRunsParams extends PageParams {
  flowId?: number;
  leadId?: number;
  status?: CtaRunStatus;
}

export async function listCtaRuns(db: Db, params: ListCtaRunsParams): Promise<Page<CtaRun>> {
  const { ctaFlowRuns } = db.schema;
  const where = and(
    params.flowId === undefined ? undefined : eq(ctaFlowRuns.flowId, params.flowId),
    params.leadId === undefined ? undefined : eq(ctaFlowRuns.leadId, params.leadId),
    params.status === undefined ? undefined : eq(ctaFlowRuns.status, params.status),
  );
  return selectPage(db, 'ctaFlowRuns', params, { where, orderBy: (t) => [desc(t.id)] });
}

/** The lead's runs still waiting for an answer (every one stops when the lead says not interested). */
export async function listOpenCtaRunsForLead(db: Db, leadId: number): Promise<CtaRun[]> {
  const { ctaFlowRuns } = db.schema;
  return db.orm
    .select()
    .from(ctaFlowRuns)
    .where(and(eq(ctaFlowRuns.leadId, leadId), inArray(ctaFlowRuns.status, [...OPEN_CTA_RUN_STATUSES])));
}

/**
 * Moves a run that is still open to `status` (sent, reminded, no_response, stopped, failed).
 * A run that already has a decision or is closed keeps its state, so a late write from a retried
 * activity can never overwrite an answer. Returns whether the row moved.
 */
export async function advanceCtaRun(
  db: Db,
  params: { runId: number; status: CtaRunStatus; at: Date; lastError?: string | null },
): Promise<boolean> {
  const { ctaFlowRuns } = db.schema;
  const set: Partial<typeof ctaFlowRuns.$inferInsert> = { status: params.status, updatedAt: params.at };
  if (params.status === 'sent') set.sentAt = params.at;
  if (params.status === 'reminded') set.remindedAt = params.at;
  if (params.status === 'no_response' || params.status === 'stopped' || params.status === 'failed')
    set.closedAt = params.at;
  if (params.lastError !== undefined) set.lastError = params.lastError;
  const result = await db.orm
    .update(ctaFlowRuns)
    .set(set)
    .where(
      and(
        eq(ctaFlowRuns.id, params.runId),
        isNull(ctaFlowRuns.decision),
        inArray(ctaFlowRuns.status, [...OPEN_CTA_RUN_STATUSES]),
      ),
    );
  return affectedRows(result) > 0;
}

/** Records (or clears) why a pending run's workflow could not be started; a started run is left alone. */
export async function recordCtaRunStartError(
  db: Db,
  params: { runId: number; error: string | null; at: Date },
): Promise<void> {
  const { ctaFlowRuns } = db.schema;
  await db.orm
    .update(ctaFlowRuns)
    .set({ lastError: params.error, updatedAt: params.at })
    .where(and(eq(ctaFlowRuns.id, params.runId), eq(ctaFlowRuns.status, 'pending')));
}

/**
 * Records the first answer of a run. Only one click ever decides: the update is conditional on
 * no decision yet, so of two racing clicks exactly one gets `true`. A run closed as no response
 * (or stopped) still takes a late answer: the lead told us what they want.
 */
export async function decideCtaRun(db: Db, params: { runId: number; action: CtaAction; at: Date }): Promise<boolean> {
  const { ctaFlowRuns } = db.schema;
  const result = await db.orm
    .update(ctaFlowRuns)
    .set({ decision: params.action, decidedAt: params.at, updatedAt: params.at })
    .where(and(eq(ctaFlowRuns.id, params.runId), isNull(ctaFlowRuns.decision)));
  return affectedRows(result) > 0;
}

/** Closes a decided run with its decision as status, once the branch has been carried out. */
export async function closeDecidedCtaRun(db: Db, params: { runId: number; at: Date }): Promise<void> {
  const { ctaFlowRuns } = db.schema;
  await db.orm
    .update(ctaFlowRuns)
    .set({ status: sql`${ctaFlowRuns.decision}`, closedAt: params.at, updatedAt: params.at })
    .where(and(eq(ctaFlowRuns.id, params.runId), sql`${ctaFlowRuns.decision} IS NOT NULL`));
}

export async function recordCtaInteraction(
  db: Db,
  params: {
    runId: number;
    flowId: number;
    leadId: number;
    action: CtaAction;
    result: CtaClickResult;
    userAgent: string | null;
    at: Date;
  },
): Promise<void> {
  await db.orm.insert(db.schema.ctaInteractions).values({
    runId: params.runId,
    flowId: params.flowId,
    leadId: params.leadId,
    action: params.action,
    result: params.result,
    userAgent: params.userAgent?.slice(0, 512) ?? null,
    clickedAt: params.at,
  });
}

export interface CtaFlowCounts {
  flowId: number;
  flowName: string;
  sent: number;
  interested: number;
  notInterested: number;
  noResponse: number;
  /** Runs that got an answer, over runs sent (null when none were sent). */
  engagementRate: number | null;
  /** Interested runs, over runs sent. */
  conversionRate: number | null;
}

/**
 * Per flow, the runs whose message was sent in [from, to): how many, and how they ended. An answer
 * counts once per run whatever the number of clicks, so the rates are per lead, not per click.
 */
export async function getCtaFlowCounts(
  db: Db,
  params: { from: Date; to: Date; flowId?: number },
): Promise<CtaFlowCounts[]> {
  const { ctaFlowRuns, ctaFlows } = db.schema;
  const countWhere = (condition: SQL) => sql<number>`sum(case when ${condition} then 1 else 0 end)`;
  const rows = await db.orm
    .select({
      flowId: ctaFlows.id,
      flowName: ctaFlows.name,
      sent: count(ctaFlowRuns.id),
      interested: countWhere(sql`${ctaFlowRuns.decision} = 'interested'`),
      notInterested: countWhere(sql`${ctaFlowRuns.decision} = 'not_interested'`),
      noResponse: countWhere(sql`${ctaFlowRuns.decision} IS NULL AND ${ctaFlowRuns.status} = 'no_response'`),
    })
    .from(ctaFlows)
    .leftJoin(
      ctaFlowRuns,
      and(eq(ctaFlowRuns.flowId, ctaFlows.id), gte(ctaFlowRuns.sentAt, params.from), lt(ctaFlowRuns.sentAt, params.to)),
    )
    .where(params.flowId === undefined ? undefined : eq(ctaFlows.id, params.flowId))
    .groupBy(ctaFlows.id, ctaFlows.name)
    .orderBy(ctaFlows.id);
  return rows.map((row) => {
    const sent = Number(row.sent);
    const interested = Number(row.interested ?? 0);
    const notInterested = Number(row.notInterested ?? 0);
    const rate = (n: number) => ctaRate(n, sent);
    return {
      flowId: row.flowId,
      flowName: row.flowName,
      sent,
      interested,
      notInterested,
      noResponse: Number(row.noResponse ?? 0),
      engagementRate: rate(interested + notInterested),
      conversionRate: rate(interested),
    };
  });
}

/** `part / sent` to four decimals, or null when nothing was sent (a rate of nothing is not 0). */
export function ctaRate(part: number, sent: number): number | null {
  return sent === 0 ? null : Math.round((part / sent) * 10_000) / 10_000;
}

export interface RecentCtaInteraction {
  id: number;
  runId: number;
  flowId: number;
  leadId: number;
  leadName: string | null;
  action: CtaAction;
  result: CtaClickResult;
  clickedAt: Date;
}

export async function listRecentCtaInteractions(
  db: Db,
  params: { from: Date; to: Date; flowId?: number; limit: number },
): Promise<RecentCtaInteraction[]> {
  const { ctaInteractions, clients } = db.schema;
  const columns = {
    id: ctaInteractions.id,
    runId: ctaInteractions.runId,
    flowId: ctaInteractions.flowId,
    leadId: ctaInteractions.leadId,
    leadName: clients.name,
    action: ctaInteractions.action,
    result: ctaInteractions.result,
    clickedAt: ctaInteractions.clickedAt,
  };
  const where = and(
    gte(ctaInteractions.clickedAt, params.from),
    lt(ctaInteractions.clickedAt, params.to),
    params.flowId === undefined ? undefined : eq(ctaInteractions.flowId, params.flowId),
  );
  const order = [desc(ctaInteractions.clickedAt), desc(ctaInteractions.id)];
  if (db.dialect === 'mssql') {
    // SQL Server has no LIMIT: OFFSET 0 ROWS FETCH NEXT n ROWS ONLY.
    const { orm, schema } = asMssql(db);
    const m = schema.ctaInteractions;
    return orm
      .select({ ...columns })
      .from(m)
      .leftJoin(schema.clients, eq(schema.clients.id, m.leadId))
      .where(where)
      .orderBy(...order)
      .offset(0)
      .fetch(params.limit) as Promise<RecentCtaInteraction[]>;
  }
  return db.orm
    .select(columns)
    .from(ctaInteractions)
    .leftJoin(clients, eq(clients.id, ctaInteractions.leadId))
    .where(where)
    .orderBy(...order)
    .limit(params.limit);
}

/** Adds a note to the lead's timeline; with a dedupe key, a second write of the same note is a no-op. */
export async function addLeadNote(
  db: Db,
  params: { leadId: number; body: string; source: string; dedupeKey?: string; at?: Date },
): Promise<boolean> {
  try {
    await db.orm.insert(db.schema.leadNotes).values({
      leadId: params.leadId,
      body: params.body.slice(0, 2000),
      source: params.source,
      dedupeKey: params.dedupeKey ?? null,
      createdAt: params.at ?? new Date(),
    });
    return true;
  } catch (error) {
    if (params.dedupeKey !== undefined && isUniqueViolation(error)) return false;
    throw error;
  }
}

/** Whether the note with this dedupe key was written (at most one can be: the key is unique). */
export async function hasLeadNote(db: Db, dedupeKey: string): Promise<boolean> {
  const { leadNotes } = db.schema;
  const rows = await db.orm.select({ id: leadNotes.id }).from(leadNotes).where(eq(leadNotes.dedupeKey, dedupeKey));
  return rows.length > 0;
}

export async function listLeadNotes(db: Db, leadId: number): Promise<LeadNote[]> {
  const { leadNotes } = db.schema;
  return db.orm.select().from(leadNotes).where(eq(leadNotes.leadId, leadId)).orderBy(leadNotes.id);
}

/** Creates a task for a salesperson; with a dedupe key, a second creation of the same task is a no-op. */
export async function createLeadTask(
  db: Db,
  params: { leadId: number; kind: string; title: string; dueAt: Date; dedupeKey?: string },
): Promise<boolean> {
  try {
    await db.orm.insert(db.schema.leadTasks).values({
      leadId: params.leadId,
      kind: params.kind,
      title: params.title.slice(0, 500),
      dueAt: params.dueAt,
      dedupeKey: params.dedupeKey ?? null,
      createdAt: new Date(),
    });
    return true;
  } catch (error) {
    if (params.dedupeKey !== undefined && isUniqueViolation(error)) return false;
    throw error;
  }
}

export async function listLeadTasks(db: Db, leadId: number): Promise<LeadTask[]> {
  const { leadTasks } = db.schema;
  return db.orm.select().from(leadTasks).where(eq(leadTasks.leadId, leadId)).orderBy(leadTasks.id);
}

/**
 * Sets the lead's status and stage after an answer. `suppress` also takes the lead out of every
 * marketing flow from now on (drips and CTA flows refuse it); the first suppression time stands.
 */
export async function applyCtaDecisionToLead(
  db: Db,
  params: { leadId: number; status: string; stage: string; suppress: boolean; at: Date },
): Promise<void> {
  const { clients } = db.schema;
  await db.orm
    .update(clients)
    .set({ status: params.status, stage: params.stage, updatedAt: params.at })
    .where(eq(clients.id, params.leadId));
  if (params.suppress) {
    await db.orm
      .update(clients)
      .set({ marketingSuppressedAt: params.at })
      .where(and(eq(clients.id, params.leadId), isNull(clients.marketingSuppressedAt)));
  }
}
