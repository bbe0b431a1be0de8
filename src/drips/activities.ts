import type { Db } from '../db/client';
import { addAssignmentEvent, getAssignment, updateAssignment } from '../db/queries';
import { MILESTONE_EVENTS, type MilestoneEvent, type MilestoneSink } from '../interakt-track/contract';
import type { AssignmentEventKind, DripProgress } from './contract';

export interface DripActivityDeps {
  db: Db;
  now?: () => Date;
  /** Where a drip's milestones go (Interakt events, when tracking is on); none: not reported. */
  milestones?: MilestoneSink;
}

/** The step-history events that are milestones of the lead's drip. */
const MILESTONES: Partial<Record<AssignmentEventKind, MilestoneEvent>> = {
  started: MILESTONE_EVENTS.dripStarted,
  step_sent: MILESTONE_EVENTS.dripStepSent,
  completed: MILESTONE_EVENTS.dripCompleted,
  cancelled: MILESTONE_EVENTS.dripStopped,
  failed: MILESTONE_EVENTS.dripStopped,
};

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
      const milestone = MILESTONES[event.type];
      if (milestone && deps.milestones) {
        const assignment = await getAssignment(deps.db, progress.assignmentId);
        if (assignment) {
          await deps.milestones({
            leadId: assignment.leadId,
            event: milestone,
            // Once per assignment, kind and step: a retried activity reports the same key.
            key: `drip-${progress.assignmentId}-${event.type}${event.stepIndex === undefined ? '' : `-${event.stepIndex}`}`,
            traits: {
              sequenceId: assignment.sequenceId,
              ...(event.stepIndex !== undefined && { step: event.stepIndex + 1 }),
              ...(progress.stopReason && { reason: progress.stopReason }),
            },
          });
        }
      }
    },
  };
}

export type DripActivities = ReturnType<typeof createDripActivities>;
