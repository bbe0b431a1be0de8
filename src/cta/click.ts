import type { Client } from '@temporalio/client';
import { CTA_DECISION_LEAD_STATE } from './contract';
import type { Db } from '../db/client';
import { withTransaction } from '../db/client';
import {
  applyCtaDecisionToLead,
  decideCtaRun,
  findCtaRun,
  getCtaFlow,
  recordCtaInteraction,
  type CtaFlow,
  type CtaRun,
} from '../db/queries';
import { ctaClickSignal, type CtaAction, type CtaClick } from './contract';
import { FLOW_KIND, LEAD_ID } from '../shared';
import { ctaWorkflowInput } from './start';
import { verifyCtaToken, type CtaKeyring, type CtaTokenFailure } from './tokens';
import type { ctaWorkflow } from './workflow';
import type { Logger } from '../logging/logger';

export interface CtaClickDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
  getCtaKeyring: () => Promise<CtaKeyring>;
  log: Logger;
  now?: () => Date;
}

export interface CtaClickRequest {
  leadId: string;
  token: unknown;
  action: unknown;
  userAgent: string | undefined;
  /** A link-preview fetcher or prefetch, not a person: it must change nothing. */
  isPreview: boolean;
}

export type CtaClickOutcome =
  | { kind: 'recorded'; action: CtaAction; flow: CtaFlow; signalled: boolean }
  | { kind: 'already_recorded'; decision: CtaAction; flow: CtaFlow }
  | { kind: 'preview' }
  | { kind: 'rejected'; reason: CtaTokenFailure | 'run_not_found' };

/**
 * One tap on a CTA button. The token must be ours, unexpired, and bound to this lead, this action
 * and a flow the lead is in; anything else is rejected with nothing changed. The first valid tap
 * decides: in one transaction it claims the decision, records the interaction and moves the lead
 * (status, stage, and for "not interested" marketing suppression). Then the run's workflow is
 * signalled. Later taps are recorded as repeats and see "already recorded".
 */
export async function handleCtaClick(deps: CtaClickDeps, request: CtaClickRequest): Promise<CtaClickOutcome> {
  if (request.isPreview) return { kind: 'preview' };
  if (
    !/^[1-9]\d{0,9}$/.test(request.leadId) ||
    typeof request.token !== 'string' ||
    typeof request.action !== 'string'
  ) {
    return { kind: 'rejected', reason: 'malformed' };
  }
  const leadId = Number(request.leadId);
  const at = (deps.now ?? (() => new Date()))();
  const check = verifyCtaToken(await deps.getCtaKeyring(), request.token, { leadId, action: request.action }, at);
  if (!check.ok) return { kind: 'rejected', reason: check.reason };

  const { flowId, action } = check.claims;
  const run = await findCtaRun(deps.db, { flowId, leadId });
  const flow = run && (await getCtaFlow(deps.db, flowId));
  if (!run || !flow) return { kind: 'rejected', reason: 'run_not_found' };

  const userAgent = request.userAgent ?? null;
  const decided = await withTransaction(deps.db, async (tx) => {
    const first = await decideCtaRun(tx, { runId: run.id, action, at });
    await recordCtaInteraction(tx, {
      runId: run.id,
      flowId,
      leadId,
      action,
      result: first ? 'decided' : 'repeat',
      userAgent,
      at,
    });
    if (first) await applyCtaDecisionToLead(tx, { leadId, ...CTA_DECISION_LEAD_STATE[action], at });
    return first;
  });

  if (!decided) {
    const current = await findCtaRun(deps.db, { flowId, leadId });
    const decision = current?.decision ?? action;
    // Until the workflow has carried the answer out (status = decision), the first tap's signal
    // may have been lost (Temporal briefly down): every repeat delivers it again.
    if (current?.decision && current.status !== current.decision) {
      await signalClick(deps, flow, current, {
        action: current.decision,
        clickedAt: (current.decidedAt ?? at).toISOString(),
      });
    }
    return { kind: 'already_recorded', decision, flow };
  }
  const signalled = await signalClick(deps, flow, run, { action, clickedAt: at.toISOString() });
  return { kind: 'recorded', action, flow, signalled };
}

/**
 * Delivers the click to `cta-<leadId>-<flowId>`. Signal-with-start: a running workflow just gets
 * the signal; one that already closed (no response) is started again to carry out the decision
 * without sending anything first. A failure is logged, not thrown: the decision is recorded, and
 * the workflow also finds it in the database before its next send.
 */
async function signalClick(deps: CtaClickDeps, flow: CtaFlow, run: CtaRun, click: CtaClick): Promise<boolean> {
  try {
    await deps.temporal.workflow.signalWithStart<typeof ctaWorkflow, [CtaClick]>('ctaWorkflow', {
      workflowId: run.workflowId,
      taskQueue: deps.taskQueue,
      args: [{ ...ctaWorkflowInput(deps, flow, run), decisionOnly: true }],
      signal: ctaClickSignal,
      signalArgs: [click],
      typedSearchAttributes: [
        { key: LEAD_ID, value: run.leadId },
        { key: FLOW_KIND, value: 'cta' },
      ],
    });
    return true;
  } catch (error) {
    deps.log.warn({ err: error, workflowId: run.workflowId }, 'could not signal the CTA workflow');
    return false;
  }
}
