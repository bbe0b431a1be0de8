import express, { Router } from 'express';
import { normalizePhone } from '../providers/phone';
import { parseInteraktWebhook, verifyInteraktSignature } from '../providers/interakt-webhook';
import { applyInboundMessage, stopRepliedDrips } from './ingest';
import type { ApiContext } from '../api/context';
import { AppError } from '../errors';

/**
 * Provider webhooks. The signature is checked over the raw bytes before anything is parsed or
 * written; a bad one gets 401 and changes nothing. Status events are stored, then applied exactly
 * once off the request path (src/webhooks/queue.ts); inbound messages by src/webhooks/ingest.ts. Events for messages we do not know are still recorded and acknowledged,
 * so the provider does not retry (and eventually disable) the webhook.
 */
export function webhooksRouter(deps: ApiContext): Router {
  const router = Router();
  const log = deps.log;
  const count = (outcome: string) => deps.metrics.webhookEvents.inc({ provider: 'interakt', outcome });

  router.post('/interakt', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const secret = await deps.readInteraktWebhookSecret();
    if (!secret) {
      count('rejected');
      throw new AppError('unavailable', 'webhook_not_configured', 'no Interakt webhook secret is configured');
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyInteraktSignature(raw, req.get('interakt-signature') ?? req.get('x-interakt-signature'), secret)) {
      count('rejected');
      throw new AppError('unauthorized', 'invalid_signature', 'webhook signature does not match');
    }
    const text = raw.toString('utf8');
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      count('invalid');
      throw new AppError('invalid', 'invalid_body', 'webhook body is not JSON');
    }
    const receivedAt = new Date();
    const event = parseInteraktWebhook(payload, receivedAt);

    // Interakt allows 3 s per delivery. A status event is acknowledged once it is stored (its
    // batch committed): a lost write is a redelivery, not a loss. It is applied to the message log
    // right after, off the request path (src/webhooks/queue.ts).
    if (event.kind === 'status') {
      const result = await deps.webhookPipeline.batcher.submit({
        provider: 'interakt',
        eventType: event.type,
        providerMessageId: event.providerMessageId,
        callbackData: event.callbackData,
        status: event.status,
        at: event.at,
        errorCode: event.errorCode,
        errorMessage: event.errorMessage,
        receivedAt,
        payload: text,
      });
      count(result.outcome);
      res.json({ received: true, outcome: result.outcome });
      return;
    }

    if (event.kind === 'inbound') {
      const normalized = event.fromPhone ? normalizePhone(event.fromPhone, deps.defaultCountry) : undefined;
      const result = await applyInboundMessage(deps, {
        provider: 'interakt',
        eventType: event.type,
        providerMessageId: event.providerMessageId,
        fromPhoneE164: normalized?.ok ? normalized.e164 : (event.fromPhone ?? ''),
        text: event.text,
        contentType: event.contentType,
        mediaUrl: event.mediaUrl,
        receivedAt: event.at,
        raw: text,
      });
      count(result.outcome);
      res.json({ received: true, outcome: result.outcome, leadId: result.leadId });
      // Temporal signals stay off the response path: a slow or unreachable Temporal must not make
      // Interakt count a failed delivery (and disable the webhook). The reply is stored first, and
      // a redelivery signals again (cancel is idempotent), so a lost signal is logged, not silent.
      if (result.dripsToStop.length > 0) void stopRepliedDrips({ temporal: deps.temporal, log }, result.dripsToStop);
      return;
    }

    count('ignored');
    res.json({ received: true, ignored: event.type });
  });
  return router;
}
