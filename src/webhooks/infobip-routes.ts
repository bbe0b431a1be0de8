import express, { type RequestHandler } from 'express';
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
  routes.post(
    '/',
    {
      summary: 'Infobip delivery reports, seen reports and inbound messages',
      description: "Authenticated with the subscription's Basic credentials, checked before the body is read.",
      rawBody: rawJsonBody('A batch of results'),
      before: [checkCredentials, express.raw({ type: () => true, limit: '3mb' })],
      responses: {
        200: WebhookBatchResponse,
        401: { description: 'The credentials do not match' },
        503: { description: 'No credentials are configured' },
      },
    },
    async (_input, res, req) => {
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
    },
  );
  return routes;
}

/** Infobip webhooks, applied by the same exactly-once ingestion as Interakt's and Meta's. */
export function infobipWebhooks(deps: ApiContext): ApiRouter {
  return infobipWebhookRouter({
    checkResponses: deps.checkResponses,
    credentials: deps.infobipWebhook,
    sink: webhookIngestionSink(deps, 'infobip'),
  });
}
