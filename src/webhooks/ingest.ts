/**
 * Provider-neutral webhook events, whatever the provider: a provider route verifies its
 * signature, parses its own format into the events below, and hands them on.
 *
 * Status events go to src/webhooks/queue.ts: stored in the WebhookEvents ledger (one row per
 * dedupe key, unique index) by group commit, acknowledged, then applied in batches off the
 * request path with the monotone rules of applyMessageStatus; a crash before applying is
 * recovered by the next processor start. Inbound messages are applied here, inline: they are
 * few, and a reply must stop its lead's stop-on-reply drips at once. An incoming message is keyed
 * by its provider id, so a redelivery stores nothing twice.
 */
import { withTransaction, type Db } from '../db/client';
import { stopDrips, type StopDripsDeps } from '../drips/stop';
import { matchKeyword, type KeywordMatch } from '../delivery/contract';
import { keywordsOf, readDeliverySettings, type KeywordReplyTemplate } from '../delivery/settings';
import {
  addLeadNote,
  findLeadByPhone,
  getLead,
  hasLeadNote,
  listActiveAssignmentsForLead,
  listOpenCtaRunsForLead,
  updateLead,
  insertIncomingMessage,
  listActiveDripsStoppingOnReply,
  recordWebhookEvent,
  touchLeadLastContact,
  type ActiveAssignmentRef,
} from '../db/queries';
import { callingCodeOf } from '../providers/phone';

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
  /** The message was an opt-out or opt-in keyword (STOP, START, the settings' own), applied to the lead. */
  keyword: KeywordMatch;
  /**
   * After an opt-out: every live drip and open CTA flow of the lead, to stop with reason
   * `opted_out` (given for redeliveries too; the signals are idempotent). A campaign is not
   * stopped, since it sends to others too: its send to this lead reads the lead just before it goes
   * and is skipped with `opted_out`.
   */
  optOutStops: { drips: ActiveAssignmentRef[]; ctaWorkflowIds: string[] } | null;
  /**
   * The template confirming the keyword, when the delivery settings name one (`keywordReplies`):
   * start it with `startKeywordReply` (given for redeliveries too; the workflow id and the send key
   * make it one message).
   */
  keywordReply: KeywordReplyTemplate | null;
}

export const OPTED_OUT_REASON = 'opted_out';

export const REPLIED_STOP_REASON = 'replied';

export const statusDedupeKey = (event: Pick<StatusEvent, 'eventType' | 'providerMessageId'>): string =>
  `${event.eventType}:${event.providerMessageId}`;

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
    countryCode: callingCodeOf(event.fromPhoneE164),
    leadId: lead?.id ?? null,
    messageContent: { text: event.text, contentType: event.contentType ?? null },
    mediaUrl: event.mediaUrl ?? null,
    receivedAt: event.receivedAt,
  });
  // The first delivery decided the lead; a lead created since does not re-own an old message.
  const leadId = message.leadId;
  let dripsToStop: ActiveAssignmentRef[] = [];
  let keyword: KeywordMatch = null;
  let optOutStops: InboundResult['optOutStops'] = null;
  let keywordReply: KeywordReplyTemplate | null = null;
  if (leadId !== null) {
    await touchLeadLastContact(db, leadId, event.receivedAt);
    const settings = await readDeliverySettings(db);
    keyword = matchKeyword(event.text, keywordsOf(settings));
    if (keyword) {
      const changed = await applyKeyword(db, { leadId, keyword, messageId: message.id, at: event.receivedAt });
      // A second STOP from a lead already opted out (or START from one opted in) is not confirmed again.
      if (changed) keywordReply = settings.keywordReplies[keyword === 'opt_out' ? 'optOut' : 'optIn'];
      if (keyword === 'opt_out') {
        const [drips, runs] = await Promise.all([
          listActiveAssignmentsForLead(db, leadId),
          listOpenCtaRunsForLead(db, leadId),
        ]);
        optOutStops = { drips, ctaWorkflowIds: runs.map((run) => run.workflowId) };
      }
    } else {
      dripsToStop = await listActiveDripsStoppingOnReply(db, { leadId, startedBy: event.receivedAt });
    }
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
  return {
    outcome: created && !recorded.duplicate ? 'stored' : 'duplicate',
    messageId: message.id,
    leadId,
    dripsToStop,
    keyword,
    optOutStops,
    keywordReply,
  };
}

/**
 * Opts the lead out (or back in) and records it on their timeline, if this message changes it;
 * returns whether it did. The note (dedupe key `keyword:<message id>`) and the lead's new state are
 * written in one transaction, so the note is the durable record that this message made the change:
 * a redelivery finds it and answers as the first delivery did, without touching the lead again
 * (which a later keyword may have changed since).
 */
async function applyKeyword(
  db: Db,
  params: { leadId: number; keyword: 'opt_out' | 'opt_in'; messageId: number; at: Date },
): Promise<boolean> {
  const optedOut = params.keyword === 'opt_out';
  const dedupeKey = `keyword:${params.messageId}`;
  if (await hasLeadNote(db, dedupeKey)) return true;
  const lead = await getLead(db, params.leadId);
  if (!lead || lead.optedOut === optedOut) return false;
  await withTransaction(db, async (tx) => {
    const noted = await addLeadNote(tx, {
      leadId: params.leadId,
      body: optedOut
        ? 'Opted out by keyword: every drip and CTA flow stopped, no more messages'
        : 'Opted back in by keyword',
      source: 'keyword',
      dedupeKey,
      at: params.at,
    });
    // Not noted: a concurrent delivery of this message made the change already.
    if (noted) await updateLead(tx, params.leadId, { optedOut });
  });
  return true;
}

/** Stops the drips a reply ends (see `dripsToStop`), logging any signal that fails. */
export function stopRepliedDrips(deps: StopDripsDeps, drips: readonly ActiveAssignmentRef[]): Promise<number> {
  return stopDrips(deps, drips, REPLIED_STOP_REASON);
}
