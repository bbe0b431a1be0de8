/** Entry point: `npm run api`. Serves the admin API, provider webhooks, health and metrics. */
import { Client, Connection } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { deploymentSenders, loadConfig } from '../config';
import { openDb } from '../db/client';
import { createLogger, createProcessLogger } from '../logging/logger';
import { createApiMetrics } from '../metrics';
import { createSecretBox } from '../settings/secret-box';
import { sendTaskQueue } from '../shared';
import { createWebhookPipeline } from '../webhooks/queue';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createProcessLogger(config, 'api');
  const db = await openDb(config.DATABASE_URL);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const deps = {
    db,
    temporal,
    log,
    metrics: createApiMetrics({ processMetrics: true }),
    metricsEndpoint: config.API_METRICS_ENABLED,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    sendTaskQueue: sendTaskQueue(config.TEMPORAL_TASK_QUEUE, config.MESSAGING_PROVIDER),
    defaultCountry: config.DEFAULT_COUNTRY as CountryCode,
    interaktWebhookSecret: config.INTERAKT_WEBHOOK_SECRET,
    interaktApiKey: config.INTERAKT_API_KEY,
    metaAppSecret: config.META_APP_SECRET,
    metaVerifyToken: config.META_WEBHOOK_VERIFY_TOKEN,
    infobipWebhookUsername: config.INFOBIP_WEBHOOK_USERNAME,
    infobipWebhookPassword: config.INFOBIP_WEBHOOK_PASSWORD,
    infobipNotifySecret: config.INFOBIP_NOTIFY_SECRET,
    messagingProvider: config.MESSAGING_PROVIDER,
    senders: deploymentSenders(config),
    infobipSync: {
      safetyMarginMs: config.INFOBIP_SYNC_SAFETY_MARGIN_MS,
      initialLookbackMs: config.INFOBIP_SYNC_INITIAL_LOOKBACK_MS,
    },
    secretBox: createSecretBox(config.DRIPLINE_SECRET_KEY),
    webhookPipeline: createWebhookPipeline(db, { log }),
  };
  if (!deps.secretBox.available) log.warn('DRIPLINE_SECRET_KEY is not set: secrets cannot be stored in settings');
  const app = createApp(deps);
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    log.info({ url: `http://${config.API_HOST}:${config.API_PORT}`, metrics: config.API_METRICS_ENABLED }, 'listening');
  });
  const stop = () => {
    server.close(() => {
      // Events already acknowledged are stored; pending ones are applied by the next start.
      void deps.webhookPipeline
        .close()
        .then(() => connection.close())
        .then(() => db.close())
        .finally(() => process.exit(0));
    });
    // Live-log streams never end by themselves: give requests in flight a moment, then cut.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  // Also a configuration that could not be read: hence a logger of its own.
  createLogger({ level: 'info', name: 'api' }).fatal({ err: error }, 'API stopped');
  process.exit(1);
});
