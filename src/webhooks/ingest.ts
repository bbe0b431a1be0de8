/**
 * Applies provider webhook events to the message log exactly once, whatever the provider: a
 * provider route verifies its signature, parses its own format into the events below, and hands
 * them here.
 *
 * Exactly once, with at-least-once delivery: every event has a dedupe key, and the WebhookEvents
 * ledger holds one row per key (unique index). The effect is applied *first* and the ledger row
 * written *after*: both effects are idempotent (a status report is a monotone join, an incoming
 * message is keyed by its provider id), so a crash between the two loses nothing and the
 * provider's redelivery re-applies harmlessly and then records. Recording first would instead
 * turn that crash into a lost event. A duplicate of a recorded event is acknowledged and changes
 * nothing.
 *
 * The webhook routes no longer apply status events inline with applyStatusEvent: they store them
 * first as pending rows and apply them in batches off the request path (src/webhooks/queue.ts),
 * with the same monotone rules; there the ledger row comes first and a crash before applying is
 * recovered by the next processor start. applyStatusEvent remains the one-event, inline form.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../db/client';
import {
  applyMessageStatus,
  findLeadByPhone,
  findWebhookEvent,
  insertIncomingMessage,
  listActiveDripsStoppingOnReply,
  recordWebhookEvent,
  touchLeadLastContact,
  updateWebhookEventOutcome,
  type ActiveAssignmentRef,
} from '../db/queries';
import { cancelDripSignal } from '../shared';

export interface IngestDeps {
  db: Db;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** A provider's report that one outgoing message reached a status. */
export interface StatusEvent {
  provider: string;
  /** The provider's name for the event (Interakt `message_api_delivered`, Meta `delivered`...): part of the dedupe key. */
  eventType: string;
  providerMessageId: string;
  /** Our idempotency key echoed back, when the provider carries it. */
  callbackData?: string | null;
  status: DeliveryStatus;
  /** When the status happened, by the provider's clock. */
  at: Date;
  errorCode?: string | null;
  errorMessage?: string | null;
  receivedAt: Date;
  /** The event as received (JSON text), stored in the ledger. */
  payload: string;
}

/**
 * `duplicate`: this event was already recorded and nothing was done. Otherwise what applying it
 * did: `applied` moved the message or filled in a timestamp, `unchanged` found it already there
 * or past it, `unknown_message` found no such message (recorded and acknowledged; a redelivery
 * tries again).
 */
export type StatusOutcome = 'applied' | 'unchanged' | 'unknown_message' | 'duplicate';

export interface StatusResult {
  outcome: StatusOutcome;
  messageId: number | null;
}

export interface InboundMessageEvent {
  provider: string;
  /** Defaults to `message_received`. */
  eventType?: string;
  providerMessageId: string;
  /** The sender, normalised to E.164 when possible (else as given); matched against leads' phones. */
  fromPhoneE164: string;
  text: string | null;
  contentType?: string | null;
  mediaUrl?: string | null;
  /** When the provider received it from the customer. */
  receivedAt: Date;
  /** The event as received (JSON text), stored in the ledger. */
  raw: string;
}

export interface InboundResult {
  /** `stored` the first time; `duplicate` for a redelivery (the stored row is returned). */
  outcome: 'stored' | 'duplicate';
  messageId: number;
  leadId: number | null;
  /**
   * Live drips of the lead that this reply ends (sequence marked stop-on-reply, started before the
   * reply). Given for duplicates too, so a redelivery finishes stops a crash interrupted; the
   * cancel signal is idempotent. Signal them with `stopRepliedDrips`.
   */
  dripsToStop: ActiveAssignmentRef[];
}

export const REPLIED_STOP_REASON = 'replied';

export const statusDedupeKey = (event: Pick<StatusEvent, 'eventType' | 'providerMessageId'>): string =>
  `${event.eventType}:${event.providerMessageId}`;

/**
 * Applies the status, then records the event. A repeat is not looked up first: re-applying a
 * status report is a no-op (applyMessageStatus is a monotone join: the status only moves up,
 * each timestamp and the failure details are set once), so a duplicate changes nothing and is
 * recognised by the ledger's unique key. That keeps a fresh event to three statements.
 */
