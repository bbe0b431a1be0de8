/**
 * What the API's routes depend on, resolved once when the app is built: every route receives the
 * same complete `ApiContext` and never patches or defaults it again. `ApiOptions` is what an entry
 * point (server.ts, a test, a bench) gives; `createApiContext` fills what it leaves out.
 */
import type { Client } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { DEFAULT_CAMPAIGN_RUN_OPTIONS, type CampaignRunOptions } from '../campaigns/start';
import { ctaKeyringReader } from '../cta/signing-keys';
import type { CtaKeyring } from '../cta/tokens';
import type { Db } from '../db/client';
import type { ProviderName } from '../shared';
import type { DeploymentSenders } from '../messages/senders';
import type { InfobipSyncOptions } from '../infobip-sync/contract';
import type { LiveLogLimits } from '../messages/routes';
import { interaktWebhookSecretReader } from '../settings/provider-settings';
import { createSecretBox, type SecretBox } from '../settings/secret-box';
import { createLogger, type Logger } from '../logging/logger';
import { createApiMetrics, type ApiMetrics } from '../metrics';
import { createWebhookPipeline, type WebhookPipeline } from '../webhooks/queue';

export interface ApiOptions {
  db: Db;
  temporal: Client;
  /** Where workflows run, and where their provider sends run (rate-limited). */
  taskQueue: string;
  sendTaskQueue: string;
  defaultCountry: CountryCode;
  /** The deployment's sending provider (MESSAGING_PROVIDER): whose templates a sync reads. Default interakt. */
  messagingProvider?: ProviderName;
  /** The sender numbers a sequence or CTA flow may name (config.ts deploymentSenders); default none. */
  senders?: DeploymentSenders;
  /** The Interakt webhook secret from the environment, in force while settings hold none. */
  interaktWebhookSecret?: string | undefined;
  /** Reads the current Interakt webhook secret; by default settings (when secrets can be read), else the environment's. */
  interaktWebhookSecretReader?: () => Promise<string | null | undefined>;
  /** Meta Cloud API: the app secret signing webhooks, and the verify token of the handshake. */
  metaAppSecret?: string | undefined;
  metaVerifyToken?: string | undefined;
  /** Infobip: the BASIC credentials its webhook subscription presents. */
  infobipWebhookUsername?: string | undefined;
  infobipWebhookPassword?: string | undefined;
  /** Infobip: the secret path segment of per-message notify URLs (reports there carry no credentials). */
  infobipNotifySecret?: string | undefined;
  /** Seals and opens secrets kept in MasterData; without one, secret settings are refused. */
  secretBox?: SecretBox;
  /** The Interakt key from the environment, used while none is stored in settings. */
  interaktApiKey?: string | undefined;
  /** The process's logger (src/logging/logger.ts); by default warnings and errors as JSON on stdout. */
  log?: Logger;
  /** This app's metrics; by default a fresh registry without process metrics (the entry point adds those). */
  metrics?: ApiMetrics;
  /** Serve `GET /metrics` (unauthenticated; API_METRICS_ENABLED); default true. */
  metricsEndpoint?: boolean;
  /** Stores webhook status events (group commit) and applies them off the request path; the server closes it on shutdown. */
  webhookPipeline?: WebhookPipeline;
  /** Infobip sync windows: the overlap with the last successful run, and the first run's reach. */
  infobipSync?: Pick<InfobipSyncOptions, 'safetyMarginMs' | 'initialLookbackMs'>;
  /** Tests only: the Temporal Schedule id of the Infobip sync. */
  infobipSyncScheduleId?: string;
  /** Pages per activity call of sync runs started by the API (how often their progress moves). */
  infobipSyncPagesPerChunk?: number;
  /** The CTA link signing keys; by default read from MasterData through the secret box (cached). */
  getCtaKeyring?: () => Promise<CtaKeyring>;
  /** Bounds of the live message log (GET /messages/stream); defaults in messages/routes.ts. */
  liveLog?: LiveLogLimits;
  /**
   * Check every JSON response against its documented schema (a mismatch is a 500 and a log line).
   * On by default, so every test of the API also tests the contract; server.ts turns it off in production.
   */
  checkResponses?: boolean;
  /** How campaigns run: cursor page size, sends queued at once, attempts per send (defaults in campaigns/start.ts). */
  campaigns?: Partial<CampaignRunOptions>;
  /** Where the built console is (web/dist by default); served at /console. */
  consoleDir?: string;
}

export interface ApiContext {
  db: Db;
  temporal: Client;
  taskQueue: string;
  sendTaskQueue: string;
  defaultCountry: CountryCode;
  messagingProvider: ProviderName;
  senders: DeploymentSenders;
  log: Logger;
  metrics: ApiMetrics;
  secretBox: SecretBox;
  /** The environment's provider values, in force while MasterData holds none. */
  interaktApiKey: string | undefined;
  interaktWebhookSecret: string | undefined;
  /** The Interakt webhook secret now in force (settings, else environment). */
  readInteraktWebhookSecret: () => Promise<string | null | undefined>;
  meta: { appSecret: string | undefined; verifyToken: string | undefined };
  infobipWebhook: { username: string | undefined; password: string | undefined; notifySecret: string | undefined };
  webhookPipeline: WebhookPipeline;
  infobipSync: Pick<InfobipSyncOptions, 'safetyMarginMs' | 'initialLookbackMs'>;
  infobipSyncScheduleId: string | undefined;
  infobipSyncPagesPerChunk: number | undefined;
  getCtaKeyring: () => Promise<CtaKeyring>;
  liveLog: LiveLogLimits;
  checkResponses: boolean;
  campaigns: CampaignRunOptions;
}

/** Resolves every dependency the routes use, once. Starts the webhook pipeline when none is given. */
export function createApiContext(options: ApiOptions): ApiContext {
  const log = options.log ?? createLogger({ level: 'warn', name: 'api' });
  const secretBox = options.secretBox ?? createSecretBox(undefined);
  const fromEnv = options.interaktWebhookSecret;
  return {
    db: options.db,
    temporal: options.temporal,
    taskQueue: options.taskQueue,
    sendTaskQueue: options.sendTaskQueue,
    defaultCountry: options.defaultCountry,
    messagingProvider: options.messagingProvider ?? 'interakt',
    senders: options.senders ?? { default: null, others: [] },
    log,
    metrics: options.metrics ?? createApiMetrics(),
    secretBox,
    interaktApiKey: options.interaktApiKey,
    interaktWebhookSecret: fromEnv,
    readInteraktWebhookSecret:
      options.interaktWebhookSecretReader ??
      (secretBox.available
        ? interaktWebhookSecretReader(options.db, secretBox, { webhookSecret: fromEnv })
        : async () => fromEnv),
    meta: { appSecret: options.metaAppSecret, verifyToken: options.metaVerifyToken },
    infobipWebhook: {
      username: options.infobipWebhookUsername,
      password: options.infobipWebhookPassword,
      notifySecret: options.infobipNotifySecret,
    },
    webhookPipeline: options.webhookPipeline ?? createWebhookPipeline(options.db, { log }),
    infobipSync: options.infobipSync ?? {},
    infobipSyncScheduleId: options.infobipSyncScheduleId,
    infobipSyncPagesPerChunk: options.infobipSyncPagesPerChunk,
    getCtaKeyring: options.getCtaKeyring ?? ctaKeyringReader(options.db, secretBox),
    liveLog: options.liveLog ?? {},
    checkResponses: options.checkResponses ?? true,
    campaigns: { ...DEFAULT_CAMPAIGN_RUN_OPTIONS, ...options.campaigns },
  };
}
