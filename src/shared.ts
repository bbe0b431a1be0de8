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
export const ctaWorkflowId = (leadId: number, flowId: number): string => `cta-${leadId}-${flowId}`;
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

export type ProviderName = 'interakt' | 'meta' | 'infobip';

/** Where a template variable takes its value from at send time. */
export type VariableSource = { field: LeadField } | { value: string };

/** The lead's own fields a template variable may read. */
export const LEAD_FIELDS = ['name', 'firstName', 'lastName', 'phone', 'email', 'status', 'stage'] as const;

/** Lead fields a variable may read; `custom.<key>` reads the lead's custom fields. */
export type LeadField = (typeof LEAD_FIELDS)[number] | `custom.${string}`;

/**
 * Custom field names: 1 to 64 letters, digits and underscores, and never a name JavaScript objects
 * inherit (`__proto__`, `constructor`, `prototype`), which a lookup would otherwise resolve to
 * something the lead never had.
 */
export const CUSTOM_FIELD_KEY = /^(?!(?:__proto__|constructor|prototype)$)[A-Za-z0-9_]{1,64}$/;

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
  | { kind: 'skipped'; reason: 'opted_out' | 'suppressed' | 'lead_not_found' };

// ---------------------------------------------------------------------------------------------
// CTA follow-up workflow.

/** What a lead can answer with the two buttons. */
export const CTA_ACTIONS = ['interested', 'not_interested'] as const;
export type CtaAction = (typeof CTA_ACTIONS)[number];

/** A CTA run's life: sent, perhaps reminded, then closed by a decision, no response, a stop or a failure. */
export const CTA_RUN_STATUSES = ['pending', 'sent', 'reminded', 'interested', 'not_interested', 'no_response', 'stopped', 'failed'] as const;
export type CtaRunStatus = (typeof CTA_RUN_STATUSES)[number];

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

// ---------------------------------------------------------------------------------------------
// Infobip sync run.

/** Which of Infobip's lists a run reads: the People API, the SMS logs, or both (people first). */
export const INFOBIP_SYNC_SOURCES = ['people', 'logs', 'both'] as const;
export type InfobipSyncSource = (typeof INFOBIP_SYNC_SOURCES)[number];
/** One list as its pages are recorded (InfobipSyncPages.Source). */
export type InfobipPageSource = Exclude<InfobipSyncSource, 'both'>;

/** `update_only` never creates a lead: people not already in the CRM are skipped. */
export const INFOBIP_SYNC_MODES = ['create_update', 'update_only'] as const;
export type InfobipSyncMode = (typeof INFOBIP_SYNC_MODES)[number];

export type InfobipSyncTrigger = 'api' | 'cli' | 'schedule';

/** Moves a matched (or created) lead to `setStatus`, only from one of `onlyIfStatusIn` when given. */
export interface InfobipStatusRule {
  setStatus: string;
  onlyIfStatusIn?: string[];
}

export interface InfobipSyncOptions {
  /**
   * ISO start of the contact window. Absent: the end of the last successful run (a scheduled run:
   * the last successful scheduled run) minus `safetyMarginMs`, or `initialLookbackMs` back when
   * there was none.
   */
  since?: string;
  /** ISO end of the window; absent: when the run starts. */
  until?: string;
  /** Infobip channel names (`whatsapp`, `sms`, ...) the People API filters on; absent: all. */
  channels?: string[];
  source: InfobipSyncSource;
  mode: InfobipSyncMode;
  /** Computes and records every decision, writes nothing to leads. */
  dryRun: boolean;
  statusRule?: InfobipStatusRule;
  /** Records per request (Infobip allows up to 1,000). */
  pageSize?: number;
  safetyMarginMs?: number;
  initialLookbackMs?: number;
}

export interface InfobipSyncWorkflowInput {
  trigger: InfobipSyncTrigger;
  options: InfobipSyncOptions;
  /** The Temporal Schedule that started the run, if any. */
  scheduleId?: string;
  /** Pages per activity call: the workflow's progress moves after each call. */
  pagesPerChunk?: number;
}

export interface InfobipSyncCounts {
  fetched: number;
  matched: number;
  created: number;
  updated: number;
  skipped: number;
  invalid: number;
  errorCount: number;
}

export type InfobipSyncRunState = 'starting' | 'running' | 'completed' | 'failed';

export interface InfobipSyncProgress {
  runKey: string;
  runId: number | null;
  status: InfobipSyncRunState;
  /** ISO bounds of the window, once resolved. */
  windowFrom: string | null;
  windowTo: string | null;
  /** The list being read and its next page; null when not reading. */
  position: { source: InfobipPageSource; pageNo: number } | null;
  /** Pages recorded so far over every source. */
  pagesDone: number;
  counts: InfobipSyncCounts;
  warnings: string[];
  failure: string | null;
}

/** The run key inside a workflow id: `infobip-sync-<runKey>` (a scheduled run's key ends in its time). */
export const infobipSyncRunKey = (workflowId: string): string => workflowId.replace(/^infobip-sync-/, '');

export const infobipSyncProgressQuery = defineQuery<InfobipSyncProgress>('infobipSyncProgress');
