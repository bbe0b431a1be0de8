/**
 * The contract between the API, the worker, the workflows and the tests: workflow ids, search
 * attributes, signals and queries, and the shapes that cross the workflow boundary. Pure
 * definitions only: workflow code imports this file, so nothing here may touch I/O.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// ---------------------------------------------------------------------------------------------
// Workflow ids, built from business keys so a duplicate start is refused by Temporal itself.

export const dripWorkflowId = (assignmentId: number): string => `drip-${assignmentId}`;
export const welcomeWorkflowId = (leadId: number): string => `welcome-${leadId}`;
export const ctaWorkflowId = (leadId: number, flowId: string): string => `cta-${leadId}-${flowId}`;
export const infobipSyncWorkflowId = (runId: string): string => `infobip-sync-${runId}`;

/** The business idempotency key of one send: a retry of the same step reuses it. */
export const sendIdempotencyKey = (workflowId: string, step: number | string): string => `${workflowId}:${step}`;

/** Sends go through their own queue per provider account so the server can rate-limit them. */
export const sendTaskQueue = (mainTaskQueue: string, provider: ProviderName): string => `${mainTaskQueue}-sends-${provider}`;

// ---------------------------------------------------------------------------------------------
// Search attributes (registered on the dev server by temporal/dev-server.mjs).

export const LEAD_ID = defineSearchAttributeKey('LeadId', SearchAttributeType.INT);
export const DRIP_SEQUENCE_ID = defineSearchAttributeKey('DripSequenceId', SearchAttributeType.INT);
export const FLOW_KIND = defineSearchAttributeKey('FlowKind', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [LEAD_ID, DRIP_SEQUENCE_ID, FLOW_KIND] as const;

export type FlowKind = 'drip' | 'welcome' | 'cta' | 'infobip-sync' | 'campaign';

// ---------------------------------------------------------------------------------------------
// Providers and templates as they cross the workflow boundary.

export type ProviderName = 'interakt' | 'meta';

/** Where a template variable takes its value from at send time. */
export type VariableSource = { field: LeadField } | { value: string };

/** Lead fields a variable may read; `custom.<key>` reads the lead's custom fields. */
export type LeadField = 'name' | 'firstName' | 'lastName' | 'phone' | 'email' | 'status' | 'stage' | `custom.${string}`;

export interface TemplateVariables {
  header?: VariableSource[];
  body?: VariableSource[];
  /** Keyed by the button's 0-based index in the template, as Interakt expects. */
  buttons?: Record<string, VariableSource[]>;
  /** File name shown for a document header. */
  fileName?: string;
}

/** One step of a sequence, frozen into the assignment when it starts. */
export interface DripStepSnapshot {
  templateName: string;
  templateLanguage: string;
  /** Wait before this step, counted from the previous step's send (or from enrolment). */
  delaySeconds: number;
  variables: TemplateVariables;
}

// ---------------------------------------------------------------------------------------------
// Drip assignment workflow.

export type AssignmentStatus = 'pending' | 'active' | 'paused' | 'completed' | 'cancelled' | 'failed';
export const ACTIVE_ASSIGNMENT_STATUSES: readonly AssignmentStatus[] = ['pending', 'active', 'paused'];

/** What LeadDripAssignment's step history records. */
export const ASSIGNMENT_EVENTS = [
  'started',
  'step_sent',
  'step_failed',
  'step_skipped',
  'paused',
  'resumed',
  'cancelled',
  'completed',
  'failed',
] as const;
export type AssignmentEventKind = (typeof ASSIGNMENT_EVENTS)[number];

export interface DripWorkflowInput {
  assignmentId: number;
  leadId: number;
  sequenceId: number;
  sequenceVersion: number;
  steps: DripStepSnapshot[];
  sendTaskQueue: string;
  /** Set only by continue-as-new: where the previous run stopped. */
  carry?: DripCarry;
}

export interface DripCarry {
  nextStep: number;
  paused: boolean;
  /** Time left on the current step's delay, in ms (frozen while paused). */
  remainingMs: number;
}

export interface DripProgress {
  assignmentId: number;
  status: AssignmentStatus;
  /** 0-based index of the next step to send; equals `totalSteps` when done. */
  nextStep: number;
  totalSteps: number;
  /** ISO time the next step is due, or null when paused or finished. */
  nextSendAt: string | null;
  stopReason: string | null;
  lastError: string | null;
}

export interface CancelDripArgs {
  /** Why the drip stops: `admin`, `opted_out`, `replied`, `not_interested`, ... */
  reason: string;
}

export const pauseDripSignal = defineSignal('pauseDrip');
export const resumeDripSignal = defineSignal('resumeDrip');
export const cancelDripSignal = defineSignal<[CancelDripArgs]>('cancelDrip');
export const dripProgressQuery = defineQuery<DripProgress>('dripProgress');

/** What the send activity reports back for one step. */
export type StepOutcome =
  | { kind: 'sent'; messageId: number; providerMessageId: string }
  | { kind: 'skipped'; reason: 'opted_out' | 'lead_not_found' };

// ---------------------------------------------------------------------------------------------
// CTA follow-up workflow.

/** What a lead can answer with the two buttons. */
export const CTA_ACTIONS = ['interested', 'not_interested'] as const;
export type CtaAction = (typeof CTA_ACTIONS)[number];

/** A CTA run's life: sent, perhaps reminded, then closed by a decision, no response, a stop or a failure. */
export const CTA_RUN_STATUSES = ['pending', 'sent', 'reminded', 'interested', 'not_interested', 'no_response', 'stopped', 'failed'] as const;
export type CtaRunStatus = (typeof CTA_RUN_STATUSES)[number];
