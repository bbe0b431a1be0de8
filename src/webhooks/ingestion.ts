import type { DeliveryStatus, InboundResult } from './ingest';
import { normalizePhone } from '../providers/phone';
import type { ProviderName } from '../shared';
import { applyInboundMessage, OPTED_OUT_REASON, stopRepliedDrips } from './ingest';
import { stopDrips } from '../drips/stop';
import { stopCtaSignal } from '../cta/contract';
import type { ApiContext } from '../api/context';
import type { QueuedStatus } from './queue';

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
  /** With the message id, the dedupe key; `message_received` when the provider has no finer name. */
  eventType?: string;
  providerMessageId: string;
  /** The sender's number: country code and number, digits only; empty when the provider gave none. */
  from: string;
  /** The kind of content (Meta `text`, Infobip `TEXT`, Interakt `Text`...). */
  type: string | null;
  text: string | null;
  mediaUrl?: string | null;
  at: Date;
  raw: string;
}

/**
 * Where every provider's parsed webhook events go (Interakt, Meta, Infobip): statuses into the
 * group-committed, exactly-once pipeline, answered once stored; inbound messages stored against
 * their lead, and drips that stop on a reply signalled off the response path (a slow or
 * unreachable Temporal must not make the provider count a failed delivery; a redelivery signals
 * again, and cancel is idempotent).
 */
export function webhookIngestionSink(deps: ApiContext, provider: ProviderName) {
  const log = deps.log;
  const count = (outcome: string) => deps.metrics.webhookEvents.inc({ provider, outcome });
  return {
    /** Events refused before they are read (bad signature or credentials, a body that is not JSON). */
    refused(outcome: 'rejected' | 'invalid'): void {
      count(outcome);
    },
    async status(event: ParsedStatusEvent, { receivedAt }: { receivedAt: Date }): Promise<QueuedStatus> {
      const result = await deps.webhookPipeline.batcher.submit({
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
      count(result.outcome);
      return result;
    },
    async inbound(event: ParsedInboundEvent): Promise<InboundResult> {
      const phone = normalizePhone(`+${event.from}`, deps.defaultCountry);
      const result = await applyInboundMessage(deps, {
        provider,
        ...(event.eventType !== undefined && { eventType: event.eventType }),
        providerMessageId: event.providerMessageId,
        fromPhoneE164: event.from === '' ? '' : phone.ok ? phone.e164 : `+${event.from}`,
        text: event.text,
        contentType: event.type,
        ...(event.mediaUrl !== undefined && { mediaUrl: event.mediaUrl }),
        receivedAt: event.at,
        raw: event.raw,
      });
      count(result.outcome);
      if (result.dripsToStop.length > 0) void stopRepliedDrips({ temporal: deps.temporal, log }, result.dripsToStop);
      if (result.optOutStops) {
        // STOP: every drip and CTA flow of the lead ends before its next send.
        void stopDrips({ temporal: deps.temporal, log }, result.optOutStops.drips, OPTED_OUT_REASON);
        for (const workflowId of result.optOutStops.ctaWorkflowIds) {
          deps.temporal.workflow
            .getHandle(workflowId)
            .signal(stopCtaSignal, { reason: OPTED_OUT_REASON })
            .catch((err: unknown) => log.warn({ err, workflowId }, 'could not stop a CTA flow'));
        }
      }
      return result;
    },
  };
}
