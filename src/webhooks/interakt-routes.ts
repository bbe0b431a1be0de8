import express from 'express';
import { ApiRouter } from '../api/route';
import { InteraktWebhookResponse, rawJsonBody } from './schemas';
import { parseInteraktWebhook, verifyInteraktSignature } from '../providers/interakt-webhook';
import type { ApiContext } from '../api/context';
import { AppError } from '../errors';
import { webhookIngestionSink } from './ingestion';

/**
 * Provider webhooks. The signature is checked over the raw bytes before anything is parsed or
 * written; a bad one gets 401 and changes nothing. Status events are stored, then applied exactly
 * once off the request path (src/webhooks/queue.ts); inbound messages by src/webhooks/ingest.ts, both
 * through the same sink as Meta's and Infobip's (src/webhooks/ingestion.ts). Events for messages we
 * do not know are still recorded and acknowledged, so the provider does not retry (and eventually
 * disable) the webhook.
 */
export function webhooksRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Webhooks', checkResponses: deps.checkResponses, public: true });
  const sink = webhookIngestionSink(deps, 'interakt');

  routes.post(
    '/interakt',
    {
      summary: 'Interakt webhooks (statuses and inbound messages)',
      description:
        "Verified by Interakt-Signature (HMAC-SHA256 of the raw body) with the settings' webhook secret before anything is read; a bad signature gets 401 and changes nothing. A status is acknowledged once stored (outcome queued or duplicate) and applied right after.",
      rawBody: rawJsonBody('One event, signed with the webhook secret'),
      before: [express.raw({ type: () => true, limit: '1mb' })],
      responses: {
        200: InteraktWebhookResponse,
        401: { description: 'The signature does not match' },
        503: { description: 'No webhook secret is configured' },
      },
    },
    async (_input, res, req) => {
      const secret = await deps.readInteraktWebhookSecret();
      if (!secret) {
        sink.refused('rejected');
        throw new AppError('unavailable', 'webhook_not_configured', 'no Interakt webhook secret is configured');
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyInteraktSignature(raw, req.get('interakt-signature') ?? req.get('x-interakt-signature'), secret)) {
        sink.refused('rejected');
        throw new AppError('unauthorized', 'invalid_signature', 'webhook signature does not match');
      }
      const text = raw.toString('utf8');
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        sink.refused('invalid');
        throw new AppError('invalid', 'invalid_body', 'webhook body is not JSON');
      }
      const receivedAt = new Date();
      const event = parseInteraktWebhook(payload, receivedAt);

      // Interakt allows 3 s per delivery. A status event is acknowledged once it is stored (its
      // batch committed): a lost write is a redelivery, not a loss. It is applied to the message log
      // right after, off the request path (src/webhooks/queue.ts).
      if (event.kind === 'status') {
        const result = await sink.status({ ...event, eventType: event.type, raw: text }, { receivedAt });
        res.json({ received: true, outcome: result.outcome });
        return;
      }

      if (event.kind === 'inbound') {
        const result = await sink.inbound({
          eventType: event.type,
          providerMessageId: event.providerMessageId,
          from: event.fromPhone?.replace(/^\+/, '') ?? '',
          type: event.contentType,
          text: event.text,
          mediaUrl: event.mediaUrl,
          at: event.at,
          raw: text,
        });
        res.json({ received: true, outcome: result.outcome, leadId: result.leadId });
        return;
      }

      res.json({ received: true, ignored: event.type });
    },
  );
  return routes;
}
