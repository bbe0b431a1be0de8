import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { InfobipPagePosition, InfobipSyncActivities } from './activities';
import { failureReason } from '../shared';
import {
  infobipSyncProgressQuery,
  infobipSyncRunKey,
  type InfobipSyncProgress,
  type InfobipSyncWorkflowInput,
} from './contract';

const DEFAULT_PAGE_SIZE = 1_000;
const DEFAULT_PAGES_PER_CHUNK = 10;

/** Run bookkeeping is plain SQL: retried until the database answers, and idempotent. */
const { startInfobipSyncRun, finishInfobipSyncRun, failInfobipSyncRun } = proxyActivities<InfobipSyncActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['InfobipSyncInvalidWindow', 'InfobipSyncRunNotFound'],
  },
});

/**
 * A chunk of pages. The heartbeat timeout notices a dead worker within 20 s, and the retry resumes
 * at the page after the last heartbeat. 429s and 5xx are retried with backoff (a 429 no sooner
 * than its Retry-After); ten failed attempts in a row fail the run, and the next scheduled run
 * reads the window again. A bad API key or a refused request is not retried at all.
 */
const { syncInfobipPages } = proxyActivities<InfobipSyncActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ProviderConfigError', 'InfobipSyncRefused'],
  },
});

/**
 * One Infobip sync run, `infobip-sync-<runKey>`: opens (or finds) its InfobipSyncRuns row, reads
 * People and/or SMS logs page by page into leads, and closes the row with the sum of its pages.
 * Each activity call reads a chunk of pages and reports back, so the progress query is never more
 * than a chunk behind. Ends when every list is read, or fails after the run is marked failed.
 */
export async function infobipSyncWorkflow(input: InfobipSyncWorkflowInput): Promise<InfobipSyncProgress> {
  const { workflowId } = workflowInfo();
  const progress: InfobipSyncProgress = {
    runKey: infobipSyncRunKey(workflowId),
    runId: null,
    status: 'starting',
    windowFrom: null,
    windowTo: null,
    position: null,
    pagesDone: 0,
    counts: { fetched: 0, matched: 0, created: 0, updated: 0, skipped: 0, invalid: 0, errorCount: 0 },
    warnings: [],
    failure: null,
  };
  setHandler(infobipSyncProgressQuery, () => progress);

  const plan = await startInfobipSyncRun({
    runKey: progress.runKey,
    workflowId,
    trigger: input.trigger,
    ...(input.scheduleId !== undefined && { scheduleId: input.scheduleId }),
    options: input.options,
  });
  Object.assign(progress, {
    runId: plan.runId,
    windowFrom: plan.windowFrom,
    windowTo: plan.windowTo,
    warnings: plan.warnings,
    counts: plan.counts,
  });
  if (plan.status !== 'running') {
    // Closed by an earlier execution under the same key: report it, read nothing again.
    progress.status = plan.status;
    return progress;
  }
  progress.status = 'running';

  const { options } = input;
  try {
    for (const list of plan.sources) {
      const pagesBefore = progress.pagesDone;
      let position: InfobipPagePosition | null = { source: list.source, pageNo: 1, cursor: null };
      while (position) {
        progress.position = { source: position.source, pageNo: position.pageNo };
        const result: Awaited<ReturnType<typeof syncInfobipPages>> = await syncInfobipPages({
          runId: plan.runId,
          from: position,
          maxPages: input.pagesPerChunk ?? DEFAULT_PAGES_PER_CHUNK,
          pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
          since: list.since,
          until: list.until,
          ...(options.channels !== undefined && { channels: options.channels }),
          mode: options.mode,
          dryRun: options.dryRun,
          ...(options.statusRule !== undefined && { statusRule: options.statusRule }),
        });
        progress.counts = result.totals;
        progress.pagesDone = pagesBefore + result.pagesCompleted;
        position = result.next;
      }
    }
    progress.position = null;
    progress.counts = await finishInfobipSyncRun({ runId: plan.runId });
    progress.status = 'completed';
    return progress;
  } catch (error) {
    const reason = isCancellation(error) ? 'cancelled' : failureReason(error);
    progress.status = 'failed';
    progress.failure = reason;
    // Recorded even when the workflow was cancelled, so no run row stays 'running' for ever.
    await CancellationScope.nonCancellable(() => failInfobipSyncRun({ runId: plan.runId, reason }));
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.nonRetryable(`Infobip sync run ${plan.runId} failed: ${reason}`, 'InfobipSyncFailed');
  }
}
