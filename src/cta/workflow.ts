import { ActivityFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CtaActivities, CtaSendOutcome } from './activities';
import {
  ctaClickSignal,
  ctaStateQuery,
  stopCtaSignal,
  type CtaClick,
  type CtaRunStatus,
  type CtaState,
  type CtaWorkflowInput,
} from './contract';
import { SEND_OPTIONS } from '../messages/contract';
import { SEND_PRIORITY } from '../shared';

/** Bookkeeping is plain SQL plus idempotent signals: retry it for as long as it takes. */
const { carryOutCtaDecision, closeCtaRun } = proxyActivities<CtaActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['CtaRunNotFound'] },
});

/**
 * `cta-<leadId>-<flowId>`: one lead, one interactive message with two signed links. It sends the
 * message, then waits for the click (a signal from the click endpoint) raced against a timer: no
 * click in time brings one reminder, and no click after that closes the run as no response.
 * Interested → brochure, a timeline note and a follow-up call task; not interested → every drip
 * and other CTA flow of the lead stops. A stop signal (the lead said no elsewhere, or opted out)
 * ends it at once. Only the first click counts; the click endpoint records every one.
 */
export async function ctaWorkflow(input: CtaWorkflowInput): Promise<CtaState> {
  const { sendCtaMessage } = proxyActivities<CtaActivities>({
    ...SEND_OPTIONS,
    taskQueue: input.sendTaskQueue,
    // A person just called or tapped: ahead of every drip and campaign send in the queue.
    priority: { priorityKey: SEND_PRIORITY.transactional },
  });
  const { workflowId } = workflowInfo();

  let click: CtaClick | null = null;
  let stopReason: string | null = null;
  let status: CtaRunStatus = 'pending';
  let waitingUntil: number | null = null;

  setHandler(ctaClickSignal, (signalled) => {
    click ??= signalled;
  });
  setHandler(stopCtaSignal, ({ reason }) => {
    stopReason ??= reason;
  });
  setHandler(ctaStateQuery, () => ({
    runId: input.runId,
    status,
    decision: click?.action ?? null,
    waitingUntil: waitingUntil === null ? null : new Date(waitingUntil).toISOString(),
    stopReason,
  }));

  const answeredOrStopped = () => click !== null || stopReason !== null;
  const waitForAnswer = async (seconds: number): Promise<boolean> => {
    waitingUntil = Date.now() + seconds * 1000;
    const answered = await condition(answeredOrStopped, seconds * 1000);
    waitingUntil = null;
    return answered;
  };

  if (input.decisionOnly) {
    // Started by a late click (signal-with-start): the click is already in, nothing to send first.
    await condition(answeredOrStopped);
  } else {
    let sent: CtaSendOutcome;
    try {
      sent = await sendCtaMessage({ runId: input.runId, workflowId, kind: 'initial' });
    } catch (error) {
      // The message can never be sent (refused by the provider, a template or variable problem,
      // on record in the message log): the run is closed as failed with the reason.
      if (!(error instanceof ActivityFailure)) throw error;
      status = 'failed';
      await closeCtaRun({ runId: input.runId, status, reason: error.cause?.message ?? error.message });
      return ctaState();
    }
    if (sent.kind === 'skipped') {
      if (sent.reason === 'decided') click ??= sent.decision;
      else stopReason = sent.reason;
    } else {
      status = 'sent';
      if (!(await waitForAnswer(input.reminderAfterSeconds))) {
        // A reminder that cannot be sent leaves the first message's links working: wait on.
        const reminded = await sendCtaMessage({ runId: input.runId, workflowId, kind: 'reminder' }).catch(
          (error: unknown) => {
            if (error instanceof ActivityFailure) return null;
            throw error;
          },
        );
        if (reminded?.kind === 'sent') status = 'reminded';
        else if (reminded?.reason === 'decided') click ??= reminded.decision;
        else if (reminded) stopReason = reminded.reason;
        if (!answeredOrStopped()) await waitForAnswer(input.closeAfterSeconds);
      }
    }
  }

  if (click === null) {
    status = stopReason === null ? 'no_response' : 'stopped';
    // The lead may have answered with a signal that never arrived: the close hands that answer back.
    const stored = await closeCtaRun({
      runId: input.runId,
      status,
      ...(stopReason !== null && { reason: stopReason }),
    });
    if (stored) click ??= stored;
  }
  // A click that raced the close still counts: the endpoint recorded it, the lead has chosen.
  const decided = click as CtaClick | null;
  if (decided === null) return ctaState();

  status = decided.action;
  let brochureSent = false;
  if (decided.action === 'interested') {
    try {
      const brochure = await sendCtaMessage({ runId: input.runId, workflowId, kind: 'brochure' });
      brochureSent = brochure.kind === 'sent';
    } catch (error) {
      // A brochure that cannot be sent (recorded in the message log) must not lose the answer:
      // the note and the call task still follow.
      if (!(error instanceof ActivityFailure)) throw error;
    }
  }
  await carryOutCtaDecision({ runId: input.runId, action: decided.action, clickedAt: decided.clickedAt, brochureSent });
  return ctaState();

  function ctaState(): CtaState {
    return { runId: input.runId, status, decision: click?.action ?? null, waitingUntil: null, stopReason };
  }
}
