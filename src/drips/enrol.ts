import { type Client } from '@temporalio/client';
import type { Db } from '../db/client';
import {
  createAssignments,
  findActiveAssignments,
  getAssignment,
  getLeadsByIds,
  updateAssignment,
  type Assignment,
  type SequenceWithSteps,
} from '../db/queries';
import { DRIP_SEQUENCE_ID, FLOW_KIND, LEAD_ID, senderSendQueue } from '../shared';
import { dripWorkflowId, type DripStepSnapshot, type DripWorkflowInput } from './contract';
import type { dripWorkflow } from './workflow';
import { startClaimedWorkflow, STALE_PENDING_MS } from '../workflow-client';

export interface EnrolDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  /** The provider's send queue (the default sender's); a sequence naming another sender uses that sender's. */
  sendTaskQueue: string;
  /** Workflow starts in flight at once; the dev server saturates well below 64. */
  startConcurrency?: number;
  now?: () => Date;
}

export type SkipReason =
  'duplicate_in_request' | 'lead_not_found' | 'opted_out' | 'suppressed' | 'already_assigned' | 'start_failed';

export interface EnrolResult {
  started: { assignmentId: number; leadId: number; workflowId: string }[];
  skipped: { leadId: number; reason: SkipReason; assignmentId?: number }[];
}

/**
 * Assigns a sequence to leads: one LeadDripAssignment row and one `drip-<assignmentId>` workflow
 * per lead, running the snapshot of the sequence's steps as they are now. Leads that are unknown,
 * opted out or already on this sequence are skipped with the reason; the database's filtered
 * unique index makes "already on it" hold even against a concurrent request.
 */
export async function enrolLeads(
  deps: EnrolDeps,
  sequence: SequenceWithSteps,
  leadIds: number[],
): Promise<EnrolResult> {
  const skipped: EnrolResult['skipped'] = [];
  const unique = [...new Set(leadIds)];
  if (unique.length < leadIds.length) {
    const seen = new Set<number>();
    for (const leadId of leadIds) {
      if (seen.has(leadId)) skipped.push({ leadId, reason: 'duplicate_in_request' });
      seen.add(leadId);
    }
  }

  const leads = new Map((await getLeadsByIds(deps.db, unique)).map((lead) => [lead.id, lead]));
  const eligible: number[] = [];
  for (const leadId of unique) {
    const lead = leads.get(leadId);
    if (!lead) skipped.push({ leadId, reason: 'lead_not_found' });
    else if (lead.optedOut) skipped.push({ leadId, reason: 'opted_out' });
    else if (lead.marketingSuppressedAt) skipped.push({ leadId, reason: 'suppressed' });
    else eligible.push(leadId);
  }

  const existing = await findActiveAssignments(deps.db, { sequenceId: sequence.id, leadIds: eligible });
  const assigned = new Map(existing.map((row) => [row.leadId, row.id]));
  const stalled = await stalledPending(
    deps,
    existing.filter((row) => row.status === 'pending').map((row) => row.id),
  );
  for (const [leadId, assignmentId] of assigned) {
    if (!stalled.some((row) => row.id === assignmentId))
      skipped.push({ leadId, reason: 'already_assigned', assignmentId });
  }

  const steps: DripStepSnapshot[] = sequence.steps.map((step) => ({
    templateName: step.templateName,
    templateLanguage: step.templateLanguage,
    delaySeconds: step.delaySeconds,
    variables: step.variables,
  }));
  const { created, conflicts } = await createAssignments(
    deps.db,
    eligible
      .filter((leadId) => !assigned.has(leadId))
      .map((leadId) => ({ leadId, sequenceId: sequence.id, sequenceVersion: sequence.version, steps })),
    dripWorkflowId,
  );
  for (const leadId of conflicts) skipped.push({ leadId, reason: 'already_assigned' });

  // The sequence's sender decides the queue its sends wait in, and so the number they go from.
  const sendQueue = senderSendQueue(deps.sendTaskQueue, sequence.sender);
  const toStart: DripWorkflowInput[] = [
    ...stalled.map((row) => ({
      assignmentId: row.id,
      leadId: row.leadId,
      sequenceId: row.sequenceId,
      sequenceVersion: row.sequenceVersion,
      steps: row.stepsSnapshot,
      sendTaskQueue: sendQueue,
    })),
    ...created.map(({ id, leadId }) => ({
      assignmentId: id,
      leadId,
      sequenceId: sequence.id,
      sequenceVersion: sequence.version,
      steps,
      sendTaskQueue: sendQueue,
    })),
  ];
  const started: EnrolResult['started'] = [];
  await forEachConcurrently(toStart, deps.startConcurrency ?? 32, async (input) => {
    const { assignmentId: id, leadId } = input;
    const workflowId = dripWorkflowId(id);
    const outcome = await startClaimedWorkflow<typeof dripWorkflow>(
      deps.temporal,
      'dripWorkflow',
      {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        typedSearchAttributes: [
          { key: LEAD_ID, value: leadId },
          { key: DRIP_SEQUENCE_ID, value: input.sequenceId },
          { key: FLOW_KIND, value: 'drip' },
        ],
      },
      (reason) => updateAssignment(deps.db, id, { status: 'failed', lastError: reason, completedAt: new Date() }),
    );
    if (outcome.kind === 'failed') skipped.push({ leadId, reason: 'start_failed', assignmentId: id });
    else started.push({ assignmentId: id, leadId, workflowId });
  });
  return { started, skipped };
}

async function stalledPending(deps: EnrolDeps, pendingIds: number[]): Promise<Assignment[]> {
  if (pendingIds.length === 0) return [];
  const cutoff = (deps.now ?? (() => new Date()))().getTime() - STALE_PENDING_MS;
  const rows = await Promise.all(pendingIds.map((id) => getAssignment(deps.db, id)));
  return rows.filter(
    (row): row is Assignment => row !== undefined && row.status === 'pending' && row.startedAt.getTime() < cutoff,
  );
}

async function forEachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
