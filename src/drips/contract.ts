/**
 * The drip assignment's contract: its workflow id, what it is started with, its signals and its
 * progress query. Shared by the API, the worker, the workflow and the tests; workflow-safe.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DripStepSnapshot } from '../db/queries/assignments';
import type { AssignmentStatus } from '../db/schema/values';
export type { DripStepSnapshot } from '../db/queries/assignments';

export {
  ACTIVE_ASSIGNMENT_STATUSES,
  ASSIGNMENT_EVENTS,
  ASSIGNMENT_STATUSES,
  type AssignmentEventKind,
  type AssignmentStatus,
} from '../db/schema/values';

export const dripWorkflowId = (assignmentId: number): string => `drip-${assignmentId}`;

export interface DripWorkflowInput {
  assignmentId: number;
  leadId: number;
  sequenceId: number;
  sequenceVersion: number;
  steps: DripStepSnapshot[];
  sendTaskQueue: string;
  /** Set only by continue-as-new: where the previous run stopped. */
  carry?: DripCarry;
}

export interface DripCarry {
  nextStep: number;
  paused: boolean;
  /** Time left on the current step's delay, in ms (frozen while paused). */
  remainingMs: number;
}

export interface DripProgress {
  assignmentId: number;
  status: AssignmentStatus;
  /** 0-based index of the next step to send; equals `totalSteps` when done. */
  nextStep: number;
  totalSteps: number;
  /** ISO time the next step is due, or null when paused or finished. */
  nextSendAt: string | null;
  stopReason: string | null;
  lastError: string | null;
}

export interface CancelDripArgs {
  /** Why the drip stops: `admin`, `opted_out`, `replied`, `not_interested`, ... */
  reason: string;
}

/**
 * One lead's schedule, changed on the running drip: send the next step now, snooze it by a
 * duration, or move it to a time. The send window and quiet days still apply (a snooze lands on
 * the window's next opening; a move or send-now outside the window is refused), and so does the
 * frequency cap when the send comes.
 */
export type RescheduleDripArgs =
  { action: 'send_now' } | { action: 'snooze'; seconds: number } | { action: 'move'; at: string };

export interface RescheduleDripResult {
  /** ISO time the next step is now due. */
  nextSendAt: string;
}

export const pauseDripSignal = defineSignal('pauseDrip');
export const resumeDripSignal = defineSignal('resumeDrip');
export const cancelDripSignal = defineSignal<[CancelDripArgs]>('cancelDrip');
export const dripProgressQuery = defineQuery<DripProgress>('dripProgress');
export const rescheduleDripUpdate = defineUpdate<RescheduleDripResult, [RescheduleDripArgs]>('rescheduleDrip');

/** Why a reschedule was refused (the update's ApplicationFailure type). */
export const RESCHEDULE_REFUSED = 'RescheduleRefused';

/** The change id of the send-rules path (windows, cap, exits, reschedule) in dripWorkflow. */
export const SEND_RULES_PATCH = 'drip-send-rules';

/**
 * The change id of local progress writes and plan reads in dripWorkflow: runs started since run
 * `recordDripProgress` and `resolveDripSendPlan` as local activities, inside the workflow task.
 */
export const LOCAL_WRITES_PATCH = 'drip-local-writes';
