import type { Db } from '../db/client';
import { addAssignmentEvent, updateAssignment } from '../db/queries';
import type { AssignmentEventKind, DripProgress } from './contract';

export interface DripActivityDeps {
  db: Db;
  now?: () => Date;
}

export interface RecordDripProgressInput {
  progress: DripProgress;
  event: { type: AssignmentEventKind; stepIndex?: number | undefined; detail?: string | undefined };
}

const FINISHED = new Set(['completed', 'cancelled', 'failed']);

export function createDripActivities(deps: DripActivityDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    /** Mirrors the workflow's state into LeadDripAssignment so the CRM sees who is on which step. */
    async recordDripProgress({ progress, event }: RecordDripProgressInput): Promise<void> {
      const at = now();
      await updateAssignment(deps.db, progress.assignmentId, {
        status: progress.status,
        nextStep: progress.nextStep,
        nextSendAt: progress.nextSendAt ? new Date(progress.nextSendAt) : null,
        stopReason: progress.stopReason,
        lastError: progress.lastError,
        completedAt: FINISHED.has(progress.status) ? at : null,
      });
      await addAssignmentEvent(deps.db, {
        assignmentId: progress.assignmentId,
        stepIndex: event.stepIndex ?? null,
        event: event.type,
        detail: event.detail ?? null,
        at,
      });
    },
  };
}

export type DripActivities = ReturnType<typeof createDripActivities>;
