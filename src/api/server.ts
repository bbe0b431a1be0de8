/** Entry point: `npm run api`. Serves the admin API, provider webhooks and health. */
import { Client, Connection } from '@temporalio/client';
import type { CountryCode } from 'libphonenumber-js';
import { loadConfig } from '../config';
import { openDb } from '../db/client';
import { sendTaskQueue } from '../shared';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = await openDb(config.DATABASE_URL);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = createApp({
    db,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    sendTaskQueue: sendTaskQueue(config.TEMPORAL_TASK_QUEUE, 'interakt'),
    defaultCountry: config.DEFAULT_COUNTRY as CountryCode,
    interaktWebhookSecret: config.INTERAKT_WEBHOOK_SECRET,
  });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`[api] listening on http://${config.API_HOST}:${config.API_PORT}`);
  });
  const stop = () => {
    server.close(() => {
      void connection.close().then(() => db.close()).finally(() => process.exit(0));
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('[api] fatal:', error instanceof Error ? error.message : error);
  process.exit(1);
});
