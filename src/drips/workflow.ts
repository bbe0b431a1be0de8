import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DripActivities } from './activities';
import type { SendActivities } from '../messages/send';
import {
  cancelDripSignal,
  dripProgressQuery,
  pauseDripSignal,
  resumeDripSignal,
  type AssignmentEventKind,
  type AssignmentStatus,
  type DripProgress,
  type DripWorkflowInput,
} from './contract';
import { SEND_OPTIONS } from '../messages/contract';
import { SEND_PRIORITY } from '../shared';

/** Progress writes are plain SQL: retry them for as long as it takes, they are idempotent. */
const { recordDripProgress } = proxyActivities<DripActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Start a fresh run well before the history grows near Temporal's 10k-event warning. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;

/**
 * One lead on one drip sequence. For each step it waits the step's delay on a durable timer that
 * a pause freezes and a cancel cuts short, then sends the step's template through the provider
 * activity. It ends when the last step is sent (completed), on cancel or opt-out (cancelled), or
 * when a step fails permanently (failed). Every state change is written to LeadDripAssignment.
 */
export async function dripWorkflow(input: DripWorkflowInput): Promise<DripProgress> {
  const { assignmentId, leadId, steps } = input;
  const { sendDripStep } = proxyActivities<SendActivities>({
    ...SEND_OPTIONS,
    taskQueue: input.sendTaskQueue,
    // Behind CTA messages and welcomes, ahead of campaign sends.
    priority: { priorityKey: SEND_PRIORITY.drip },
  });

  let nextStep = input.carry?.nextStep ?? 0;
  let paused = input.carry?.paused ?? false;
  let remainingMs = input.carry?.remainingMs ?? delayMs(nextStep);
  let cancelReason: string | null = null;
  let status: AssignmentStatus = paused ? 'paused' : 'active';
  let nextSendAt: number | null = paused ? null : Date.now() + remainingMs;
  let stopReason: string | null = null;
  let lastError: string | null = null;

  function delayMs(step: number): number {
    return (steps[step]?.delaySeconds ?? 0) * 1000;
  }

  const progress = (): DripProgress => ({
    assignmentId,
    status,
    nextStep,
    totalSteps: steps.length,
    nextSendAt: nextSendAt === null ? null : new Date(nextSendAt).toISOString(),
    stopReason,
    lastError,
  });

  const record = (event: AssignmentEventKind, stepIndex?: number, detail?: string) =>
    recordDripProgress({ progress: progress(), event: { type: event, stepIndex, detail } });

  setHandler(pauseDripSignal, () => {
    paused = true;
  });
  setHandler(resumeDripSignal, () => {
    paused = false;
  });
  setHandler(cancelDripSignal, ({ reason }) => {
    cancelReason ??= reason;
  });
  setHandler(dripProgressQuery, progress);

  if (!input.carry) await record('started');

  while (nextStep < steps.length && cancelReason === null) {
    // Wait out the step's delay. The timer races the signals so a pause or cancel acts at once;
    // time spent paused does not count towards the delay.
    while (cancelReason === null && (paused || remainingMs > 0)) {
      if (paused) {
        if (status !== 'paused') {
          status = 'paused';
          nextSendAt = null;
          await record('paused', nextStep);
        }
        await condition(() => !paused || cancelReason !== null);
        continue;
      }
      if (status === 'paused') {
        status = 'active';
        nextSendAt = Date.now() + remainingMs;
        await record('resumed', nextStep);
      }
      const waitStartedAt = Date.now();
      const interrupted = await condition(() => paused || cancelReason !== null, remainingMs);
      remainingMs = interrupted ? Math.max(0, remainingMs - (Date.now() - waitStartedAt)) : 0;
    }
    if (cancelReason !== null) break;

    const step = steps[nextStep]!;
    try {
      const outcome = await sendDripStep({
        assignmentId,
        workflowId: workflowInfo().workflowId,
        leadId,
        stepIndex: nextStep,
        step,
      });
      if (outcome.kind === 'skipped') {
        // The lead opted out or vanished between steps: nothing more may be sent.
        cancelReason = outcome.reason;
        break;
      }
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      status = 'failed';
      nextSendAt = null;
      lastError = describeFailure(error);
      await record('step_failed', nextStep, lastError);
      return progress();
    }

    nextStep += 1;
    remainingMs = delayMs(nextStep);
    nextSendAt = nextStep < steps.length && !paused ? Date.now() + remainingMs : null;
    await record('step_sent', nextStep - 1);

    if (nextStep < steps.length && workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
      await continueAsNew<typeof dripWorkflow>({ ...input, carry: { nextStep, paused, remainingMs } });
    }
  }

  nextSendAt = null;
  if (cancelReason !== null) {
    status = 'cancelled';
    stopReason = cancelReason;
    await record('cancelled', nextStep, cancelReason);
  } else {
    status = 'completed';
    await record('completed');
  }
  return progress();
}

function describeFailure(error: ActivityFailure): string {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause?.message ?? error.message;
}
