/**
 * How the API talks to the workflows of its rows: starting the workflow of a claimed row, and
 * asking a running workflow for its own view without waiting on a worker that may not come.
 *
 * One way to start the workflow of a row just claimed in the database (a drip assignment, a CTA
 * run, a welcome, a sync run). The workflow id is built from the row's business key, so Temporal
 * itself refuses a second start: a start that already happened (another API process, a retried
 * request) is `already_started`, never an error. Any other failure is handed to `recordFailure`
 * first, so the row says why it has no workflow, and comes back as `failed` for the caller to
 * answer with or rethrow.
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Workflow } from '@temporalio/common';
import { errorMessage } from './logging/redact';

export type StartOutcome = { kind: 'started' } | { kind: 'already_started' } | { kind: 'failed'; error: unknown };

export async function startClaimedWorkflow<T extends Workflow>(
  temporal: Client,
  workflowType: string,
  options: WorkflowStartOptions<T>,
  /** Records why the row has no workflow, e.g. as its lastError; given `workflow start failed: <reason>`. */
  recordFailure: (reason: string) => Promise<unknown>,
): Promise<StartOutcome> {
  try {
    await temporal.workflow.start<T>(workflowType, options);
    return { kind: 'started' };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'already_started' };
    await recordFailure(`workflow start failed: ${errorMessage(error)}`);
    return { kind: 'failed', error };
  }
}

/**
 * A claimed row still `pending` this long after it was created lost its workflow start (the
 * process died between the insert and the start); the next request for the same key starts it.
 */
export const STALE_PENDING_MS = 60_000;

/**
 * How long the API waits for a workflow to answer a query. A query is answered by a worker; with
 * none polling (all restarting, or scaled to zero) the server holds it until its own deadline, and
 * a page showing a run's live progress must not hang on that: the stored row is the answer then.
 */
export const LIVE_QUERY_TIMEOUT_MS = 3_000;

/** The workflow's answer to `query`, or null when it cannot answer soon (no worker, gone, closed). */
export async function queryOrNull<T>(
  temporal: Client,
  workflowId: string,
  query: QueryDefinition<T, []>,
  timeoutMs = LIVE_QUERY_TIMEOUT_MS,
): Promise<T | null> {
  try {
    return await temporal.withDeadline(Date.now() + timeoutMs, () =>
      temporal.workflow.getHandle(workflowId).query(query),
    );
  } catch {
    return null;
  }
}
