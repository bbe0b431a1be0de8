/** Entry point: `npm run worker`. Runs every workflow and activity of Dripline. */
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadConfig } from './config';
import { openDb } from './db/client';
import { createInteraktProvider } from './providers/interakt';
import { createWorkers, runWorkers } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL.toUpperCase() as LogLevel) });
  const db = await openDb(config.DATABASE_URL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const apiKey = config.INTERAKT_API_KEY;
  const provider = createInteraktProvider({
    baseUrl: config.INTERAKT_BASE_URL,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    getApiKey: () => {
      if (!apiKey) throw new Error('INTERAKT_API_KEY is not configured');
      return apiKey;
    },
  });
  const activities = createActivities({
    db,
    provider,
    reconcileWindowMs: config.SEND_RECONCILE_WINDOW_MS,
    configRetryDelayMs: 5 * 60_000,
  });
  const workers = await createWorkers({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities,
    provider: 'interakt',
    sendsPerSecond: config.INTERAKT_SENDS_PER_SECOND,
  });
  console.log(`[worker] polling ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}`);
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
