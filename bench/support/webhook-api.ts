/**
 * The API process the webhook bench measures: the real createApp on the bench's SQLite file.
 * Temporal is a lazy client that never connects (status webhooks do not signal workflows), so
 * the bench needs no Temporal server. Env: DATABASE_URL, INTERAKT_WEBHOOK_SECRET, PORT.
 */
import { Client } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { openDb } from '../../src/db/client';
import { createWebhookPipeline } from '../../src/webhooks/queue';

async function main(): Promise<void> {
  const db = await openDb(process.env.DATABASE_URL!);
  const webhookPipeline = createWebhookPipeline(db);
  const app = createApp({
    db,
    temporal: new Client(),
    taskQueue: 'bench',
    sendTaskQueue: 'bench-sends-interakt',
    defaultCountry: 'IN',
    interaktWebhookSecret: process.env.INTERAKT_WEBHOOK_SECRET,
    webhookPipeline,
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () =>
    console.log(`[webhook-api] listening on ${process.env.PORT}`),
  );
  process.once('SIGTERM', () =>
    server.close(
      () =>
        void webhookPipeline
          .close()
          .then(() => db.close())
          .finally(() => process.exit(0)),
    ),
  );
}

main().catch((error: unknown) => {
  console.error('[webhook-api] fatal:', error);
  process.exit(1);
});
