import express, { type Express } from 'express';
import { createApiContext, type ApiOptions } from './context';
import { requireApiKey } from './auth';
import { errorHandler, refuseProtoKeys, unknownRoute } from './errors';
import { assignmentsRouter } from '../drips/assignments-routes';
import { ctaRouter } from '../cta/routes';
import { ctaSigningKeysRouter } from '../cta/signing-keys-routes';
import { ctaTemplateJsonRouter } from '../cta/template-json-routes';
import { healthRouter } from './health';
import { infobipSyncRouter } from '../infobip-sync/routes';
import { ivrRouter } from '../cta/ivr-routes';
import { leadsRouter } from '../leads/routes';
import { messagesRouter } from '../messages/routes';
import { sequencesRouter } from '../drips/sequences-routes';
import { settingsRouter } from '../settings/routes';
import { templateSubmissionRouter } from '../templates/submission-routes';
import { templateSyncRouter } from '../templates/sync-routes';
import { templatesRouter } from '../templates/routes';
import { trackRouter } from '../cta/track-routes';
import { webhooksRouter } from '../webhooks/interakt-routes';
import { metaWebhooks } from '../webhooks/meta-ingest';
import { infobipWebhooks } from '../webhooks/infobip-routes';

/** Builds the API without listening, so tests mount it directly. */
export function createApp(options: ApiOptions): Express {
  const context = createApiContext(options);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use('/health', healthRouter(context));
  // Webhooks authenticate by signature over the raw body, so they come before the JSON parser.
  app.use('/webhooks/meta', metaWebhooks(context));
  app.use('/webhooks/infobip', infobipWebhooks(context));
  app.use('/webhooks', webhooksRouter(context));
  // CTA links are public: the signed token is their authentication.
  app.use('/track', trackRouter(context));

  const admin = express.Router();
  admin.use(requireApiKey(context.db));
  admin.use(express.json({ limit: '2mb', reviver: refuseProtoKeys }));
  admin.use('/settings/cta-signing-keys', ctaSigningKeysRouter(context));
  admin.use('/settings', settingsRouter(context));
  admin.use('/leads', leadsRouter(context));
  admin.use('/sequences', sequencesRouter(context));
  // Sync and submission routes first: the CRUD router's `GET /:id` would otherwise claim them.
  admin.use('/templates/submissions', templateSubmissionRouter(context));
  admin.use('/templates', templateSyncRouter(context));
  admin.use('/templates', templatesRouter(context));
  admin.use('/assignments', assignmentsRouter(context));
  admin.use('/messages', messagesRouter(context));
  admin.use('/cta/template-json', ctaTemplateJsonRouter());
  admin.use('/cta', ctaRouter(context));
  admin.use('/ivr', ivrRouter(context));
  admin.use('/sync/infobip', infobipSyncRouter(context));
  app.use(admin);

  app.use(unknownRoute);
  app.use(errorHandler(context.log));
  return app;
}
