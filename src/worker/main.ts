/** Entry point: `npm run worker`. Runs every workflow and activity of Dripline. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { deploymentSenders, loadConfig, type Config } from '../config';
import { openDb } from '../db/client';
import { ctaKeyringReader } from '../cta/signing-keys';
import { createDeploymentProvider } from './provider';
import { createInfobipClient } from '../providers/infobip';
import { isCountryCode } from '../providers/phone';
import { createSecretBox } from '../settings/secret-box';
import { ensureTemplateSyncSchedule } from '../templates/schedule';
import { templateSyncScheduleId } from '../templates/contract';
import { createWorkers, runWorkers } from './workers';
import { createSendLimit } from '../messages/send-limit';
import { createInteraktTrackClient } from '../providers/interakt-track';
import { interaktMilestoneSink } from '../interakt-track/start';
import { interaktApiKeyReader } from '../settings/provider-settings';
import { createLogger, createProcessLogger, temporalLogger } from '../logging/logger';
import { createWorkerMetrics, serveMetrics } from '../metrics';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createProcessLogger(config, 'worker');
  const level = config.LOG_LEVEL.toUpperCase() as LogLevel;
  Runtime.install({
    // The SDK's lines, the workflows' `log` and the activities' context logger, as our JSON lines.
    logger: temporalLogger(log),
    telemetryOptions: {
      // The Rust core's own lines too, rather than its plain text on stderr.
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      // The SDK serves its worker metrics (polls, task latencies, slots) itself, on its own port:
      // simpler and more honest than scraping them into ours.
      ...(config.WORKER_TEMPORAL_METRICS_PORT > 0 && {
        metrics: {
          prometheus: {
            bindAddress: `${config.WORKER_METRICS_HOST}:${config.WORKER_TEMPORAL_METRICS_PORT}`,
          },
        },
      }),
    },
  });
  const metrics = createWorkerMetrics({ processMetrics: true });
  const metricsServer =
    config.WORKER_METRICS_PORT > 0
      ? await serveMetrics(metrics.registry, {
          host: config.WORKER_METRICS_HOST,
          port: config.WORKER_METRICS_PORT,
          log,
        })
      : undefined;
  const db = await openDb(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const secretBox = createSecretBox(config.DRIPLINE_SECRET_KEY);
  if (!secretBox.available) log.warn('DRIPLINE_SECRET_KEY is not set: API keys stored in settings cannot be read');
  const { provider, sendsPerSecond, templateSource, metaTemplateClient } = createDeploymentProvider(
    config,
    db,
    secretBox,
  );
  // Every provider call takes a slot of its sender's minute first, on top of the send queue's pacing.
  const sendLimit = createSendLimit(db, { sendsPerSecond });
  // The CTA activities signal other workflows (a "not interested" stops the lead's drips).
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const activityDeps: ActivityDeps = {
    db,
    provider,
    temporal: client,
    ...(secretBox.available && { getCtaKeyring: ctaKeyringReader(db, secretBox) }),
    reconcileWindowMs: config.SEND_RECONCILE_WINDOW_MS,
    configRetryDelayMs: 5 * 60_000,
    getTemplateSource: templateSource,
    getMetaTemplateClient: metaTemplateClient,
    ...infobipSyncDeps(config),
    log,
    sends: metrics.sends,
    sendLimit,
    // Interakt's Track APIs mirror leads and milestones whatever the sending provider, when settings turn them on.
    getInteraktTrackClient: () =>
      createInteraktTrackClient({
        baseUrl: config.INTERAKT_BASE_URL,
        timeoutMs: config.PROVIDER_TIMEOUT_MS,
        getApiKey: interaktApiKeyReader(db, secretBox, { apiKey: config.INTERAKT_API_KEY }),
      }),
    milestones: interaktMilestoneSink({ db, temporal: client, taskQueue: config.TEMPORAL_TASK_QUEUE, log }),
  };
  const activities = createActivities(activityDeps);
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    provider: provider.name,
    sendsPerSecond: sendLimit.sendsPerSecond,
    // Each further sender number polls its own queue with activities that send from it.
    senders: deploymentSenders(config).others.map((sender) => ({
      sender,
      activities: createActivities({ ...activityDeps, sender }),
    })),
    log,
  });
  if (templateSource) {
    // Hourly template sync of this provider's list; creating it when it already exists is a no-op.
    await ensureTemplateSyncSchedule(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      every: '1h',
      scheduleId: templateSyncScheduleId(provider.name),
    });
  }
  log.info(
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      temporal: config.TEMPORAL_ADDRESS,
      provider: provider.name,
      metrics: metricsServer ? `http://${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics` : 'off',
      temporalMetrics:
        config.WORKER_TEMPORAL_METRICS_PORT > 0
          ? `http://${config.WORKER_METRICS_HOST}:${config.WORKER_TEMPORAL_METRICS_PORT}/metrics`
          : 'off',
    },
    'polling',
  );
  try {
    await runWorkers(workers);
  } finally {
    metricsServer?.close();
    await clientConnection.close();
    await connection.close();
    await db.close();
  }
}

/** The Infobip sync reads with the account's key; without one, a sync run fails with a configuration error. */
function infobipSyncDeps(config: Config): Pick<ActivityDeps, 'getInfobipClient' | 'defaultCountry'> {
  const apiKey = config.INFOBIP_API_KEY;
  return {
    defaultCountry: isCountryCode(config.DEFAULT_COUNTRY) ? config.DEFAULT_COUNTRY : 'IN',
    ...(apiKey && {
      getInfobipClient: () =>
        createInfobipClient({
          baseUrl: config.INFOBIP_BASE_URL,
          getApiKey: () => apiKey,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        }),
    }),
  };
}

main().catch((error: unknown) => {
  // Also a configuration that could not be read: hence a logger of its own.
  createLogger({ level: 'info', name: 'worker' }).fatal({ err: error }, 'worker stopped');
  process.exit(1);
});
