import type { ApiContext } from '../api/context';
import { templateStatusSink, webhookIngestionSink } from './ingestion';
import { metaWebhookRouter } from './meta-routes';

/** Meta Cloud API webhooks, applied by the same exactly-once ingestion as Interakt's. */
import type { ApiRouter } from '../api/route';

export function metaWebhooks(deps: ApiContext): ApiRouter {
  return metaWebhookRouter({
    checkResponses: deps.checkResponses,
    appSecret: deps.meta.appSecret,
    verifyToken: deps.meta.verifyToken,
    sink: { ...webhookIngestionSink(deps, 'meta'), template: templateStatusSink(deps, 'meta') },
  });
}
