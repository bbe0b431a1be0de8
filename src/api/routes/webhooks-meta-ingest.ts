import type { Router } from 'express';
import type { ApiDeps } from '../app';
import { webhookIngestionSink } from './webhook-ingestion';
import { metaWebhookRouter } from './webhooks-meta';

/** Meta Cloud API webhooks, applied by the same exactly-once ingestion as Interakt's. */
export function metaWebhooks(deps: ApiDeps): Router {
  return metaWebhookRouter({
    appSecret: deps.metaAppSecret,
    verifyToken: deps.metaVerifyToken,
    sink: webhookIngestionSink(deps, 'meta'),
  });
}
