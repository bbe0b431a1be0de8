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
