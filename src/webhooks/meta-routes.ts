import express from 'express';
import { z } from 'zod';
import { ApiRouter } from '../api/route';
import { rawJsonBody, WebhookBatchResponse } from './schemas';
import {
  META_SIGNATURE_HEADER,
  answerVerifyChallenge,
  parseMetaWebhook,
  verifyMetaSignature,
  type MetaErrorEvent,
  type MetaInboundEvent,
  type MetaStatusEvent,
  type MetaTemplateEvent,
} from '../providers/meta-webhook';
import { AppError } from '../errors';

/**
 * Where Meta's events go. The route knows nothing of storage: the app wires these to the
 * provider-neutral ingestion core, which dedupes (Meta delivers at least once) and keeps status
 * monotone (Meta does not guarantee order).
 */
export interface MetaWebhookSink {
  status(event: MetaStatusEvent, context: MetaWebhookContext): Promise<unknown> | void;
  inbound(event: MetaInboundEvent, context: MetaWebhookContext): Promise<unknown> | void;
  /** An error Meta raised for the number, not for one message (`value.errors`). */
  error(event: MetaErrorEvent, context: MetaWebhookContext): Promise<unknown> | void;
  /** A template's status or quality changed: applied at once, so a paused template stops being sent. */
  template(event: MetaTemplateEvent, context: MetaWebhookContext): Promise<unknown> | void;
  /** A POST refused before its events were read: bad signature (`rejected`) or a body that is not JSON (`invalid`). */
  refused?(outcome: 'rejected' | 'invalid'): void;
}

export interface MetaWebhookContext {
  /** When this POST arrived (the events' own `at` is Meta's clock). */
  receivedAt: Date;
}

/** A fixed value, or a getter so a secret changed in settings applies without a restart. */
export type SecretSource = string | undefined | (() => string | undefined | Promise<string | undefined>);

export interface MetaWebhookRouterOptions {
  /** The Meta App Secret that keys `X-Hub-Signature-256`. */
  appSecret: SecretSource;
  /** The token typed into the app's webhook settings, echoed back in the handshake. */
  verifyToken: SecretSource;
  sink: MetaWebhookSink;
  /** Check responses against the documented schemas (tests); default on. */
  checkResponses?: boolean;
}

const HandshakeQuery = z.looseObject({
  'hub.mode': z.string().max(64).optional(),
  'hub.verify_token': z.string().max(512).optional(),
  'hub.challenge': z.string().max(512).optional(),
});

const readSecret = async (source: SecretSource): Promise<string | undefined> =>
  (typeof source === 'function' ? await source() : source) || undefined;

/**
 * Meta's webhook endpoint, mounted at `/webhooks/meta`. `GET /` answers the verify-token
 * handshake; `POST /` checks the signature over the raw bytes before anything is parsed or
 * handed on (401 and nothing applied when wrong), then passes every event of the batch to the
 * sink in payload order. A sink failure answers 500 so Meta redelivers the batch; the sink's
 * dedupe makes the replay harmless. Events for messages we do not know are the sink's business
 * and still get a 200, so Meta does not keep retrying them.
 */
export function metaWebhookRouter(options: MetaWebhookRouterOptions): ApiRouter {
  const routes = new ApiRouter({ tag: 'Webhooks', checkResponses: options.checkResponses ?? true, public: true });

  routes.get(
    '/',
    {
      summary: "Meta's verify-token handshake",
      query: HandshakeQuery,
      responses: {
        200: { description: 'The challenge, echoed', contentType: 'text/html', schema: z.string() },
        403: { description: 'hub.mode or hub.verify_token does not match' },
        503: { description: 'No verify token is configured' },
      },
    },
    async (_input, res, req) => {
      const verifyToken = await readSecret(options.verifyToken);
      if (!verifyToken)
        throw new AppError('unavailable', 'webhook_not_configured', 'no Meta webhook verify token is configured');
      const challenge = answerVerifyChallenge(req.query as Record<string, unknown>, verifyToken);
      if (challenge === null)
        throw new AppError('forbidden', 'verification_failed', 'hub.mode or hub.verify_token does not match');
      res.status(200).type('text/plain').send(challenge);
    },
  );

  routes.post(
    '/',
    {
      summary: 'Meta Cloud API webhooks (statuses, inbound messages, account errors, template status and quality)',
      description:
        'Verified by X-Hub-Signature-256 over the raw body before anything is read; a bad signature gets 401 and changes nothing.',
      rawBody: rawJsonBody('The notification, signed with the app secret'),
      before: [express.raw({ type: () => true, limit: '3mb' })],
      responses: {
        200: WebhookBatchResponse,
        401: { description: 'The signature does not match' },
        503: { description: 'No app secret is configured' },
      },
    },
    async (_input, res, req) => {
      const appSecret = await readSecret(options.appSecret);
      if (!appSecret) {
        options.sink.refused?.('rejected');
        throw new AppError('unavailable', 'webhook_not_configured', 'no Meta app secret is configured');
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyMetaSignature(raw, req.get(META_SIGNATURE_HEADER), appSecret)) {
        options.sink.refused?.('rejected');
        throw new AppError('unauthorized', 'invalid_signature', 'webhook signature does not match');
      }
      let payload: unknown;
      try {
        payload = JSON.parse(raw.toString('utf8'));
      } catch {
        options.sink.refused?.('invalid');
        throw new AppError('invalid', 'invalid_body', 'webhook body is not JSON');
      }

      const context: MetaWebhookContext = { receivedAt: new Date() };
      const events = parseMetaWebhook(payload, context.receivedAt);
      let statuses = 0;
      let inbound = 0;
      let errors = 0;
      let templates = 0;
      for (const event of events) {
        if (event.kind === 'status') {
          await options.sink.status(event, context);
          statuses += 1;
        } else if (event.kind === 'inbound') {
          await options.sink.inbound(event, context);
          inbound += 1;
        } else if (event.kind === 'error') {
          await options.sink.error(event, context);
          errors += 1;
        } else {
          await options.sink.template(event, context);
          templates += 1;
        }
      }
      res.json({
        received: true,
        statuses,
        inbound,
        ...(errors > 0 && { errors }),
        ...(templates > 0 && { templates }),
      });
    },
  );

  return routes;
}
