import { createHash } from 'node:crypto';
import { applyTemplateStatusUpdate, findWebhookEvent, recordWebhookEvent } from '../db/queries';
import { normaliseApprovalStatus } from '../providers/approval-status';
import type { DeliveryStatus, InboundResult } from './ingest';
import { normalizePhone } from '../providers/phone';
import type { ProviderName } from '../shared';
import { applyInboundMessage, OPTED_OUT_REASON, stopRepliedDrips } from './ingest';
import { stopDrips } from '../drips/stop';
import { stopCtaSignal } from '../cta/contract';
import { startKeywordReply } from '../keyword-replies/start';
import type { ApiContext } from '../api/context';
import { templateReviewedSignal, templateSubmissionWorkflowId } from '../templates/contract';
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
  /** The sender's number: country code and number, digits only; null (or empty) when the provider gave none. */
  from: string | null;
  /** The sender's business-scoped user id, when WhatsApp gave one instead of a number. */
  fromUserId?: string | null;
  /** The kind of content (Meta `text`, Infobip `TEXT`, Interakt `Text`...). */
  type: string | null;
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

/** A provider's word on one template: its status (approved, paused, …) or its quality rating. */
export interface ParsedTemplateEvent {
  templateId: string | null;
  name: string | null;
  language: string | null;
  /** The provider's status event (APPROVED, PAUSED, …); null for a quality change. */
  event: string | null;
  reason: string | null;
  qualityScore: string | null;
  at: Date;
  /** The change as received, with what identifies its delivery (JSON text): its dedupe key is derived from it. */
  raw: string;
}

/** Events that say something about a template without changing its approval (an edit lock). */
const NOT_A_STATUS: ReadonlySet<string> = new Set(['LOCKED', 'UNLOCKED']);

/**
 * Applies a template status or quality webhook to Message Master at once, so the next send of a
 * paused or disabled template is refused as `template_not_usable` instead of reaching the
 * provider; and records it in the event ledger, once per delivery.
 */
export function templateStatusSink(deps: Pick<ApiContext, 'db' | 'log' | 'temporal'>, provider: ProviderName) {
  return async (event: ParsedTemplateEvent, { receivedAt }: { receivedAt: Date }): Promise<void> => {
    const digest = createHash('sha256').update(event.raw).digest('base64url').slice(0, 32);
    const dedupeKey = `template:${digest}`;
    if (await findWebhookEvent(deps.db, { provider, dedupeKey })) return;
    const status =
      event.event && !NOT_A_STATUS.has(event.event.toUpperCase()) ? normaliseApprovalStatus(event.event) : undefined;
    const result = await applyTemplateStatusUpdate(deps.db, {
      provider,
      providerTemplateId: event.templateId,
      name: event.name,
      language: event.language,
      ...(status !== undefined && {
        approvalStatus: status,
        // A rejection says why; any other status clears an old reason.
        rejectionReason: status === 'Rejected' ? (event.reason && event.reason !== 'NONE' ? event.reason : null) : null,
      }),
      ...(event.qualityScore && { qualityScore: event.qualityScore }),
      at: event.at,
    });
    await recordWebhookEvent(deps.db, {
      provider,
      dedupeKey,
      eventType: event.event ? `template_${event.event.toLowerCase()}` : 'template_quality',
      providerMessageId: null,
      messageId: null,
      outcome: result.templateId === null ? 'unknown_template' : result.changed ? 'applied' : 'unchanged',
      receivedAt,
      payload: event.raw,
    });
    // A submission being followed looks now rather than at its next poll. Only a hint, so off the
    // response path and never an error (most templates have no submission running).
    if (result.templateId !== null && event.event) {
      void deps.temporal.workflow
        .getHandle(templateSubmissionWorkflowId(result.templateId))
        .signal(templateReviewedSignal)
        .catch(() => undefined);
    }
    if (result.templateId === null)
      deps.log.warn(
        { provider, template: event.name ?? event.templateId, language: event.language },
        'template webhook for a template Message Master does not have; the next sync brings it',
      );
  };
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
      // A user id is the only address such a sender has: stored as it is, matched to no lead by phone.
      const from = event.from === '' ? null : event.from;
      const phone = from === null ? null : normalizePhone(`+${from}`, deps.defaultCountry);
      const address = phone?.ok ? phone.e164 : from !== null ? `+${from}` : (event.fromUserId ?? '');
      const result = await applyInboundMessage(deps, {
        provider,
        ...(event.eventType !== undefined && { eventType: event.eventType }),
        providerMessageId: event.providerMessageId,
        fromPhoneE164: address,
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
      if (result.keyword && result.keywordReply && result.leadId !== null) {
        // Awaited, unlike the stops: a confirmation whose start is lost is never sent, so a failed
        // start fails the webhook and the provider's redelivery starts it (the keyword itself is
        // applied once; the workflow id and the send key keep the reply to one message).
        const started = await startKeywordReply(deps, {
          leadId: result.leadId,
          inboundMessageId: result.messageId,
          keyword: result.keyword,
          template: result.keywordReply,
        });
        if (started.kind === 'failed') throw started.error;
      }
      return result;
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
        log.warn(
          { provider, code: event.code ?? null, providerMessage: event.message ?? null },
          `${provider} reported an account-level error`,
        );
    },
  };
}
