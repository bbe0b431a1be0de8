import { ScheduleNotFoundError, isGrpcServiceError } from '@temporalio/client';
import { getInfobipSyncRun, getLastInfobipSyncSuccess, listInfobipSyncRuns } from '../db/queries';
import { infobipSyncProgressQuery, type InfobipSyncOptions } from './contract';
import {
  deleteInfobipSyncSchedule,
  describeInfobipSyncSchedule,
  pauseInfobipSyncSchedule,
  resumeInfobipSyncSchedule,
  triggerInfobipSyncSchedule,
  upsertInfobipSyncSchedule,
} from './schedule';
import { InfobipSyncWindowError } from './run';
import { startInfobipSync } from './start';
import type { ApiContext } from '../api/context';
import { queryOrNull } from '../workflow-client';
import { errorMessage } from '../logging/redact';
import { InvalidInputError, notFound } from '../errors';
import { InfobipSyncRunBody, InfobipSyncRunsQuery, InfobipSyncScheduleBody, ScheduleNoteBody } from './schemas';
import { IdParams } from '../api/schemas';
import { ApiRouter } from '../api/route';
import {
  InfobipSyncRunDetailResponse,
  InfobipSyncRunPageResponse,
  InfobipSyncStartResponse,
  LastSuccessResponse,
  ScheduleResponse,
  TriggeredResponse,
} from './schemas';

export type InfobipSyncRouterDeps = Pick<ApiContext, 'db' | 'temporal' | 'taskQueue' | 'checkResponses'> & {
  /** INFOBIP_SYNC_SAFETY_MARGIN_MS / INFOBIP_SYNC_INITIAL_LOOKBACK_MS; built-in defaults otherwise. */
  infobipSync?: Pick<InfobipSyncOptions, 'safetyMarginMs' | 'initialLookbackMs'>;
  /** Tests only: the Temporal Schedule's id. */
  infobipSyncScheduleId?: string;
  /** Pages per activity call of runs started here (how often their progress moves); default 10. */
  infobipSyncPagesPerChunk?: number;
};

/**
 * Infobip sync runs and their schedule, mounted at `/sync/infobip`: `POST /runs`, `GET /runs`,
 * `GET /runs/:id`, `GET /last-success`, and `POST /schedule`, `POST /schedule/{pause,resume,trigger}`,
 * `DELETE /schedule`, `GET /schedule`.
 */
