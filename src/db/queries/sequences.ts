import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { withTransaction, type Db } from '../client';
import type { dripSequences, dripSequenceSteps } from '../schema/sqlite';
import type { TemplateVariables } from '../../shared';
import type { SequenceSendRules } from '../schema/values';
import {
  affectedRows,
  chunk,
  MAX_PARAMS_PER_STATEMENT,
  parseJson,
  type Page,
  type PageParams,
  selectPage,
  insertReturning,
} from './common';

type SequenceRow = typeof dripSequences.$inferSelect;

export interface Sequence extends Omit<SequenceRow, 'sendRules'> {
  /** The sequence's own send rules; null: the account's defaults. */
  sendRules: SequenceSendRules | null;
}

function toSequence(row: SequenceRow): Sequence {
  return {
    ...row,
    sendRules: row.sendRules === null ? null : parseJson<SequenceSendRules>(row.sendRules, 'DripSequence.SendRules'),
  };
}

type StepRow = typeof dripSequenceSteps.$inferSelect;

export interface SequenceStep extends Omit<StepRow, 'variables'> {
  variables: TemplateVariables;
}

export interface SequenceWithSteps extends Sequence {
  /** Ordered by stepOrder (0-based). */
  steps: SequenceStep[];
}

export interface StepInput {
  templateName: string;
  templateLanguage: string;
  /** Wait before this step, counted from the previous step's send (or from enrolment). */
  delaySeconds: number;
  variables: TemplateVariables;
}

export interface CreateSequenceParams {
  name: string;
  description?: string | null;
  stopOnReply?: boolean;
  sendRules?: SequenceSendRules | null;
  /** The sender number its messages go from; null: the deployment's default. */
  sender?: string | null;
  steps: StepInput[];
}

export interface UpdateSequenceParams {
  name?: string;
  description?: string | null;
  stopOnReply?: boolean;
  sendRules?: SequenceSendRules | null;
  sender?: string | null;
  /** When given, replaces all steps. */
  steps?: StepInput[];
}

export interface ListSequencesParams extends PageParams {
  includeArchived?: boolean;
}

export async function createSequence(db: Db, params: CreateSequenceParams): Promise<SequenceWithSteps> {
  return withTransaction(db, async (tx) => {
    const now = new Date();
    const values = {
      name: params.name,
      description: params.description ?? null,
      stopOnReply: params.stopOnReply ?? false,
      sendRules: params.sendRules ? JSON.stringify(params.sendRules) : null,
      sender: params.sender ?? null,
      createdAt: now,
      updatedAt: now,
    };
    const sequence = await insertReturning(tx, 'dripSequences', values);
    await insertSteps(tx, sequence.id, params.steps);
    return requireSequence(tx, sequence.id);
  });
}

export async function getSequence(db: Db, id: number): Promise<SequenceWithSteps | undefined> {
  const { dripSequences, dripSequenceSteps } = db.schema;
  const [sequence] = await db.orm.select().from(dripSequences).where(eq(dripSequences.id, id));
  if (!sequence) return undefined;
  const steps = await db.orm
    .select()
    .from(dripSequenceSteps)
    .where(eq(dripSequenceSteps.sequenceId, id))
    .orderBy(asc(dripSequenceSteps.stepOrder));
  return {
    ...toSequence(sequence),
    steps: steps.map((step) => ({
      ...step,
      variables: parseJson<TemplateVariables>(step.variables, 'DripSequenceSteps.Variables'),
    })),
  };
}

/** Newest first, without their steps. */
export async function listSequences(db: Db, params: ListSequencesParams): Promise<Page<Sequence>> {
  const { dripSequences } = db.schema;
  const where = params.includeArchived ? undefined : isNull(dripSequences.archivedAt);

  const page = await selectPage(db, 'dripSequences', params, { where, orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toSequence) };
}

/**
 * Every edit bumps the version. Running assignments are unaffected: each froze a snapshot of the
 * steps when it started (LeadDripAssignment.StepsSnapshot).
 */
export async function updateSequence(
  db: Db,
  id: number,
  params: UpdateSequenceParams,
): Promise<SequenceWithSteps | undefined> {
  return withTransaction(db, async (tx) => {
    const { dripSequences, dripSequenceSteps } = tx.schema;
    const result = await tx.orm
      .update(dripSequences)
      .set({
        version: sql`${dripSequences.version} + 1`,
        updatedAt: new Date(),
        ...(params.name !== undefined && { name: params.name }),
        ...(params.description !== undefined && { description: params.description }),
        ...(params.stopOnReply !== undefined && { stopOnReply: params.stopOnReply }),
        ...(params.sendRules !== undefined && {
          sendRules: params.sendRules === null ? null : JSON.stringify(params.sendRules),
        }),
        ...(params.sender !== undefined && { sender: params.sender }),
      })
      .where(eq(dripSequences.id, id));
    if (affectedRows(result) === 0) return undefined;

    if (params.steps) {
      await tx.orm.delete(dripSequenceSteps).where(eq(dripSequenceSteps.sequenceId, id));
      await insertSteps(tx, id, params.steps);
    }
    return requireSequence(tx, id);
  });
}

/** Stops new assignments; running ones finish their snapshot. Archiving twice keeps the first time. */
export async function archiveSequence(db: Db, id: number): Promise<Sequence | undefined> {
  const { dripSequences } = db.schema;
  const now = new Date();
  await db.orm
    .update(dripSequences)
    .set({ archivedAt: now, updatedAt: now })
    .where(and(eq(dripSequences.id, id), isNull(dripSequences.archivedAt)));
  const [row] = await db.orm.select().from(dripSequences).where(eq(dripSequences.id, id));
  return row && toSequence(row);
}

async function insertSteps(db: Db, sequenceId: number, steps: StepInput[]): Promise<void> {
  const rows = steps.map((step, stepOrder) => ({
    sequenceId,
    stepOrder,
    templateName: step.templateName,
    templateLanguage: step.templateLanguage,
    delaySeconds: step.delaySeconds,
    variables: JSON.stringify(step.variables),
  }));
  for (const part of chunk(rows, Math.floor(MAX_PARAMS_PER_STATEMENT / 6))) {
    await db.orm.insert(db.schema.dripSequenceSteps).values(part);
  }
}

async function requireSequence(db: Db, id: number): Promise<SequenceWithSteps> {
  const sequence = await getSequence(db, id);
  if (!sequence) throw new Error(`DripSequence ${id} vanished inside its own transaction`);
  return sequence;
}
