import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { isInsideWindow, nextWindowOpening, type DripSendPlan } from '../delivery/contract';
import type { DripActivities } from './activities';
import type { DeliveryActivities } from '../delivery/activities';
import type { SendActivities } from '../messages/send';
import {
  cancelDripSignal,
  dripProgressQuery,
  pauseDripSignal,
  RESCHEDULE_REFUSED,
  rescheduleDripUpdate,
  resumeDripSignal,
  LOCAL_WRITES_PATCH,
  SEND_RULES_PATCH,
  type AssignmentEventKind,
  type AssignmentStatus,
  type DripProgress,
  type DripWorkflowInput,
} from './contract';
import { SEND_OPTIONS } from '../messages/contract';
import { SEND_PRIORITY } from '../shared';

/** Progress writes are plain SQL: retry them for as long as it takes, they are idempotent. */
const PLAIN_SQL = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
} as const;
// Proxies are looked up by name, so each is taken out by name rather than spread.
const scheduled = {
  recordDripProgress: proxyActivities<DripActivities>(PLAIN_SQL).recordDripProgress,
  /** Reads the lead, the sequence and the settings: as safe to retry as the progress writes. */
  resolveDripSendPlan: proxyActivities<DeliveryActivities>(PLAIN_SQL).resolveDripSendPlan,
};
/**
 * The same writes and reads as local activities (patch `drip-local-writes`): they run inside the
 * workflow task that needs them, so a drip's start (record `started`, read the plan, set the
 * timer) is one workflow task instead of three plus two activity tasks, and the worker keeps up
 * with enrolment. Each is one short idempotent SQL statement or read, what local activities are for.
 */
const local = {
  recordDripProgress: proxyLocalActivities<DripActivities>(PLAIN_SQL).recordDripProgress,
  resolveDripSendPlan: proxyLocalActivities<DeliveryActivities>(PLAIN_SQL).resolveDripSendPlan,
};

