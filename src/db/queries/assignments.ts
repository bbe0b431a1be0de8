import { and, asc, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { asMssql, withTransaction, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { dripAssignmentEvents, leadDripAssignments } from '../schema/sqlite';
import type { AssignmentEventKind } from '../schema/values';
import type { TemplateVariables } from '../../shared';
import { ACTIVE_ASSIGNMENT_STATUSES, type AssignmentStatus } from '../schema/values';
import {
  affectedRows,
  chunk,
  MAX_IDS_PER_STATEMENT,
  MAX_PARAMS_PER_STATEMENT,
  parseJson,
  type Page,
  type PageParams,
  selectPage,
} from './common';

type AssignmentRow = typeof leadDripAssignments.$inferSelect;

export interface Assignment extends Omit<AssignmentRow, 'stepsSnapshot'> {
  /** The sequence's steps as they were when the assignment was created. */
  stepsSnapshot: DripStepSnapshot[];
}

export type AssignmentEvent = typeof dripAssignmentEvents.$inferSelect;

/** Just enough of a live assignment to decide whether to enrol a lead again. */
export interface ActiveAssignmentRef {
  id: number;
  leadId: number;
  status: AssignmentStatus;
  workflowId: string | null;
}

/** One step of a sequence, frozen into the assignment when it starts (LeadDripAssignment.StepsSnapshot). */
export interface DripStepSnapshot {
  templateName: string;
  templateLanguage: string;
  /** Wait before this step, counted from the previous step's send (or from enrolment). */
  delaySeconds: number;
  variables: TemplateVariables;
}

export interface NewAssignment {
  leadId: number;
  sequenceId: number;
  sequenceVersion: number;
  steps: DripStepSnapshot[];
}

export interface CreateAssignmentsResult {
  created: { id: number; leadId: number }[];
  /** Leads the database refused because they already have a live assignment of that sequence. */
  conflicts: number[];
}

export type AssignmentPatch = Partial<{
  status: AssignmentStatus;
  nextStep: number;
  nextSendAt: Date | null;
  stopReason: string | null;
  lastError: string | null;
  completedAt: Date | null;
}>;

export interface ListAssignmentsParams extends PageParams {
  sequenceId?: number;
  leadId?: number;
  status?: AssignmentStatus;
}

export interface AddAssignmentEventParams {
  assignmentId: number;
  stepIndex?: number | null;
  event: AssignmentEventKind;
  detail?: string | null;
  at?: Date;
}

/** Parameters one assignment row binds in the multi-row insert (see `insertChunk`). */
const PARAMS_PER_ASSIGNMENT = 9;
const ASSIGNMENTS_PER_INSERT = Math.min(100, Math.floor(MAX_PARAMS_PER_STATEMENT / PARAMS_PER_ASSIGNMENT));

function toAssignment(row: AssignmentRow): Assignment {
  return {
    ...row,
    stepsSnapshot: parseJson<DripStepSnapshot[]>(row.stepsSnapshot, 'LeadDripAssignment.StepsSnapshot'),
  };
}

export async function findActiveAssignments(
  db: Db,
  params: { sequenceId: number; leadIds: readonly number[] },
): Promise<ActiveAssignmentRef[]> {
  const t = db.schema.leadDripAssignments;
  const found: ActiveAssignmentRef[] = [];
  for (const part of chunk([...new Set(params.leadIds)], MAX_IDS_PER_STATEMENT)) {
    const rows = await db.orm
      .select({ id: t.id, leadId: t.leadId, status: t.status, workflowId: t.workflowId })
      .from(t)
      .where(
        and(
          eq(t.sequenceId, params.sequenceId),
          inArray(t.leadId, part),
          inArray(t.status, [...ACTIVE_ASSIGNMENT_STATUSES]),
        ),
      );
    found.push(...rows);
  }
  return found;
}

/**
 * Inserts assignments as 'pending' in chunks, each chunk one transaction that also sets
 * WorkflowId = `workflowIdOf(id)` once the ids are known, so no committed row lacks its workflow id.
 * The filtered unique index refuses a lead that already has a live assignment of the sequence
 * (even one created by a concurrent request); a chunk that hits it is retried row by row to learn
 * which leads were refused.
 */
export async function createAssignments(
  db: Db,
  rows: readonly NewAssignment[],
  workflowIdOf: (assignmentId: number) => string,
): Promise<CreateAssignmentsResult> {
  const result: CreateAssignmentsResult = { created: [], conflicts: [] };
  for (const part of chunk(rows, ASSIGNMENTS_PER_INSERT)) {
    try {
      result.created.push(...(await withTransaction(db, (tx) => insertChunk(tx, part, workflowIdOf))));
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      for (const row of part) {
        try {
          result.created.push(...(await withTransaction(db, (tx) => insertChunk(tx, [row], workflowIdOf))));
        } catch (rowErr) {
          if (!isUniqueViolation(rowErr)) throw rowErr;
          result.conflicts.push(row.leadId);
        }
      }
    }
  }
  return result;
}

async function insertChunk(
  tx: Db,
  rows: readonly NewAssignment[],
  workflowIdOf: (assignmentId: number) => string,
): Promise<{ id: number; leadId: number }[]> {
  const now = new Date();
  const values = rows.map((row) => ({
    leadId: row.leadId,
    sequenceId: row.sequenceId,
    sequenceVersion: row.sequenceVersion,
    stepsSnapshot: JSON.stringify(row.steps),
    status: 'pending' as const,
    totalSteps: row.steps.length,
    startedAt: now,
    updatedAt: now,
  }));

  let created: { id: number; leadId: number }[];
  if (tx.dialect === 'mssql') {
    const { orm, schema } = asMssql(tx);
    const t = schema.leadDripAssignments;
    created = await orm.insert(t).output({ id: t.id, leadId: t.leadId }).values(values);
  } else {
    const t = tx.schema.leadDripAssignments;
    created = await tx.orm.insert(t).values(values).returning({ id: t.id, leadId: t.leadId });
  }

  if (created.length === 0) return created;
  // One statement per chunk rather than one per row: CASE Id WHEN … THEN 'drip-…' END.
  const t = tx.schema.leadDripAssignments;
  const ids = created.map((row) => row.id);
  const workflowIds = sql.join(
    created.map(({ id }) => sql`when ${id} then ${workflowIdOf(id)}`),
    sql` `,
  );
  await tx.orm
    .update(t)
    .set({ workflowId: sql`case ${t.id} ${workflowIds} end` })
    .where(inArray(t.id, ids));
  return created;
}

/** Mirrors workflow progress into the row; returns false when the assignment does not exist. */
export async function updateAssignment(db: Db, id: number, patch: AssignmentPatch): Promise<boolean> {
  const t = db.schema.leadDripAssignments;
  const result = await db.orm
    .update(t)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(t.id, id));
  return affectedRows(result) > 0;
}

export async function getAssignment(db: Db, id: number): Promise<Assignment | undefined> {
  const t = db.schema.leadDripAssignments;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toAssignment(row);
}

/** Newest first. */
export async function listAssignments(db: Db, params: ListAssignmentsParams): Promise<Page<Assignment>> {
  const t = db.schema.leadDripAssignments;
  const conditions: SQL[] = [];
  if (params.sequenceId !== undefined) conditions.push(eq(t.sequenceId, params.sequenceId));
  if (params.leadId !== undefined) conditions.push(eq(t.leadId, params.leadId));
  if (params.status !== undefined) conditions.push(eq(t.status, params.status));
  const where = and(...conditions);

  const page = await selectPage(db, 'leadDripAssignments', params, { where, orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toAssignment) };
}

/** The lead's pending, active and paused assignments, e.g. to stop them all when the lead opts out. */
export async function listActiveAssignmentsForLead(db: Db, leadId: number): Promise<Assignment[]> {
  const t = db.schema.leadDripAssignments;
  const rows = await db.orm
    .select()
    .from(t)
    .where(and(eq(t.leadId, leadId), inArray(t.status, [...ACTIVE_ASSIGNMENT_STATUSES])))
    .orderBy(asc(t.id));
  return rows.map(toAssignment);
}

export async function addAssignmentEvent(db: Db, params: AddAssignmentEventParams): Promise<void> {
  await db.orm.insert(db.schema.dripAssignmentEvents).values({
    assignmentId: params.assignmentId,
    stepIndex: params.stepIndex ?? null,
    event: params.event,
    detail: params.detail ?? null,
    at: params.at ?? new Date(),
  });
}

/** In the order they happened. */
export async function listAssignmentEvents(db: Db, assignmentId: number): Promise<AssignmentEvent[]> {
  const t = db.schema.dripAssignmentEvents;
  return db.orm.select().from(t).where(eq(t.assignmentId, assignmentId)).orderBy(asc(t.id));
}

/**
 * The lead's live drips (pending, active, paused) whose sequence is marked "stop on reply" and
 * that started no later than `startedBy`: a reply ends those, and never a drip enrolled after it.
 * The flag is read from the sequence as it is now, not from the assignment's snapshot.
 */
export async function listActiveDripsStoppingOnReply(
  db: Db,
  params: { leadId: number; startedBy: Date },
): Promise<ActiveAssignmentRef[]> {
  const t = db.schema.leadDripAssignments;
  const s = db.schema.dripSequences;
  return db.orm
    .select({ id: t.id, leadId: t.leadId, status: t.status, workflowId: t.workflowId })
    .from(t)
    .innerJoin(s, eq(s.id, t.sequenceId))
    .where(
      and(
        eq(t.leadId, params.leadId),
        inArray(t.status, [...ACTIVE_ASSIGNMENT_STATUSES]),
        eq(s.stopOnReply, true),
        lte(t.startedAt, params.startedBy),
      ),
    )
    .orderBy(asc(t.id));
}
