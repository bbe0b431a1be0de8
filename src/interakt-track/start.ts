import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../db/client';
import type { Lead } from '../db/queries';
import type { Logger } from '../logging/logger';
import { describeError } from '../logging/redact';
import { readField } from '../messages/variables';
import { readInteraktOptions } from '../settings/provider-settings';
import { LEAD_ID } from '../shared';
import {
  interaktEventWorkflowId,
  interaktUserWorkflowId,
  type InteraktTrackInput,
  type MilestoneSink,
} from './contract';
import type { interaktTrackWorkflow } from './workflow';

export interface TrackStartDeps {
  db: Db;
  temporal: Client;
  /** The main task queue, where the tracking workflows and their activities run. */
  taskQueue: string;
  log: Logger;
}

/**
 * After a lead was written: when tracking is on and a mapped trait is new or changed, starts
 * `interakt-user-<leadId>-<updatedAtMs>`, which sends the lead's mapped traits. Only the start is
 * awaited (one round trip, so the mirror is durable before the API answers); a start that fails
 * is logged and the lead write stands.
 */
export async function mirrorLeadToInterakt(deps: TrackStartDeps, lead: Lead, before?: Lead): Promise<void> {
  try {
    const options = await readInteraktOptions(deps.db);
    const mapping = Object.values(options.trackedTraits);
    if (!options.enabled || !options.trackingEnabled || mapping.length === 0) return;
    if (before && mapping.every((field) => readField(before, field) === readField(lead, field))) return;
    await startOnce(deps, interaktUserWorkflowId(lead.id, lead.updatedAt.getTime()), {
      kind: 'user',
      leadId: lead.id,
    });
  } catch (error) {
    deps.log.warn({ leadId: lead.id, err: describeError(error) }, 'could not start mirroring the lead to Interakt');
  }
}

/** The worker's milestone sink: an event workflow per milestone key, when tracking is on. */
export function interaktMilestoneSink(deps: TrackStartDeps): MilestoneSink {
  return async (milestone) => {
    try {
      const options = await readInteraktOptions(deps.db);
      if (!options.enabled || !options.trackingEnabled) return;
      await startOnce(deps, interaktEventWorkflowId(milestone.key), {
        kind: 'event',
        leadId: milestone.leadId,
        event: milestone.event,
        traits: milestone.traits,
      });
    } catch (error) {
      deps.log.warn(
        { leadId: milestone.leadId, event: milestone.event, err: describeError(error) },
        'could not start sending a milestone to Interakt',
      );
    }
  };
}

/** Starts the workflow unless one with its id ever ran: the id is what makes each call once-only. */
async function startOnce(deps: TrackStartDeps, workflowId: string, input: InteraktTrackInput): Promise<void> {
  try {
    await deps.temporal.workflow.start<typeof interaktTrackWorkflow>('interaktTrackWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: LEAD_ID, value: input.leadId }],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    throw error;
  }
}