export async function applyStatusEvent(deps: IngestDeps, event: StatusEvent): Promise<StatusResult> {
  const { db } = deps;
  const dedupeKey = statusDedupeKey(event);
  const applied = await applyMessageStatus(db, {
    providerMessageId: event.providerMessageId,
    callbackData: event.callbackData ?? undefined,
    status: event.status,
    at: event.at,
    errorCode: event.errorCode ?? undefined,
    errorMessage: event.errorMessage ?? undefined,
  });
  const outcome = !applied.matched ? 'unknown_message' : applied.changed ? 'applied' : 'unchanged';
  const messageId = applied.messageId ?? null;
  const recorded = await recordWebhookEvent(db, {
    provider: event.provider,
    dedupeKey,
    eventType: event.eventType,
    providerMessageId: event.providerMessageId,
    messageId,
    outcome,
    receivedAt: event.receivedAt,
    payload: event.payload,
  });
  if (!recorded.duplicate) return { outcome, messageId };

  // Seen before. An event that arrived before its message was logged matches now: complete its record.
  if (outcome !== 'unknown_message') {
    const seen = await findWebhookEvent(db, { provider: event.provider, dedupeKey });
    if (seen?.outcome === 'unknown_message') {
      await updateWebhookEventOutcome(db, { id: seen.id, outcome, messageId });
      return { outcome, messageId };
    }
  }
  return { outcome: 'duplicate', messageId };
}

/**
 * Stores a customer's message as an incoming row (status 'delivered', DeliveredAt = receivedAt;
 * see insertIncomingMessage), matched to the lead with that phone if there is one, whose last
 * contact moves forward to it. Unknown senders are stored with no lead.
 */
export async function applyInboundMessage(deps: IngestDeps, event: InboundMessageEvent): Promise<InboundResult> {
  const { db } = deps;
  const eventType = event.eventType ?? 'message_received';
  const lead = event.fromPhoneE164 ? await findLeadByPhone(db, event.fromPhoneE164) : undefined;
  const { message, created } = await insertIncomingMessage(db, {
    provider: event.provider,
    providerMessageId: event.providerMessageId,
    phone: event.fromPhoneE164,
    leadId: lead?.id ?? null,
    messageContent: { text: event.text, contentType: event.contentType ?? null },
    mediaUrl: event.mediaUrl ?? null,
    receivedAt: event.receivedAt,
  });
  // The first delivery decided the lead; a lead created since does not re-own an old message.
  const leadId = message.leadId;
  let dripsToStop: ActiveAssignmentRef[] = [];
  if (leadId !== null) {
    await touchLeadLastContact(db, leadId, event.receivedAt);
    dripsToStop = await listActiveDripsStoppingOnReply(db, { leadId, startedBy: event.receivedAt });
  }
  const recorded = await recordWebhookEvent(db, {
    provider: event.provider,
    dedupeKey: `${eventType}:${event.providerMessageId}`,
    eventType,
    providerMessageId: event.providerMessageId,
    messageId: message.id,
    outcome: 'stored',
    receivedAt: event.receivedAt,
    payload: event.raw,
  });
  return { outcome: created && !recorded.duplicate ? 'stored' : 'duplicate', messageId: message.id, leadId, dripsToStop };
}

export interface StopRepliedDripsDeps {
  temporal: Client;
  log: (line: string) => void;
}

/**
 * Signals each drip to cancel with reason 'replied'; the workflow ends before its next send and
 * records the reason. Never throws: a failed signal is logged (the drip goes on; a redelivered
 * webhook signals again). Returns how many signals were delivered.
 */
export async function stopRepliedDrips(deps: StopRepliedDripsDeps, drips: readonly ActiveAssignmentRef[]): Promise<number> {
  const targets = drips.filter((drip) => drip.workflowId !== null);
  const results = await Promise.allSettled(
    targets.map((drip) => deps.temporal.workflow.getHandle(drip.workflowId!).signal(cancelDripSignal, { reason: REPLIED_STOP_REASON })),
  );
  let delivered = 0;
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') delivered += 1;
    else {
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      deps.log(`[webhooks] could not stop drip ${targets[index]!.workflowId} of lead ${targets[index]!.leadId} on reply: ${reason}`);
    }
  });
  return delivered;
}
