import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Router } from 'express';
import { getInfobipSyncRun, getLastInfobipSyncSuccess, listInfobipSyncRuns } from '../db/queries';
import { infobipSyncProgressQuery, type InfobipSyncOptions, type InfobipSyncProgress } from './contract';
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
import { InvalidInputError, notFound } from '../errors';
import { InfobipSyncRunBody, InfobipSyncRunsQuery, InfobipSyncScheduleBody, ScheduleNoteBody } from './schemas';
import { IdParams } from '../api/schemas';
import { handle } from '../api/validate';

export type InfobipSyncRouterDeps = Pick<ApiContext, 'db' | 'temporal' | 'taskQueue'> & {
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
export function infobipSyncRouter(deps: InfobipSyncRouterDeps): Router {
  const router = Router();
  const scheduleId = deps.infobipSyncScheduleId;
  const windowDefaults = deps.infobipSync ?? {};

  router.post(
    '/runs',
    handle({ body: InfobipSyncRunBody }, async ({ body }, res) => {
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
    }),
  );

  router.get(
    '/runs',
    handle({ query: InfobipSyncRunsQuery }, async ({ query }, res) => {
      res.json(await listInfobipSyncRuns(deps.db, query));
    }),
  );

  router.get(
    '/runs/:id',
    handle({ params: IdParams }, async ({ params }, res) => {
      const run = await getInfobipSyncRun(deps.db, params.id);
      if (!run) throw notFound('Infobip sync run');
      const progress = run.status === 'running' ? await liveProgress(deps.temporal, run.workflowId) : null;
      res.json({ ...run, progress });
    }),
  );

  // `lastSuccessAt`: where a manual run without `since` starts (any completed, non-dry run);
  // `lastScheduledSuccessAt`: where the next scheduled run starts (minus the safety margin).
  router.get(
    '/last-success',
    handle({}, async (_input, res) => {
      const [any, scheduled] = [
        await getLastInfobipSyncSuccess(deps.db),
        await getLastInfobipSyncSuccess(deps.db, { trigger: 'schedule' }),
      ];
      res.json({ lastSuccessAt: any?.toISOString() ?? null, lastScheduledSuccessAt: scheduled?.toISOString() ?? null });
    }),
  );

  router.post(
    '/schedule',
    handle({ body: InfobipSyncScheduleBody }, async ({ body }, res) => {
      const { every, cron, ...options } = body;
      const cadence = cron !== undefined ? { cron } : { every: every ?? 'hourly' };
      const { created } = await upsertInfobipSyncSchedule(deps.temporal, {
        taskQueue: deps.taskQueue,
        cadence,
        options: { ...windowDefaults, ...options },
        ...(scheduleId !== undefined && { scheduleId }),
      });
      res.status(created ? 201 : 200).json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    }),
  );

  router.post(
    '/schedule/pause',
    handle({ body: ScheduleNoteBody }, async ({ body }, res) => {
      await orNotFound(() => pauseInfobipSyncSchedule(deps.temporal, body.note, scheduleId));
      res.json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    }),
  );

  router.post(
    '/schedule/resume',
    handle({ body: ScheduleNoteBody }, async ({ body }, res) => {
      await orNotFound(() => resumeInfobipSyncSchedule(deps.temporal, body.note, scheduleId));
      res.json(await describeInfobipSyncSchedule(deps.temporal, scheduleId));
    }),
  );

  router.post(
    '/schedule/trigger',
    handle({}, async (_input, res) => {
      await orNotFound(() => triggerInfobipSyncSchedule(deps.temporal, scheduleId));
      res.status(202).json({ triggered: true });
    }),
  );

  router.delete(
    '/schedule',
    handle({}, async (_input, res) => {
      await orNotFound(() => deleteInfobipSyncSchedule(deps.temporal, scheduleId));
      res.status(204).end();
    }),
  );

  router.get(
    '/schedule',
    handle({}, async (_input, res) => {
      res.json(await orNotFound(() => describeInfobipSyncSchedule(deps.temporal, scheduleId)));
    }),
  );

  return router;
}

async function orNotFound<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw notFound('Infobip sync schedule');
    throw error;
  }
}

/** The workflow's own progress while it runs; null when it is gone (the row then tells). */
async function liveProgress(temporal: Client, workflowId: string): Promise<InfobipSyncProgress | null> {
  try {
    return await temporal.workflow.getHandle(workflowId).query(infobipSyncProgressQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
