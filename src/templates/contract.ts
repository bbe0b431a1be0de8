import { defineSignal } from '@temporalio/workflow';

/**
 * Ids of the template sync in Temporal, for the API, the worker and the tests (the workflow itself
 * never needs them). A run started from the API is `template-sync-<runId>`, built from its
 * TemplateSyncRuns row; runs the schedule starts are named by Temporal after the schedule id.
 */
export const templateSyncWorkflowId = (runId: number): string => `template-sync-${runId}`;

/** One schedule per provider: `template-sync-<provider>`. */
export const templateSyncScheduleId = (provider: string): string => `template-sync-${provider}`;

/** Interakt's schedule, the first one (and the default where no provider is named). */
export const TEMPLATE_SYNC_SCHEDULE_ID = templateSyncScheduleId('interakt');

// ---------------------------------------------------------------------------------------------
// Submitting a template to Meta for review (POST /templates/submissions)

export const templateSubmissionWorkflowId = (templateId: number): string => `template-submission-${templateId}`;

/** What `template-submission-<templateId>` is started with. */
export interface TemplateSubmissionInput {
  /** The Message Master row created for it (status Pending until Meta decides). */
  templateId: number;
  /** Meta's `message_templates` JSON, as the template JSON builder made it. */
  definition: { name: string; language: string; category: string; components: unknown[] };
}

export interface TemplateSubmissionResult {
  templateId: number;
  /** Meta's id for the template. */
  providerTemplateId: string;
  /** The status Message Master holds when tracking ended (`Approved`, `Rejected`, or still `Pending`). */
  approvalStatus: string;
  /** False when tracking gave up before Meta decided; the hourly sync still brings the outcome. */
  decided: boolean;
}

/** The review ends at approval or rejection; anything else (pending, in appeal) is still to be decided. */
export const REVIEW_DECIDED_STATUSES: readonly string[] = ['Approved', 'Rejected'];

/** Sent by the template webhook when Meta reports on the template: look now, not at the next poll. */
export const templateReviewedSignal = defineSignal('templateReviewed');
