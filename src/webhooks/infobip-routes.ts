import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { ApiRouter } from '../api/route';
import { rawJsonBody, WebhookBatchResponse } from './schemas';
import {
  parseInfobipWebhook,
  verifyInfobipBasicAuth,
  type InfobipInboundEvent,
  type InfobipStatusEvent,
} from '../providers/infobip-webhook';
import type { ApiContext } from '../api/context';
import { AppError } from '../errors';
import { webhookIngestionSink } from './ingestion';

export interface InfobipWebhookContext {
  /** When this POST arrived (the events' own `at` is Infobip's clock). */
  receivedAt: Date;
}

/** Where Infobip's events go; the route knows nothing of storage, and ignores what the sink returns. */
export interface InfobipWebhookSink {
  status(event: InfobipStatusEvent, context: InfobipWebhookContext): Promise<unknown> | void;
  inbound(event: InfobipInboundEvent, context: InfobipWebhookContext): Promise<unknown> | void;
  /** A POST refused before its events were read: wrong credentials (`rejected`) or a body that is not JSON (`invalid`). */
  refused?(outcome: 'rejected' | 'invalid'): void;
}

export interface InfobipWebhookCredentials {
  username: string | undefined;
  password: string | undefined;
}

export interface InfobipWebhookRouterOptions {
  /** The BASIC credentials of the Infobip subscription; a getter lets a change apply without a restart. */
  credentials: InfobipWebhookCredentials | (() => InfobipWebhookCredentials | Promise<InfobipWebhookCredentials>);
  /** The secret path segment of per-message notify URLs (INFOBIP_NOTIFY_SECRET); without it they are off. */
  notifySecret?: string | undefined;
  sink: InfobipWebhookSink;
  /** Check responses against the documented schemas (tests); default on. */
  checkResponses?: boolean;
}

/**
 * Infobip's webhook endpoint, mounted at `/webhooks/infobip`, for delivery reports, seen reports
 * and inbound messages alike. The BASIC credentials are checked before the body is read (401,
 * nothing handed on, when wrong); then every result of the batch goes to the sink in payload order.
 * A sink failure answers 500 so Infobip delivers the batch again; the sink's dedupe makes the
 * replay harmless. Reports for messages we do not know still get a 200.
 */
export function infobipWebhookRouter(options: InfobipWebhookRouterOptions): ApiRouter {
  const routes = new ApiRouter({ tag: 'Webhooks', checkResponses: options.checkResponses ?? true, public: true });
  // Credentials first, in a middleware ahead of the body parser: a caller without them never gets
  // up to 3 MB buffered on its behalf.
  const checkCredentials: RequestHandler = async (req, res, next) => {
    const { username, password } =
      typeof options.credentials === 'function' ? await options.credentials() : options.credentials;
    if (!username || !password) {
      options.sink.refused?.('rejected');
      throw new AppError('unavailable', 'webhook_not_configured', 'no Infobip webhook credentials are configured');
    }
    if (!verifyInfobipBasicAuth(req.get('authorization'), username, password)) {
      options.sink.refused?.('rejected');
      res.set('WWW-Authenticate', 'Basic realm="infobip-webhooks"');
      throw new AppError('unauthorized', 'invalid_credentials', 'webhook credentials do not match');
    }
    next();
  };
  // Reports to a message's notifyUrl come without the subscription's credentials (Infobip adds them
  // only to the subscription's own URL): the secret in the path authenticates them instead,
  // compared in constant time, before the body is read.
  const checkNotifySecret: RequestHandler = (req, _res, next) => {
    const secret = options.notifySecret;
    if (!secret) throw new AppError('not_found', 'not_found', 'per-message notify URLs are not configured');
    const presented = typeof req.params.secret === 'string' ? req.params.secret : '';
    if (!sameSecret(presented, secret)) {
      options.sink.refused?.('rejected');
      throw new AppError('unauthorized', 'invalid_credentials', 'the notify URL does not match');
    }
    next();
  };
  const rawBody = express.raw({ type: () => true, limit: '3mb' });

  routes.post(
    '/',
    {
      summary: 'Infobip delivery reports, seen reports and inbound messages',
      description: "Authenticated with the subscription's Basic credentials, checked before the body is read.",
      rawBody: rawJsonBody('A batch of results'),
      before: [checkCredentials, rawBody],
      responses: {
        200: WebhookBatchResponse,
        401: { description: 'The credentials do not match' },
        503: { description: 'No credentials are configured' },
      },
    },
    async (_input, res, req) => takeBatch(req, res),
  );
  routes.post(
    '/notify/:secret',
    {
      summary: "Infobip reports sent to a message's own notifyUrl",
      description:
        "Infobip sends these without the subscription's credentials: the secret path segment (INFOBIP_NOTIFY_SECRET) authenticates them, compared in constant time before the body is read. 404 when no secret is configured.",
      params: z.object({ secret: z.string().max(256) }),
      rawBody: rawJsonBody('A batch of results'),
      before: [checkNotifySecret, rawBody],
      responses: {
        200: WebhookBatchResponse,
        401: { description: 'The secret does not match' },
        404: { description: 'Per-message notify URLs are not configured' },
      },
    },
    async (_input, res, req) => takeBatch(req, res),
  );

  /** Every result of the batch to the sink, in payload order. */
  async function takeBatch(req: Request, res: Response): Promise<void> {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      options.sink.refused?.('invalid');
      throw new AppError('invalid', 'invalid_body', 'webhook body is not JSON');
    }

    const context: InfobipWebhookContext = { receivedAt: new Date() };
    let statuses = 0;
    let inbound = 0;
    for (const event of parseInfobipWebhook(payload, context.receivedAt)) {
      if (event.kind === 'status') {
        await options.sink.status(event, context);
        statuses += 1;
      } else {
        await options.sink.inbound(event, context);
        inbound += 1;
      }
    }
    res.json({ received: true, statuses, inbound });
  }
  return routes;
}

/** Compared through HMAC digests: equal lengths, and the time taken says nothing about either value. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHmac('sha256', 'infobip-notify-secret').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Infobip webhooks, applied by the same exactly-once ingestion as Interakt's and Meta's. */
export function infobipWebhooks(deps: ApiContext): ApiRouter {
  return infobipWebhookRouter({
    checkResponses: deps.checkResponses,
    credentials: { username: deps.infobipWebhook.username, password: deps.infobipWebhook.password },
    notifySecret: deps.infobipWebhook.notifySecret,
    sink: webhookIngestionSink(deps, 'infobip'),
  });
}
