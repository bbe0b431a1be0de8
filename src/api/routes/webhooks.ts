import express, { Router } from 'express';
import { applyMessageStatus } from '../../db/queries';
import { parseInteraktWebhook, verifyInteraktSignature } from '../../providers/interakt-webhook';
import type { ApiDeps } from '../app';
import { HttpError } from '../errors';

/**
 * Provider webhooks. The signature is checked over the raw bytes before anything is parsed or
 * written; a bad one gets 401 and changes nothing. Events for messages we do not know are still
 * acknowledged, so the provider does not retry (and eventually disable) the webhook.
 */
export function webhooksRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/interakt', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const secret = deps.interaktWebhookSecret;
    if (!secret) throw new HttpError(503, 'webhook_not_configured', 'no Interakt webhook secret is configured');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyInteraktSignature(raw, req.get('interakt-signature') ?? req.get('x-interakt-signature'), secret)) {
      throw new HttpError(401, 'invalid_signature', 'webhook signature does not match');
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_body', 'webhook body is not JSON');
    }
    const event = parseInteraktWebhook(payload, new Date());
    if (event.kind === 'status') {
      const result = await applyMessageStatus(deps.db, {
        providerMessageId: event.providerMessageId,
        callbackData: event.callbackData ?? undefined,
        status: event.status,
        at: event.at,
        errorCode: event.errorCode ?? undefined,
        errorMessage: event.errorMessage ?? undefined,
      });
      res.json({ received: true, matched: result.matched, changed: result.changed });
      return;
    }
    res.json({ received: true, ignored: event.type });
  });
  return router;
}