export function infobipSyncRouter(deps: InfobipSyncRouterDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'Infobip sync', checkResponses: deps.checkResponses, writeRole: 'admin' });
  const scheduleId = deps.infobipSyncScheduleId;
  const windowDefaults = deps.infobipSync ?? {};

  routes.post(
    '/runs',
    {
      summary: 'Start a sync run',
      description:
        'Reads recently contacted people (People API, SMS logs or both) into leads. Without since, from the last successful run minus the safety margin; dryRun records what would change and writes nothing; runKey makes the start idempotent.',
      body: InfobipSyncRunBody,
      responses: { 202: InfobipSyncStartResponse },
    },
    async ({ body }, res) => {
      const { runKey, ...options } = body;
      try {
        const started = await startInfobipSync(deps, {
          trigger: 'api',
          options: { ...windowDefaults, ...options },
          ...(runKey !== undefined && { runKey }),
          ...(deps.infobipSyncPagesPerChunk !== undefined && { pagesPerChunk: deps.infobipSyncPagesPerChunk }),
        });
        const { run } = started;
        res.status(202).json({
          runId: run.id,
          runKey: run.runKey,
          workflowId: started.workflowId,
          status: run.status,
          windowFrom: run.windowFrom,
          windowTo: run.windowTo,
          warnings: (run.options.warnings as string[] | undefined) ?? [],
          alreadyStarted: started.alreadyStarted,
        });
      } catch (error) {
        if (error instanceof InfobipSyncWindowError)
          throw new InvalidInputError([{ location: 'body', path: 'since', message: error.message }]);
        throw error;
      }
    },
  );

  routes.get(
    '/runs',
    {
      summary: 'Past sync runs with their counts',
      query: InfobipSyncRunsQuery,
      responses: { 200: InfobipSyncRunPageResponse },
    },
    async ({ query }, res) => {
      res.json(await listInfobipSyncRuns(deps.db, query));
    },
  );

  routes.get(
    '/runs/:id',
    {
      summary: 'One sync run',
      description: "With its per-record errors, a dry run's preview, and the workflow's live progress while it runs.",
      params: IdParams,
      responses: { 200: InfobipSyncRunDetailResponse },
    },
    async ({ params }, res) => {
      const run = await getInfobipSyncRun(deps.db, params.id);
      if (!run) throw notFound('Infobip sync run');
      // The workflow's own progress while it runs; null when it cannot answer (the row then tells).
      const progress =
        run.status === 'running' ? await queryOrNull(deps.temporal, run.workflowId, infobipSyncProgressQuery) : null;
      res.json({ ...run, progress });
    },
  );

  // `lastSuccessAt`: where a manual run without `since` starts (any completed, non-dry run);
  // `lastScheduledSuccessAt`: where the next scheduled run starts (minus the safety margin).
  routes.get(
    '/last-success',
    {
      summary: 'Where the next runs start',
      description:
        'lastSuccessAt: the end of the last successful non-dry run; lastScheduledSuccessAt: the same for scheduled runs.',
      responses: { 200: LastSuccessResponse },
    },
    async (_input, res) => {
      const [any, scheduled] = [
        await getLastInfobipSyncSuccess(deps.db),
        await getLastInfobipSyncSuccess(deps.db, { trigger: 'schedule' }),
      ];
      res.json({ lastSuccessAt: any?.toISOString() ?? null, lastScheduledSuccessAt: scheduled?.toISOString() ?? null });
    },
  );

  routes.post(
    '/schedule',
    {
      summary: 'Create or change the sync schedule',
      description:
        'Every hour, every day, or a five-field cron expression, with the options of every scheduled run; overlapping runs are skipped.',
      body: InfobipSyncScheduleBody,
      responses: {
        201: ScheduleResponse,
        200: { description: 'The schedule existed and was changed', schema: ScheduleResponse },
      },
    },
    async ({ body }, res) => {
      const { every, cron, ...options } = body;
      const cadence = cron !== undefined ? { cron } : { every: every ?? 'hourly' };
      const { created } = await upsertInfobipSyncSchedule(deps.temporal, {
        taskQueue: deps.taskQueue,
        cadence,
        options: { ...windowDefaults, ...options },
        ...(scheduleId !== undefined && { scheduleId }),
      }).catch((error: unknown) => {
        // Five fields of the right shape can still name no time (`0 0 0 0 0`): Temporal's client
        // reads the expression and refuses it with a TypeError, the server with INVALID_ARGUMENT.
        if (cron !== undefined && isRefusedCron(error)) {
          throw new InvalidInputError([
            { location: 'body', path: 'cron', message: `not a schedule Temporal can run: ${errorMessage(error)}` },
          ]);
        }
        throw error;
      });
      res.status(created ? 201 : 200).json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    },
  );

  routes.post(
    '/schedule/pause',
    {
      summary: 'Pause the schedule',
      body: ScheduleNoteBody,
      responses: { 200: ScheduleResponse, 404: { description: 'No schedule' } },
    },
    async ({ body }, res) => {
      await orNotFound(() => pauseInfobipSyncSchedule(deps.temporal, body.note, scheduleId));
      res.json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    },
  );

  routes.post(
    '/schedule/resume',
    {
      summary: 'Resume the schedule',
      body: ScheduleNoteBody,
      responses: { 200: ScheduleResponse, 404: { description: 'No schedule' } },
    },
    async ({ body }, res) => {
      await orNotFound(() => resumeInfobipSyncSchedule(deps.temporal, body.note, scheduleId));
      res.json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    },
  );

  routes.post(
    '/schedule/trigger',
    {
      summary: "Run the schedule's action now",
      responses: { 202: TriggeredResponse, 404: { description: 'No schedule' } },
    },
    async (_input, res) => {
      await orNotFound(() => triggerInfobipSyncSchedule(deps.temporal, scheduleId));
      res.status(202).json({ triggered: true });
    },
  );

  routes.delete(
    '/schedule',
    {
      summary: 'Delete the schedule',
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No schedule' } },
    },
    async (_input, res) => {
      await orNotFound(() => deleteInfobipSyncSchedule(deps.temporal, scheduleId));
      res.status(204).end();
    },
  );

  routes.get(
    '/schedule',
    {
      summary: 'The schedule, its next runs and recent runs',
      responses: { 200: ScheduleResponse, 404: { description: 'No schedule' } },
    },
    async (_input, res) => {
      res.json(await orNotFound(() => describeInfobipSyncSchedule(deps.temporal, scheduleId)));
    },
  );

  return routes;
}

/** gRPC's INVALID_ARGUMENT. */
const INVALID_ARGUMENT = 3;

function isRefusedCron(error: unknown): boolean {
  return error instanceof TypeError || (isGrpcServiceError(error) && error.code === INVALID_ARGUMENT);
}

async function orNotFound<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw notFound('Infobip sync schedule');
    throw error;
  }
}
