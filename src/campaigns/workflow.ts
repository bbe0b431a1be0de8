import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CampaignActivities } from './activities';
import {
  campaignProgressQuery,
  cancelCampaignSignal,
  pauseCampaignSignal,
  resumeCampaignSignal,
  type CampaignProgress,
  type CampaignStatus,
  type CampaignWorkflowInput,
  type RecipientOutcome,
} from './contract';
import { SEND_PRIORITY } from '../shared';

/** Bookkeeping is plain SQL: retried for as long as it takes, it is idempotent. */
const { prepareCampaign, nextCampaignRecipients, recordCampaignStatus, recordRecipientFailure } =
  proxyActivities<CampaignActivities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

/** A fresh run long before the history nears Temporal's limits (each send is about four events). */
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;
const MINUTE_MS = 60_000;

/**
 * `campaign-<id>`: one template to the campaign's recipients. It waits for the scheduled time (a
 * cancel cuts it short), writes the recipients once, then pages through the pending ones by id,
 * keeping up to `maxInFlight` sends in the provider's send queue (its rate limit paces them, at
 * campaign priority, behind transactional and drip sends). A pause or cancel takes back the sends
 * still queued and stops handing out new ones; resume starts again from the first recipient not
 * settled. Each send is keyed `campaign-<id>:<leadId>`, so a crash, a retried activity or a retry
 * run never sends twice. It ends when no recipient is pending (completed) or on cancel.
 */
export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const { campaignId } = input;
  const { sendCampaignMessage } = proxyActivities<CampaignActivities>({
    taskQueue: input.sendTaskQueue,
    priority: { priorityKey: input.sendPriorityKey ?? SEND_PRIORITY.campaign },
    startToCloseTimeout: '1 minute',
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: input.sendMaxAttempts,
      nonRetryableErrorTypes: ['PermanentSendError'],
    },
  });

  let paused = input.carry?.paused ?? false;
  let cancelReason: string | null = null;
  let status: CampaignStatus = 'running';
  let cursor = input.carry?.cursor ?? 0;
  let settledThisRun = 0;
  const settledAt: number[] = [];
  /** Sends handed out and not settled, by recipient id, each in its own cancellable scope. */
  const inFlight = new Map<number, CancellationScope>();
  /** The lowest recipient id taken back by a pause: the cursor returns below it. */
  let takenBack: number | null = null;

  const ratePerMinute = () => {
    const since = Date.now() - MINUTE_MS;
    while (settledAt.length > 0 && settledAt[0]! < since) settledAt.shift();
    return settledAt.length;
  };
  const progress = (): CampaignProgress => ({
    campaignId,
    status,
    settledThisRun,
    ratePerMinute: ratePerMinute(),
    inFlight: inFlight.size,
    stopReason: cancelReason,
  });
  const record = (next: CampaignStatus, detail?: { stopReason?: string; lastError?: string }) => {
    status = next;
    return recordCampaignStatus({ campaignId, status: next, ...detail });
  };
  const takeBackInFlight = () => {
    for (const scope of inFlight.values()) scope.cancel();
  };

  setHandler(pauseCampaignSignal, () => {
    paused = true;
    takeBackInFlight();
  });
  setHandler(resumeCampaignSignal, () => {
    paused = false;
  });
  setHandler(cancelCampaignSignal, ({ reason }) => {
    cancelReason ??= reason;
    takeBackInFlight();
  });
  setHandler(campaignProgressQuery, progress);

  if (!input.carry) {
    const startAt = input.scheduledAt ? Date.parse(input.scheduledAt) : NaN;
    if (Number.isFinite(startAt) && startAt > Date.now()) {
      status = 'scheduled';
      await condition(() => cancelReason !== null, startAt - Date.now());
    }
    if (cancelReason === null) {
      await prepareCampaign({ campaignId });
      status = 'running';
    }
  }

  const send = (recipient: { id: number; leadId: number }) => {
    const scope = new CancellationScope();
    inFlight.set(recipient.id, scope);
    void scope
      .run(() =>
        sendCampaignMessage({
          campaignId,
          recipientId: recipient.id,
          leadId: recipient.leadId,
          workflowId: workflowInfo().workflowId,
          template: input.template,
        }),
      )
      .then(
        (outcome: RecipientOutcome) => outcome,
        async (error: unknown): Promise<RecipientOutcome | null> => {
          if (isCancellation(error)) {
            // Taken back by a pause or cancel before (or while) it ran: still pending, unless the
            // activity finished anyway, which the recipient row then says.
            takenBack = Math.min(takenBack ?? recipient.id, recipient.id);
            return null;
          }
          if (!(error instanceof ActivityFailure)) throw error;
          const { code, message } = describeFailure(error);
          await recordRecipientFailure({ campaignId, recipientId: recipient.id, code, message });
          return { kind: 'failed', permanent: false, code };
        },
      )
      .then((outcome) => {
        inFlight.delete(recipient.id);
        if (outcome) {
          settledThisRun += 1;
          settledAt.push(Date.now());
        }
      });
  };

  while (cancelReason === null) {
    if (paused) {
      await condition(() => inFlight.size === 0);
      if (takenBack !== null) cursor = Math.min(cursor, takenBack - 1);
      takenBack = null;
      if (cancelReason !== null) break;
      await record('paused');
      await condition(() => !paused || cancelReason !== null);
      if (cancelReason !== null) break;
      await record('running');
    }
    if (workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
      await condition(() => inFlight.size === 0);
      if (takenBack !== null) cursor = Math.min(cursor, takenBack - 1);
      if (cancelReason === null) {
        await continueAsNew<typeof campaignWorkflow>({ ...input, carry: { cursor, paused } });
      }
      break;
    }
    const page = await nextCampaignRecipients({
      campaignId,
      afterId: cursor,
      limit: input.pageSize,
    });
    if (page.length === 0) {
      if (inFlight.size === 0) break;
      // The last sends are out: wait for them (or a pause that takes them back) before looking again.
      await condition(() => inFlight.size === 0 || paused || cancelReason !== null);
      continue;
    }
    for (const recipient of page) {
      await condition(() => inFlight.size < input.maxInFlight || paused || cancelReason !== null);
      if (paused || cancelReason !== null) break;
      send(recipient);
      cursor = recipient.id;
    }
  }

  if (cancelReason !== null) {
    await condition(() => inFlight.size === 0);
    await record('cancelled', { stopReason: cancelReason });
  } else {
    await record('completed');
  }
  return progress();
}

function describeFailure(error: ActivityFailure): { code: string; message: string } {
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  return { code: cause?.name ?? 'Error', message: cause?.message ?? error.message };
}
