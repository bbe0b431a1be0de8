/**
 * The Temporal Schedule that syncs templates from Interakt on an interval. Created by the worker
 * at start; creating it again is a no-op, so every worker (and every restart) may call this.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { templateSyncWorkflow } from './workflow';
import { TEMPLATE_SYNC_SCHEDULE_ID } from './contract';

export interface TemplateSyncScheduleOptions {
  /** The main task queue, where workflows run. */
  taskQueue: string;
  /** How often to sync, e.g. `'1h'`. */
  every: Duration;
  /** Defaults to TEMPLATE_SYNC_SCHEDULE_ID (tests pass their own). */
  scheduleId?: string;
}

export interface EnsuredSchedule {
  handle: ScheduleHandle;
  /** False when the schedule already existed; it is then left as it was. */
  created: boolean;
}

/**
 * Creates the sync schedule unless it exists. Overlap SKIP: a sync still running when the next is
 * due makes the next one skip, never a second concurrent pass. The runs it starts carry no run id,
 * so each creates its own TemplateSyncRuns row with trigger 'schedule'.
 */
export async function ensureTemplateSyncSchedule(
  client: Client,
  options: TemplateSyncScheduleOptions,
): Promise<EnsuredSchedule> {
  const scheduleId = options.scheduleId ?? TEMPLATE_SYNC_SCHEDULE_ID;
  try {
    const handle = await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'templateSyncWorkflow',
        // Temporal appends the scheduled time, so each run's id is `<workflowId>-<time>`.
        workflowId: scheduleId,
        taskQueue: options.taskQueue,
        args: [{}] satisfies Parameters<typeof templateSyncWorkflow>,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
    });
    return { handle, created: true };
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning)
      return { handle: client.schedule.getHandle(scheduleId), created: false };
    throw error;
  }
}
