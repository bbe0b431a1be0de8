/**
 * The Temporal Schedule that runs the Infobip sync hourly, daily or on a cron expression. Its runs
 * carry no window: each opens its run from the last successful run's end minus the safety margin
 * (see openInfobipSyncRun), so no contact falls between two runs, however late one starts.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import { infobipSyncWorkflowId, type InfobipSyncOptions, type InfobipSyncWorkflowInput } from './contract';
import type { infobipSyncWorkflow } from './workflow';

export const INFOBIP_SYNC_SCHEDULE_ID = 'infobip-sync';
/** Temporal appends the scheduled time, so a scheduled run is `infobip-sync-scheduled-<time>`. */
export const INFOBIP_SCHEDULED_WORKFLOW_ID = infobipSyncWorkflowId('scheduled');

export type InfobipSyncCadence = { every: 'hourly' | 'daily' } | { cron: string };

/** What every scheduled run does: the window is left to each run. */
export type ScheduledInfobipSyncOptions = Omit<InfobipSyncOptions, 'since' | 'until'>;

export interface InfobipSyncScheduleParams {
  /** The main task queue, where workflows run. */
  taskQueue: string;
  cadence: InfobipSyncCadence;
  options: ScheduledInfobipSyncOptions;
  /** Defaults to INFOBIP_SYNC_SCHEDULE_ID. */
  scheduleId?: string;
}

export interface InfobipSyncScheduleSummary {
  scheduleId: string;
  cadence: InfobipSyncCadence | null;
  paused: boolean;
  note: string | null;
  options: ScheduledInfobipSyncOptions | null;
  nextRunTimes: string[];
  recentRuns: Array<{ scheduledAt: string; startedAt: string; workflowId: string }>;
  runningWorkflowIds: string[];
}

function specOf(cadence: InfobipSyncCadence): ScheduleSpec {
  if ('cron' in cadence) return { cronExpressions: [cadence.cron] };
  return { intervals: [{ every: cadence.every === 'hourly' ? '1h' : '1d' }] };
}

function actionOf(params: InfobipSyncScheduleParams, scheduleId: string) {
  const input: InfobipSyncWorkflowInput = { trigger: 'schedule', scheduleId, options: params.options };
  return {
    type: 'startWorkflow' as const,
    workflowType: 'infobipSyncWorkflow',
    workflowId: INFOBIP_SCHEDULED_WORKFLOW_ID,
    taskQueue: params.taskQueue,
    args: [input] satisfies Parameters<typeof infobipSyncWorkflow>,
    // On the action, not the schedule: an update replaces the action, so the cadence shown stays true.
    memo: { cadence: params.cadence },
  };
}

/**
 * Creates the schedule, or replaces the cadence and options of the one that exists (its paused
 * state stays). Overlap SKIP: a run still going when the next is due makes that one skip, never
 * two runs over the same leads at once.
 */
export async function upsertInfobipSyncSchedule(
  client: Client,
  params: InfobipSyncScheduleParams,
): Promise<{ created: boolean }> {
  const scheduleId = params.scheduleId ?? INFOBIP_SYNC_SCHEDULE_ID;
  try {
    await client.schedule.create({
      scheduleId,
      spec: specOf(params.cadence),
      action: actionOf(params, scheduleId),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
    });
    return { created: true };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec: specOf(params.cadence),
    action: actionOf(params, scheduleId),
    policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
  }));
  return { created: false };
}

export async function pauseInfobipSyncSchedule(
  client: Client,
  note = 'paused through the API',
  scheduleId = INFOBIP_SYNC_SCHEDULE_ID,
): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function resumeInfobipSyncSchedule(
  client: Client,
  note = 'resumed through the API',
  scheduleId = INFOBIP_SYNC_SCHEDULE_ID,
): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/** Starts a run now; the overlap policy still applies, so a run under way makes this one skip. */
export async function triggerInfobipSyncSchedule(client: Client, scheduleId = INFOBIP_SYNC_SCHEDULE_ID): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger();
}

export async function deleteInfobipSyncSchedule(client: Client, scheduleId = INFOBIP_SYNC_SCHEDULE_ID): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}

/** Throws ScheduleNotFoundError when there is none. */
export async function describeInfobipSyncSchedule(
  client: Client,
  scheduleId = INFOBIP_SYNC_SCHEDULE_ID,
): Promise<InfobipSyncScheduleSummary> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  return summarise(scheduleId, description);
}

function summarise(scheduleId: string, description: ScheduleDescription): InfobipSyncScheduleSummary {
  const action = description.action;
  const input =
    action.type === 'startWorkflow' ? (action.args?.[0] as InfobipSyncWorkflowInput | undefined) : undefined;
  return {
    scheduleId,
    cadence: cadenceOf(description),
    paused: description.state.paused,
    note: description.state.note ?? null,
    options: input?.options ?? null,
    nextRunTimes: description.info.nextActionTimes.map((at) => at.toISOString()),
    recentRuns: description.info.recentActions.map((recent) => ({
      scheduledAt: recent.scheduledAt.toISOString(),
      startedAt: recent.takenAt.toISOString(),
      workflowId: recent.action.workflow.workflowId,
    })),
    runningWorkflowIds: description.info.runningActions.map((running) => running.workflow.workflowId),
  };
}

function cadenceOf(description: ScheduleDescription): InfobipSyncCadence | null {
  const action = description.action;
  return action.type === 'startWorkflow' ? ((action.memo?.cadence as InfobipSyncCadence | undefined) ?? null) : null;
}
