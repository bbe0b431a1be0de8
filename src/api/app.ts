import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { CountryCode } from 'libphonenumber-js';
import type { Db } from '../db/client';
import { interaktWebhookSecretReader } from '../settings/provider-settings';
import { createSecretBox, type SecretBox } from '../settings/secret-box';
import { createWebhookPipeline, type WebhookPipeline } from '../webhooks/queue';
import { requireApiKey } from './auth';
import { errorHandler, refuseProtoKeys, unknownRoute } from './errors';
import { ctaKeyringReader } from '../cta/signing-keys';
import type { CtaKeyring } from '../cta/tokens';
import { assignmentsRouter } from './routes/assignments';
import { ctaRouter } from './routes/cta';
import { ctaSigningKeysRouter } from './routes/cta-signing-keys';
import { ctaTemplateJsonRouter } from './routes/cta-template-json';
import { healthRouter } from './routes/health';
import { infobipSyncRouter } from './routes/infobip-sync';
import { ivrRouter } from './routes/ivr';
import { leadsRouter } from './routes/leads';
import { messagesRouter, type LiveLogLimits } from './routes/messages';
import { sequencesRouter } from './routes/sequences';
import { settingsRouter } from './routes/settings';
import { templateSyncRouter } from './routes/template-sync';
import { templatesRouter } from './routes/templates';
import { trackRouter } from './routes/track';
import { webhooksRouter } from './routes/webhooks';
import { metaWebhooks } from './routes/webhooks-meta-ingest';
import { infobipWebhooks } from './routes/webhooks-infobip';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  /** Where workflows run, and where their provider sends run (rate-limited). */
  taskQueue: string;
  sendTaskQueue: string;
  defaultCountry: CountryCode;
  interaktWebhookSecret?: string | undefined;
  /** Reads the current Interakt webhook secret (settings, else environment); built by createApp when absent. */
  interaktWebhookSecretReader?: () => Promise<string | null | undefined>;
  /** Meta Cloud API: the app secret signing webhooks, and the verify token of the handshake. */
  metaAppSecret?: string | undefined;
  metaVerifyToken?: string | undefined;
  /** Infobip: the BASIC credentials its webhook subscription presents. */
  infobipWebhookUsername?: string | undefined;
  infobipWebhookPassword?: string | undefined;
  /** Seals and opens secrets kept in MasterData; without one, secret settings are refused. */
  secretBox?: SecretBox;
  /** The key from the environment, used while none is stored in settings. */
  interaktApiKey?: string | undefined;
  log?: (line: string) => void;
  /**
   * Stores webhook status events (group commit) and applies them off the request path; built and
   * started by createApp when absent. The server closes it on shutdown.
   */
  webhookPipeline?: WebhookPipeline;
  /** Infobip sync windows: the overlap with the last successful run, and the first run's reach. */
  infobipSync?: { safetyMarginMs?: number; initialLookbackMs?: number };
  /** The CTA link signing keys; built from the secret box (cached reads) when absent. */
  getCtaKeyring?: () => Promise<CtaKeyring>;
  /** Bounds of the live message log (GET /messages/stream); defaults in routes/messages.ts. */
  liveLog?: LiveLogLimits;
}

/** Builds the API without listening, so tests mount it directly. */
export function createApp(deps: ApiDeps): Express {
  if (!deps.interaktWebhookSecretReader) {
    const fromEnv = deps.interaktWebhookSecret;
    deps = {
      ...deps,
      interaktWebhookSecretReader: deps.secretBox?.available
        ? interaktWebhookSecretReader(deps.db, deps.secretBox, { webhookSecret: fromEnv })
        : async () => fromEnv,
    };
  }
  if (!deps.webhookPipeline) deps = { ...deps, webhookPipeline: createWebhookPipeline(deps.db, { log: deps.log }) };
  const secretBox = deps.secretBox ?? createSecretBox(undefined);
  const log = deps.log ?? ((line: string) => console.log(line));
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use('/health', healthRouter(deps));
  // Webhooks authenticate by signature over the raw body, so they come before the JSON parser.
  app.use('/webhooks/meta', metaWebhooks(deps));
  app.use('/webhooks/infobip', infobipWebhooks(deps));
  app.use('/webhooks', webhooksRouter(deps));
  // CTA links are public: the signed token is their authentication.
  app.use(
    '/track',
    trackRouter({
      db: deps.db,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      sendTaskQueue: deps.sendTaskQueue,
      getCtaKeyring: deps.getCtaKeyring ?? ctaKeyringReader(deps.db, secretBox),
      log,
    }),
  );

  const admin = express.Router();
  admin.use(requireApiKey(deps.db));
  admin.use(express.json({ limit: '2mb', reviver: refuseProtoKeys }));
  admin.use('/settings/cta-signing-keys', ctaSigningKeysRouter({ db: deps.db, secretBox }));
  admin.use('/settings', settingsRouter({ ...deps, secretBox }));
  admin.use('/leads', leadsRouter(deps));
  admin.use('/sequences', sequencesRouter(deps));
  // Sync routes first: the CRUD router's `GET /:id` would otherwise claim `/templates/sync-runs`.
  admin.use('/templates', templateSyncRouter(deps));
  admin.use('/templates', templatesRouter(deps));
  admin.use('/assignments', assignmentsRouter(deps));
  admin.use('/messages', messagesRouter(deps));
  admin.use('/cta/template-json', ctaTemplateJsonRouter());
  admin.use('/cta', ctaRouter(deps));
  admin.use('/ivr', ivrRouter(deps));
  admin.use('/sync/infobip', infobipSyncRouter(deps));
  app.use(admin);

  app.use(unknownRoute);
  app.use(errorHandler(deps.log ?? ((line) => console.error(line))));
  return app;
}
