/** Starting an Infobip sync run on demand: the API's and the CLI's one way in. */
import { randomUUID } from 'node:crypto';
import { type Client } from '@temporalio/client';
import type { Db } from '../db/client';
import { finishInfobipSyncRun, type InfobipSyncRun } from '../db/queries';
import { infobipSyncWorkflowId, type InfobipSyncOptions, type InfobipSyncWorkflowInput } from './contract';
import type { infobipSyncWorkflow } from './workflow';
import { openInfobipSyncRun } from './run';
import { startClaimedWorkflow } from '../workflow-client';

export interface StartInfobipSyncDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
}

export interface StartInfobipSyncParams {
  trigger: 'api' | 'cli';
  options: InfobipSyncOptions;
  /** Names the run; a start with a key already used answers with that run. Default: `<trigger>-<uuid>`. */
  runKey?: string;
  pagesPerChunk?: number;
}

export interface StartedInfobipSync {
  run: InfobipSyncRun;
  workflowId: string;
  /** True when the key named a run that already existed: nothing new was started. */
  alreadyStarted: boolean;
}

/**
 * Opens the run (so the caller can answer with its id and window at once), then starts its
 * workflow, which finds the run by its key. A workflow that cannot be started closes the run as
 * failed. Throws InfobipSyncWindowError for an empty window.
 */
export async function startInfobipSync(
  deps: StartInfobipSyncDeps,
  params: StartInfobipSyncParams,
): Promise<StartedInfobipSync> {
  const runKey = params.runKey ?? `${params.trigger}-${randomUUID()}`;
  const workflowId = infobipSyncWorkflowId(runKey);
  const { run, created } = await openInfobipSyncRun(deps.db, {
    runKey,
    workflowId,
    trigger: params.trigger,
    options: params.options,
    now: new Date(),
  });
  if (!created) return { run, workflowId: run.workflowId, alreadyStarted: true };

  const input: InfobipSyncWorkflowInput = { trigger: params.trigger, options: params.options };
  if (params.pagesPerChunk !== undefined) input.pagesPerChunk = params.pagesPerChunk;
  const outcome = await startClaimedWorkflow<typeof infobipSyncWorkflow>(
    deps.temporal,
    'infobipSyncWorkflow',
    { taskQueue: deps.taskQueue, workflowId, args: [input] },
    (reason) => finishInfobipSyncRun(deps.db, run.id, { status: 'failed', failure: reason, finishedAt: new Date() }),
  );
  if (outcome.kind === 'failed') throw outcome.error;
  return { run, workflowId, alreadyStarted: outcome.kind === 'already_started' };
}
