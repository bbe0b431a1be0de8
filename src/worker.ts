/** Entry point: `npm run worker`. Runs every workflow and activity of Dripline. */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig } from './config';
import { openDb } from './db/client';
import { createDeploymentProvider } from './providers/deployment';
import { createSecretBox } from './settings/secret-box';
import { ensureTemplateSyncSchedule } from './templates/schedule';
import { createWorkers, runWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL.toUpperCase() as LogLevel) });
  const db = await openDb(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const secretBox = createSecretBox(config.DRIPLINE_SECRET_KEY);
  if (!secretBox.available) console.warn('[worker] DRIPLINE_SECRET_KEY is not set: API keys stored in settings cannot be read');
  const { provider, sendsPerSecond, templateClient } = createDeploymentProvider(config, db, secretBox);
  const activities = createActivities({
    db,
    provider,
    reconcileWindowMs: config.SEND_RECONCILE_WINDOW_MS,
    configRetryDelayMs: 5 * 60_000,
    getInteraktTemplateClient: templateClient,
  });
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    provider: provider.name,
    sendsPerSecond,
  });
  if (templateClient) {
    // Hourly template sync; creating it when it already exists is a no-op.
    const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    try {
      const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
      await ensureTemplateSyncSchedule(client, { taskQueue: config.TEMPORAL_TASK_QUEUE, every: '1h' });
    } finally {
      await clientConnection.close();
    }
  }
  console.log(`[worker] polling ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS} (provider ${provider.name})`);
  try {
    await runWorkers(workers);
  } finally {
    await connection.close();
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error('[worker] fatal:', error instanceof Error ? error.message : error);
  process.exit(1);
});
