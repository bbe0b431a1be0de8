/**
 * Ids of the template sync in Temporal, for the API, the worker and the tests (the workflow itself
 * never needs them). A run started from the API is `template-sync-<runId>`, built from its
 * TemplateSyncRuns row; runs the schedule starts are named by Temporal after the schedule id.
 */
export const templateSyncWorkflowId = (runId: number): string => `template-sync-${runId}`;

/** One schedule per provider account; Interakt is the only provider synced so far. */
export const TEMPLATE_SYNC_SCHEDULE_ID = 'template-sync-interakt';
