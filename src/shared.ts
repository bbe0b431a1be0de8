/**
 * The cross-cutting contract: provider names, search attributes, send queues and keys, and the
 * template-variable shapes every sending feature uses. Each feature's own ids, signals, queries and
 * inputs are in its `contract.ts`. Pure definitions only: workflow code imports this file, so
 * nothing here may touch I/O.
 */
import { ActivityFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// ---------------------------------------------------------------------------------------------
// Keys and queues every feature shares (each workflow id is built in its feature's contract).

/** The business idempotency key of one send: a retry of the same step reuses it. */
export const sendIdempotencyKey = (workflowId: string, step: number | string): string => `${workflowId}:${step}`;

/** Sends go through their own queue per provider account so the server can rate-limit them. */
export const sendTaskQueue = (mainTaskQueue: string, provider: ProviderName): string =>
  `${mainTaskQueue}-sends-${provider}`;

/**
 * The send queue of one sender number: the provider's queue itself for the default sender (null),
 * `<queue>-<sender>` for another. One queue per sender, because the provider limits each number's
 * throughput (Meta: 80 messages/s per phone number), and the worker that polls a sender's queue
 * sends from that number.
 */
export const senderSendQueue = (providerSendQueue: string, sender: string | null | undefined): string =>
  sender ? `${providerSendQueue}-${sender}` : providerSendQueue;

/**
 * Where a send waits in its provider's queue (Temporal task priority: lower goes first). The queue's
 * rate limit is shared by all of them; within it a CTA message or a welcome (a person is waiting)
 * goes before drip steps, and drip steps before campaign sends. Drips use the server's default (3).
 */
export const SEND_PRIORITY = { transactional: 1, drip: 3, campaign: 5 } as const;

/**
 * Why a workflow's run failed, for its run row: an activity's own error rather than Temporal's
 * "Activity task failed" wrapper. Workflow code cannot load the redacting helpers of
 * src/logging/redact.ts; the activities' messages are already ours.
 */
export function failureReason(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Search attributes (registered on the dev server by temporal/dev-server.mjs).

export const LEAD_ID = defineSearchAttributeKey('LeadId', SearchAttributeType.INT);
export const DRIP_SEQUENCE_ID = defineSearchAttributeKey('DripSequenceId', SearchAttributeType.INT);
export const FLOW_KIND = defineSearchAttributeKey('FlowKind', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [LEAD_ID, DRIP_SEQUENCE_ID, FLOW_KIND] as const;

export type FlowKind = 'drip' | 'welcome' | 'cta' | 'infobip-sync' | 'campaign' | 'keyword-reply';

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
