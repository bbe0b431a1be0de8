import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { ApiOptions } from '../../src/api/context';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from './api';
import { createTestDb } from './db';
import { startDripHarness, type DripHarness, type DripHarnessOptions } from './drip-harness';
import { silentLogger } from './logs';

export const STACK_WEBHOOK_SECRET = 'test-webhook-secret';

export interface ApiStack {
  db: Db;
  api: RunningApp;
  harness: DripHarness;
  /** Calls the API with an admin key. */
  request: ReturnType<typeof apiClient>;
  /** Stops the worker and the API and closes the database; the Temporal environment is the caller's. */
  stop(): Promise<void>;
}

/**
 * What the end-to-end API tests start: a fresh database, the API over HTTP on `taskQueue`, a real
 * worker with the Interakt emulator posting signed webhooks back to the API, and an admin key.
 */
export async function startApiStack(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  options: { app?: Partial<ApiOptions>; harness?: Partial<DripHarnessOptions> } = {},
): Promise<ApiStack> {
  const db = await createTestDb();
  const api = await listen(
    createApp({
      db,
      temporal: env.client,
      taskQueue,
      sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
      defaultCountry: 'IN',
      interaktWebhookSecret: STACK_WEBHOOK_SECRET,
      log: silentLogger(),
      ...options.app,
    }),
  );
  const harness = await startDripHarness({
    db,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    webhookUrl: `${api.url}/webhooks/interakt`,
    webhookSecret: STACK_WEBHOOK_SECRET,
    ...options.harness,
  });
  const { key, keyHash, keyPrefix } = generateApiKey();
  await createApiKey(db, { name: 'test', keyHash, keyPrefix });
  return {
    db,
    api,
    harness,
    request: apiClient(api.url, key),
    async stop() {
      await harness.stop();
      await api.close();
      await db.close();
    },
  };
}
