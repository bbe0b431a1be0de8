import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { CountryCode } from 'libphonenumber-js';
import type { Db } from '../db/client';
import { interaktWebhookSecretReader } from '../settings/provider-settings';
import { createSecretBox, type SecretBox } from '../settings/secret-box';
import { createWebhookPipeline, type WebhookPipeline } from '../webhooks/queue';
import { requireApiKey } from './auth';
import { errorHandler, unknownRoute } from './errors';
import { assignmentsRouter } from './routes/assignments';
import { healthRouter } from './routes/health';
import { leadsRouter } from './routes/leads';
import { messagesRouter } from './routes/messages';
import { sequencesRouter } from './routes/sequences';
import { settingsRouter } from './routes/settings';
import { templateSyncRouter } from './routes/template-sync';
import { templatesRouter } from './routes/templates';
import { webhooksRouter } from './routes/webhooks';
import { metaWebhooks } from './routes/webhooks-meta-ingest';

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
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use('/health', healthRouter(deps));
  // Webhooks authenticate by signature over the raw body, so they come before the JSON parser.
  app.use('/webhooks/meta', metaWebhooks(deps));
  app.use('/webhooks', webhooksRouter(deps));

  const admin = express.Router();
  admin.use(requireApiKey(deps.db));
  admin.use(express.json({ limit: '2mb' }));
  admin.use('/settings', settingsRouter({ ...deps, secretBox: deps.secretBox ?? createSecretBox(undefined) }));
  admin.use('/leads', leadsRouter(deps));
  admin.use('/sequences', sequencesRouter(deps));
  // Sync routes first: the CRUD router's `GET /:id` would otherwise claim `/templates/sync-runs`.
  admin.use('/templates', templateSyncRouter(deps));
  admin.use('/templates', templatesRouter(deps));
  admin.use('/assignments', assignmentsRouter(deps));
  admin.use('/messages', messagesRouter(deps));
  app.use(admin);

  app.use(unknownRoute);
  app.use(errorHandler(deps.log ?? ((line) => console.error(line))));
  return app;
}
