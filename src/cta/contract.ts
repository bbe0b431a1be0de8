/**
 * The CTA follow-up's contract: its workflow id, what it is started with, the click and stop
 * signals and the state query. Shared by the API, the worker, the workflow and the tests;
 * workflow-safe.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CtaAction, CtaRunStatus } from '../db/schema/values';

export { CTA_ACTIONS, CTA_RUN_STATUSES, type CtaAction, type CtaRunStatus } from '../db/schema/values';

export const ctaWorkflowId = (leadId: number, flowId: number): string => `cta-${leadId}-${flowId}`;

/** What `cta-<leadId>-<flowId>` is started with: the flow's settings as they were at the start. */
export interface CtaWorkflowInput {
  runId: number;
  leadId: number;
  flowId: number;
  sendTaskQueue: string;
  /** No click this long after the message: one reminder. */
  reminderAfterSeconds: number;
  /** No click this long after the reminder: the flow closes as no response. */
  closeAfterSeconds: number;
  /**
   * Set when a click arrives after the run had closed (no response, or the workflow was gone):
   * the new run sends nothing first and only carries out the decision it is signalled.
   */
  decisionOnly?: boolean;
}

/** A human click with a valid token, already recorded in CtaInteractions by the click endpoint. */
export interface CtaClick {
  action: CtaAction;
  /** ISO time of the click. */
  clickedAt: string;
}

export interface CtaStopArgs {
  /** `not_interested` (another flow's answer), `opted_out`, `admin`, ... */
  reason: string;
}

/** What the run is doing, for the API and the Temporal UI. */
export interface CtaState {
  runId: number;
  status: CtaRunStatus;
  decision: CtaAction | null;
  /** ISO time the next wait ends (reminder or close), or null when not waiting. */
  waitingUntil: string | null;
  stopReason: string | null;
}

export const ctaClickSignal = defineSignal<[CtaClick]>('ctaClick');
export const stopCtaSignal = defineSignal<[CtaStopArgs]>('stopCta');
export const ctaStateQuery = defineQuery<CtaState>('ctaState');

/** The status and stage a decision puts the lead in (the click endpoint applies them at once). */
export const CTA_DECISION_LEAD_STATE: Record<CtaAction, { status: string; stage: string; suppress: boolean }> = {
  interested: { status: 'Interested', stage: 'Interested', suppress: false },
  not_interested: { status: 'Not interested', stage: 'Cold', suppress: true },
};
