import { createHash } from 'node:crypto';
import { recordWebhookEvent } from '../db/queries';
import type { DeliveryStatus } from './ingest';
import { normalizePhone } from '../providers/phone';
import type { ProviderName } from '../shared';
import { applyInboundMessage, stopRepliedDrips } from './ingest';
import type { ApiContext } from '../api/context';

/** A delivery status as a provider's webhook parser reports it. */
export interface ParsedStatusEvent {
  /** With the message id, the dedupe key; a provider without finer event names uses the status. */
  eventType?: string;
  providerMessageId: string;
  callbackData: string | null;
  status: DeliveryStatus;
  at: Date;
  errorCode: string | null;
  errorMessage: string | null;
  raw: string;
}

/** A lead's message as a provider's webhook parser reports it. */
export interface ParsedInboundEvent {
  providerMessageId: string;
  /** The sender's number: country code and number, digits only; null when the provider gave only a user id. */
  from: string | null;
  /** The sender's business-scoped user id, when WhatsApp gave one instead of a number. */
  fromUserId?: string | null;
  type: string;
  text: string | null;
  mediaUrl?: string | null;
  at: Date;
  raw: string;
}

/** An error a provider raised for the account or number rather than one message (Meta `value.errors`). */
export interface ParsedErrorEvent {
  code: string | null;
  message: string | null;
  at: Date;
  /** The error as received, with what identifies its delivery (JSON text): its dedupe key is derived from it. */
  raw: string;
}

/**
 * Where every provider's parsed webhook events go (Meta, Infobip; Interakt's route predates it):
 * statuses into the group-committed, exactly-once pipeline; inbound messages stored against their
 * lead, and drips that stop on a reply signalled off the response path.
 */
export function webhookIngestionSink(deps: ApiContext, provider: ProviderName) {
  const log = deps.log;
  return {
    async status(event: ParsedStatusEvent, { receivedAt }: { receivedAt: Date }): Promise<void> {
      await deps.webhookPipeline.batcher.submit({
        provider,
        eventType: event.eventType ?? event.status,
        providerMessageId: event.providerMessageId,
        callbackData: event.callbackData,
        status: event.status,
        at: event.at,
        errorCode: event.errorCode,
        errorMessage: event.errorMessage,
        receivedAt,
        payload: event.raw,
      });
    },
    async inbound(event: ParsedInboundEvent): Promise<void> {
      // A user id is the only address such a sender has: stored as it is, matched to no lead by phone.
      const phone = event.from === null ? null : normalizePhone(`+${event.from}`, deps.defaultCountry);
      const address = phone?.ok ? phone.e164 : event.from !== null ? `+${event.from}` : (event.fromUserId ?? '');
      const result = await applyInboundMessage(deps, {
        provider,
        providerMessageId: event.providerMessageId,
        fromPhoneE164: address,
        text: event.text,
        contentType: event.type,
        ...(event.mediaUrl !== undefined && { mediaUrl: event.mediaUrl }),
        receivedAt: event.at,
        raw: event.raw,
      });
      if (result.dripsToStop.length > 0) void stopRepliedDrips({ temporal: deps.temporal, log }, result.dripsToStop);
    },
    /**
     * Recorded in the event ledger (once per delivery: Meta redelivers the same bytes) and logged
     * with its code: no message refers to it, and an admin has to see it.
     */
    async error(event: ParsedErrorEvent, { receivedAt }: { receivedAt: Date }): Promise<void> {
      const digest = createHash('sha256').update(event.raw).digest('base64url').slice(0, 32);
      const recorded = await recordWebhookEvent(deps.db, {
        provider,
        dedupeKey: `error:${digest}`,
        eventType: 'error',
        providerMessageId: null,
        messageId: null,
        outcome: 'recorded',
        receivedAt,
        payload: event.raw,
      });
      if (!recorded.duplicate)
        log(
          `[webhooks] ${provider} reported error ${event.code ?? 'without a code'}: ${event.message ?? 'no message'}`,
        );
    },
  };
}
