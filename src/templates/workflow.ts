import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { TemplateSubmissionActivities, TemplateSyncActivities, TemplateSyncSummary } from './activities';
import {
  REVIEW_DECIDED_STATUSES,
  templateReviewedSignal,
  type TemplateSubmissionInput,
  type TemplateSubmissionResult,
} from './contract';
import { failureReason } from '../shared';

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
    const reason = failureReason(error);
    // Recorded even when the workflow was cancelled, so no run row stays 'running' for ever.
    await CancellationScope.nonCancellable(() =>
      failTemplateSyncRun({ runId, message: isCancellation(error) ? 'cancelled' : reason }),
    );
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.nonRetryable(`template sync run ${runId} failed: ${reason}`, 'TemplateSyncFailed');
  }
}

/** Submitting is one Graph call; a refusal is final (the activity marks it), an outage is retried. */
const { submitTemplateForReview } = proxyActivities<TemplateSubmissionActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
/** A look at the review; a failed look is simply the next one's job, so few retries. */
const { checkTemplateReview } = proxyActivities<TemplateSubmissionActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', maximumInterval: '1 minute', maximumAttempts: 3 },
});

/**
 * How long to wait before each look at the review: soon at first (many templates are decided in
 * minutes), then every six hours. 4 + 120 looks cover 30 days, where tracking stops; the review's
 * webhook cuts any wait short, and the hourly sync brings a later decision all the same.
 */
const REVIEW_WAITS = ['1 minute', '5 minutes', '15 minutes', '1 hour'] as const;
const REVIEW_WAIT_AFTER = '6 hours';
const MAX_LOOKS = REVIEW_WAITS.length + 120;

/**
 * `template-submission-<templateId>`: submits a template to Meta for review and follows it until
 * Meta approves or rejects it. Waits on a timer per look, raced against `templateReviewed` (sent
 * by the template webhook), then reads the status by id into Message Master. Ends at a decision,
 * or after 30 days undecided.
 */
export async function templateSubmissionWorkflow(input: TemplateSubmissionInput): Promise<TemplateSubmissionResult> {
  let reviewed = false;
  setHandler(templateReviewedSignal, () => {
    reviewed = true;
  });
  let state = await submitTemplateForReview(input);
  for (let look = 0; look < MAX_LOOKS && !REVIEW_DECIDED_STATUSES.includes(state.approvalStatus); look++) {
    reviewed = false;
    await condition(() => reviewed, REVIEW_WAITS[look] ?? REVIEW_WAIT_AFTER);
    try {
      state = await checkTemplateReview({ templateId: input.templateId });
    } catch (error) {
      // Meta no longer has the template: there is nothing left to follow.
      if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.nonRetryable)
        break;
      // Otherwise an outage: the next look tries again.
    }
  }
  return {
    templateId: input.templateId,
    providerTemplateId: state.providerTemplateId,
    approvalStatus: state.approvalStatus,
    decided: REVIEW_DECIDED_STATUSES.includes(state.approvalStatus),
  };
}
