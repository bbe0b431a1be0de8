import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { TemplateSyncActivities, TemplateSyncSummary } from './activities';

export interface TemplateSyncWorkflowInput {
  /**
   * The TemplateSyncRuns row the API created before starting this run. Absent when the schedule
   * started it: the workflow then creates its own row, with trigger 'schedule'.
   */
  runId?: number;
}

/** Run bookkeeping is plain SQL: retried until the database answers, it is idempotent. */
const { startTemplateSyncRun, failTemplateSyncRun } = proxyActivities<TemplateSyncActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One pass over the provider's list. The heartbeat timeout notices a dead worker within a minute
 * and the retry resumes at the last page done. A few attempts cover a provider outage; after that
 * the run fails and the next scheduled sync starts over. A refused request or a bad API key is
 * not retried at all (the activity marks those non-retryable).
 */
const { syncProviderTemplates, syncInteraktTemplates } = proxyActivities<TemplateSyncActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5 },
});

/**
 * Since the sync reads whichever provider the deployment sends through, its activity is
 * `syncProviderTemplates`; runs started before call it by its first name (same activity).
 */
const PROVIDER_TEMPLATE_SYNC = 'provider-template-sync';

/**
 * Syncs Message Master with the provider's template list and records the run in TemplateSyncRuns.
 * Started by `POST /templates/sync` (with the run row it created) or by the hourly schedule
 * (without one). Ends when the pass completes, or fails after the run is marked failed.
 */
export async function templateSyncWorkflow(input: TemplateSyncWorkflowInput = {}): Promise<TemplateSyncSummary> {
  const runId =
    input.runId ??
    (await startTemplateSyncRun({ trigger: 'schedule', startedAtMs: workflowInfo().startTime.getTime() }));
  try {
    if (patched(PROVIDER_TEMPLATE_SYNC)) return await syncProviderTemplates({ runId });
    return await syncInteraktTemplates({ runId });
  } catch (error) {
    const reason =
      error instanceof ActivityFailure && error.cause
        ? error.cause.message
        : error instanceof Error
          ? error.message
          : String(error);
    // Recorded even when the workflow was cancelled, so no run row stays 'running' for ever.
    await CancellationScope.nonCancellable(() =>
      failTemplateSyncRun({ runId, message: isCancellation(error) ? 'cancelled' : reason }),
    );
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.nonRetryable(`template sync run ${runId} failed: ${reason}`, 'TemplateSyncFailed');
  }
}