/** Start a fresh run well before the history grows near Temporal's 10k-event warning. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;

/**
 * One lead on one drip sequence. For each step it waits the step's delay on a durable timer that
 * a pause freezes and a cancel cuts short, then sends the step's template through the provider
 * activity. It ends when the last step is sent (completed), on cancel or opt-out (cancelled), or
 * when a step fails permanently (failed). Every state change is written to LeadDripAssignment.
 *
 * Runs started since the send rules (patch `drip-send-rules`) also wait, after each delay, for
 * the lead's send window and a free slot of the frequency cap, end on the sequence's exit
 * statuses, and take the reschedule update (send now, snooze, move). Older runs keep the
 * original path so their histories replay.
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

  const withRules = patched(SEND_RULES_PATCH);
  // Older runs keep their activity tasks so their histories replay.
  const { recordDripProgress, resolveDripSendPlan } = withRules && patched(LOCAL_WRITES_PATCH) ? local : scheduled;

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

  // ---- The send-rules path: its state, the reschedule update, then its loop. ----
  let plan: DripSendPlan | null = null;
  let dueAt = Date.now() + remainingMs;
  let sendAt = dueAt;
  let waiting = false;
  let rescheduling = false;
  let rescheduled = false;

  setHandler(
    rescheduleDripUpdate,
    async (args) => {
      const now = Date.now();
      const target =
        args.action === 'send_now'
          ? now
          : args.action === 'snooze'
            ? nextWindowOpening(Math.max(sendAt, now) + args.seconds * 1000, plan!.rules)
            : Date.parse(args.at);
      rescheduling = true;
      dueAt = target;
      sendAt = target;
      nextSendAt = target;
      try {
        await record('rescheduled', nextStep, `${args.action}: next send ${new Date(target).toISOString()}`);
      } finally {
        rescheduling = false;
        rescheduled = true;
      }
      return { nextSendAt: new Date(target).toISOString() };
    },
    {
      validator: (args) => {
        const refuse = (message: string) => {
          throw ApplicationFailure.create({ type: RESCHEDULE_REFUSED, message, nonRetryable: true });
        };
        if (!withRules || plan === null) refuse('this drip run predates rescheduling');
        if (!waiting || paused || cancelReason !== null || rescheduling) refuse(`the drip is not waiting for a step`);
        const now = Date.now();
        if (args.action === 'snooze') {
          if (!Number.isInteger(args.seconds) || args.seconds <= 0) refuse('snooze by a positive number of seconds');
          return;
        }
        const at = args.action === 'send_now' ? now : Date.parse(args.at);
        if (Number.isNaN(at)) refuse('`at` is not a time');
        if (at < now) refuse('the time is in the past');
        if (!isInsideWindow(at, plan!.rules)) {
          const opens = new Date(nextWindowOpening(at, plan!.rules)).toISOString();
          refuse(`outside the lead's send window; it next opens at ${opens}`);
        }
      },
    },
  );

  /** Returns true when a step failed (the run ends `failed`). */
  async function runWithRules(): Promise<boolean> {
    while (nextStep < steps.length && cancelReason === null) {
      // The lead's rules as they are now: window in their zone, quiet days, cap, exits.
      plan = await resolveDripSendPlan({ leadId, sequenceId: input.sequenceId });
      const earliest = Math.max(dueAt, Date.now());
      sendAt = nextWindowOpening(earliest, plan.rules);
      nextSendAt = sendAt;
      if (sendAt !== earliest) await record('deferred', nextStep, `waits for the send window until ${iso(sendAt)}`);
      // Wait for the send time. A pause freezes what is left of the delay, a cancel ends the wait,
      // a reschedule moves the time; the window is applied again after a pause.
      let frozenMs: number;
      waiting = true;
      while (cancelReason === null) {
        if (paused) {
          waiting = false;
          frozenMs = Math.max(0, dueAt - Date.now());
          status = 'paused';
          nextSendAt = null;
          await record('paused', nextStep);
          await condition(() => !paused || cancelReason !== null);
          if (cancelReason !== null) break;
          status = 'active';
          dueAt = Date.now() + frozenMs;
          sendAt = nextWindowOpening(dueAt, plan.rules);
          nextSendAt = sendAt;
          await record('resumed', nextStep);
          waiting = true;
          continue;
        }
        const waitMs = sendAt - Date.now();
        if (waitMs <= 0) break;
        await condition(() => paused || cancelReason !== null || rescheduled, waitMs);
        if (rescheduling) await condition(() => !rescheduling);
        rescheduled = false;
      }
      waiting = false;
      if (cancelReason !== null) break;

      const sendingAt = Date.now();
      let outcome: Awaited<ReturnType<typeof sendDripStep>>;
      try {
        outcome = await sendDripStep({
          assignmentId,
          workflowId: workflowInfo().workflowId,
          leadId,
          stepIndex: nextStep,
          step: steps[nextStep]!,
          rules: { sequenceId: input.sequenceId, capped: plan.capped, at: iso(sendingAt) },
        });
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        status = 'failed';
        nextSendAt = null;
        lastError = describeFailure(error);
        await record('step_failed', nextStep, lastError);
        return true;
      }
      if (outcome.kind === 'skipped') {
        cancelReason = outcome.reason;
        break;
      }
      if (outcome.kind === 'capped') {
        // The lead has had their share of marketing: wait for the next free slot, then the window.
        dueAt = Date.parse(outcome.freeAt);
        nextSendAt = dueAt;
        await record('deferred', nextStep, `frequency cap: a slot frees at ${outcome.freeAt}`);
        continue;
      }
      nextStep += 1;
      dueAt = sendingAt + delayMs(nextStep);
      nextSendAt = nextStep < steps.length ? dueAt : null;
      await record('step_sent', nextStep - 1, `sent at ${iso(sendingAt)}`);

      if (nextStep < steps.length && workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
        await continueAsNew<typeof dripWorkflow>({
          ...input,
          carry: { nextStep, paused, remainingMs: Math.max(0, dueAt - Date.now()) },
        });
      }
    }
    return false;
  }

  if (!input.carry) await record('started');

  if (withRules && (await runWithRules())) return progress();

  while (!withRules && nextStep < steps.length && cancelReason === null) {
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

  // A reschedule still writing its row finishes before the run ends (no command: nothing to wait
  // for unless one is in flight, which only the send-rules path can have).
  if (withRules) await condition(allHandlersFinished);
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

const iso = (ms: number): string => new Date(ms).toISOString();

function describeFailure(error: ActivityFailure): string {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause?.message ?? error.message;
}
