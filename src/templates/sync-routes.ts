import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  createTemplateSyncRun,
  findRunningTemplateSyncRun,
  finishTemplateSyncRun,
  getTemplateSyncRun,
  listTemplateSyncRuns,
  type TemplateSyncRun,
} from '../db/queries';
import type { ProviderName } from '../shared';
import { templateSyncScheduleId, templateSyncWorkflowId } from './contract';
import type { templateSyncWorkflow } from './workflow';
import type { ApiContext } from '../api/context';
import { notFound } from '../errors';
import { IdParams, Paging } from '../api/schemas';
import { ApiRouter } from '../api/route';
import { startClaimedWorkflow } from '../workflow-client';
import { TemplateSyncRunPageResponse, TemplateSyncRunResponse, TemplateSyncStartResponse } from './schemas';

export type TemplateSyncRouterDeps = Pick<ApiContext, 'db' | 'temporal' | 'taskQueue' | 'checkResponses'> &
  Partial<Pick<ApiContext, 'messagingProvider'>>;

/**
 * `POST /sync`, `GET /sync-runs`, `GET /sync-runs/:id`, mounted under `/templates`. Mount it before
 * the template CRUD router, so `/templates/sync-runs` is not read as a template id.
 */
export function templateSyncRouter(deps: TemplateSyncRouterDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'Message Master', checkResponses: deps.checkResponses, writeRole: 'admin' });
  // The deployment's provider: the one whose templates its worker reads.
  const PROVIDER: ProviderName = deps.messagingProvider ?? 'interakt';

  routes.post(
    '/sync',
    {
      summary: 'Sync templates from the provider now',
      description: 'One sync at a time: a request while one runs joins it.',
      responses: { 202: TemplateSyncStartResponse },
    },
    async (_input, res) => {
      // A sync already under way answers for this request too: two passes at once gain nothing.
      const running = await findRunningTemplateSyncRun(deps.db, PROVIDER);
      const liveWorkflowId = running && (await runningWorkflowId(deps.temporal, running, PROVIDER));
      if (running && liveWorkflowId) {
        res
          .status(202)
          .json({ runId: running.id, workflowId: liveWorkflowId, status: running.status, alreadyRunning: true });
        return;
      }

      const run = await createTemplateSyncRun(deps.db, { provider: PROVIDER, trigger: 'api' });
      const workflowId = templateSyncWorkflowId(run.id);
      const outcome = await startClaimedWorkflow<typeof templateSyncWorkflow>(
        deps.temporal,
        'templateSyncWorkflow',
        { taskQueue: deps.taskQueue, workflowId, args: [{ runId: run.id }] },
        (reason) =>
          finishTemplateSyncRun(deps.db, run.id, { status: 'failed', counts: {}, errors: [{ message: reason }] }),
      );
      if (outcome.kind === 'failed') throw outcome.error;
      res.status(202).json({ runId: run.id, workflowId, status: run.status, alreadyRunning: false });
    },
  );

  routes.get(
    '/sync-runs',
    { summary: 'Past template syncs', query: Paging, responses: { 200: TemplateSyncRunPageResponse } },
    async ({ query }, res) => {
      res.json(await listTemplateSyncRuns(deps.db, { ...query, provider: PROVIDER }));
    },
  );

  routes.get(
    '/sync-runs/:id',
    {
      summary: 'One template sync with its counts and errors',
      params: IdParams,
      responses: { 200: TemplateSyncRunResponse },
    },
    async ({ params }, res) => {
      const run = await getTemplateSyncRun(deps.db, params.id);
      if (!run) throw notFound('template sync run');
      res.json(run);
    },
  );

  return routes;
}

/**
 * The workflow still working on a 'running' row, or null when there is none (it was terminated,
 * or its row was never closed). A scheduled run's workflow id is Temporal's, found on the schedule.
 */
async function runningWorkflowId(
  temporal: Client,
  run: TemplateSyncRun,
  provider: ProviderName,
): Promise<string | null> {
  try {
    if (run.trigger === 'schedule') {
      const schedule = await temporal.schedule.getHandle(templateSyncScheduleId(provider)).describe();
      return schedule.info.runningActions[0]?.workflow.workflowId ?? null;
    }
    const workflowId = templateSyncWorkflowId(run.id);
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? workflowId : null;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || error instanceof ScheduleNotFoundError) return null;
    throw error;
  }
}
