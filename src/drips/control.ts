import type { Client } from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import {
  addAssignmentEvent,
  getAssignment,
  getMessageByKey,
  reopenFailedMessage,
  updateAssignment,
} from '../db/queries';
import { conflict, notFound, AppError } from '../errors';
import { DRIP_SEQUENCE_ID, FLOW_KIND, LEAD_ID, sendIdempotencyKey } from '../shared';
import {
  ACTIVE_ASSIGNMENT_STATUSES,
  dripProgressQuery,
  dripWorkflowId,
  RESCHEDULE_REFUSED,
  rescheduleDripUpdate,
  type DripWorkflowInput,
  type RescheduleDripArgs,
} from './contract';
import type { dripWorkflow } from './workflow';
import { queryOrNull } from '../workflow-client';

export interface DripControlDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
}

/**
 * Retries a failed drip from its failed step: a new run of `drip-<assignmentId>` carrying on at
 * that step, whose send reuses the step's idempotency key. A message log row the provider refused
 * and never accepted is reopened, so it is sent again; a row the provider did accept (its webhook
 * arrived after the step had failed) is not: the run finds it sent and moves on.
 */
export async function retryFailedDrip(deps: DripControlDeps, assignmentId: number) {
  const assignment = await getAssignment(deps.db, assignmentId);
  if (!assignment) throw notFound('assignment');
  if (assignment.status !== 'failed' || !assignment.workflowId)
    throw conflict('assignment_not_failed', `assignment is ${assignment.status}; only a failed drip can be retried`);
  const workflowId = assignment.workflowId;
  const step = assignment.nextStep;
  const message = await getMessageByKey(deps.db, sendIdempotencyKey(workflowId, step));
  if (message) await reopenFailedMessage(deps.db, { id: message.id });

  try {
    await updateAssignment(deps.db, assignment.id, { status: 'active', lastError: null, completedAt: null });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw conflict('already_assigned', 'the lead is on this sequence again in another assignment');
  }
  const input: DripWorkflowInput = {
    assignmentId: assignment.id,
    leadId: assignment.leadId,
    sequenceId: assignment.sequenceId,
    sequenceVersion: assignment.sequenceVersion,
    steps: assignment.stepsSnapshot,
    sendTaskQueue: deps.sendTaskQueue,
    carry: { nextStep: step, paused: false, remainingMs: 0 },
  };
  try {
    await deps.temporal.workflow.start<typeof dripWorkflow>('dripWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: dripWorkflowId(assignment.id),
      args: [input],
      typedSearchAttributes: [
        { key: LEAD_ID, value: assignment.leadId },
        { key: DRIP_SEQUENCE_ID, value: assignment.sequenceId },
        { key: FLOW_KIND, value: 'drip' },
      ],
    });
  } catch (error) {
    await updateAssignment(deps.db, assignment.id, { status: 'failed', lastError: assignment.lastError });
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      throw conflict('assignment_running', 'the drip workflow is still running');
    throw error;
  }
  await addAssignmentEvent(deps.db, { assignmentId: assignment.id, stepIndex: step, event: 'retried' });
  return {
    id: assignment.id,
    workflowId,
    retriedStep: step,
    previousMessageStatus: message?.status ?? null,
  };
}

/** A running drip whose worker does not answer: try again later (a conflict of state, not a server error). */
const notAnswering = () =>
  new AppError('conflict', 'drip_not_answering', 'no worker answered for this drip in time; try again');

/** An update needs a worker to answer it; without one the request gives up rather than hang. */
const UPDATE_TIMEOUT_MS = 15_000;

/**
 * Sends the next step now, snoozes it or moves it, through the running drip's update; answers
 * with the new next-send time once the workflow has recorded it in the assignment row.
 */
export async function rescheduleDrip(deps: DripControlDeps, assignmentId: number, args: RescheduleDripArgs) {
  const assignment = await getAssignment(deps.db, assignmentId);
  if (!assignment) throw notFound('assignment');
  if (!ACTIVE_ASSIGNMENT_STATUSES.includes(assignment.status) || !assignment.workflowId)
    throw conflict('assignment_finished', `assignment is ${assignment.status}`);
  // An update waits for a worker to answer; ask the cheaper query first (bounded), so a drip no
  // worker is running is refused at once rather than held.
  const live = await queryOrNull(deps.temporal, assignment.workflowId, dripProgressQuery);
  if (!live) throw notAnswering();
  const handle = deps.temporal.workflow.getHandle(assignment.workflowId);
  const update = handle.executeUpdate(rescheduleDripUpdate, { args: [args] });
  update.catch(() => undefined); // answered below, or abandoned after the timeout
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(notAnswering()), UPDATE_TIMEOUT_MS);
  });
  try {
    const result = await Promise.race([update, timeout]);
    return { id: assignment.id, workflowId: assignment.workflowId, nextSendAt: result.nextSendAt };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw conflict('assignment_finished', 'the drip workflow has already ended');
    if (
      error instanceof WorkflowUpdateFailedError &&
      error.cause instanceof ApplicationFailure &&
      error.cause.type === RESCHEDULE_REFUSED
    )
      throw new AppError('conflict', 'reschedule_refused', error.cause.message);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
