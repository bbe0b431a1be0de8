import { type Client } from '@temporalio/client';
import type { Db } from '../db/client';
import { claimCtaRun, getCtaFlow, getLead, recordCtaRunStartError, type CtaFlow, type CtaRun } from '../db/queries';
import { ctaWorkflowId, type CtaWorkflowInput } from './contract';
import { FLOW_KIND, LEAD_ID, senderSendQueue } from '../shared';
import type { ctaWorkflow } from './workflow';
import { startClaimedWorkflow, STALE_PENDING_MS } from '../workflow-client';

export interface CtaStartDeps {
  db: Db;
  temporal: Client;
  /** Where the CTA workflow runs, and where its sends run (rate-limited). */
  taskQueue: string;
  sendTaskQueue: string;
}

export type CtaSkipReason =
  'flow_not_found' | 'flow_archived' | 'lead_not_found' | 'opted_out' | 'suppressed' | 'already_in_flow';

export type StartCtaResult =
  { kind: 'started'; run: CtaRun } | { kind: 'skipped'; reason: CtaSkipReason; run?: CtaRun };

/**
 * Puts a lead into a CTA flow: claims the run row (one per lead and flow), then starts
 * `cta-<leadId>-<flowId>`, whose id makes a duplicate start impossible on Temporal's side too.
 * Leads who opted out or said "not interested" before are never contacted.
 */
export async function startCtaFlow(
  deps: CtaStartDeps,
  params: { flowId: number; leadId: number; trigger: 'ivr' | 'api'; ivrCallId?: number | null },
): Promise<StartCtaResult> {
  const flow = await getCtaFlow(deps.db, params.flowId);
  if (!flow) return { kind: 'skipped', reason: 'flow_not_found' };
  if (flow.archivedAt) return { kind: 'skipped', reason: 'flow_archived' };
  const lead = await getLead(deps.db, params.leadId);
  if (!lead) return { kind: 'skipped', reason: 'lead_not_found' };
  if (lead.optedOut) return { kind: 'skipped', reason: 'opted_out' };
  if (lead.marketingSuppressedAt) return { kind: 'skipped', reason: 'suppressed' };

  const workflowId = ctaWorkflowId(lead.id, flow.id);
  const claim = await claimCtaRun(deps.db, {
    flowId: flow.id,
    leadId: lead.id,
    workflowId,
    trigger: params.trigger,
    ivrCallId: params.ivrCallId ?? null,
  });
  // A pending run whose start failed (recorded) or went missing (the process died) is started now.
  const lostStart =
    !claim.created &&
    claim.run.status === 'pending' &&
    (claim.run.lastError !== null || Date.now() - claim.run.createdAt.getTime() > STALE_PENDING_MS);
  if (!claim.created && !lostStart) return { kind: 'skipped', reason: 'already_in_flow', run: claim.run };

  // A failed start leaves the run pending with the reason: the next start for this lead and flow
  // (an IVR pass, an API call) tries again.
  const outcome = await startClaimedWorkflow<typeof ctaWorkflow>(
    deps.temporal,
    'ctaWorkflow',
    {
      taskQueue: deps.taskQueue,
      workflowId: claim.run.workflowId,
      args: [ctaWorkflowInput(deps, flow, claim.run)],
      typedSearchAttributes: [
        { key: LEAD_ID, value: claim.run.leadId },
        { key: FLOW_KIND, value: 'cta' },
      ],
    },
    (reason) => recordCtaRunStartError(deps.db, { runId: claim.run.id, error: reason, at: new Date() }),
  );
  if (outcome.kind === 'already_started') return { kind: 'skipped', reason: 'already_in_flow', run: claim.run };
  if (outcome.kind === 'failed') throw outcome.error;
  if (claim.run.lastError !== null)
    await recordCtaRunStartError(deps.db, { runId: claim.run.id, error: null, at: new Date() });
  return { kind: 'started', run: claim.run };
}

/** The workflow's input: the flow's timings frozen at the start. */
export function ctaWorkflowInput(
  deps: Pick<CtaStartDeps, 'sendTaskQueue'>,
  flow: CtaFlow,
  run: CtaRun,
): CtaWorkflowInput {
  return {
    runId: run.id,
    leadId: run.leadId,
    flowId: flow.id,
    // The flow's sender decides the queue its sends wait in, and so the number they go from.
    sendTaskQueue: senderSendQueue(deps.sendTaskQueue, flow.sender),
    reminderAfterSeconds: flow.reminderAfterSeconds,
    closeAfterSeconds: flow.closeAfterSeconds,
  };
}
