/**
 * Everything the console talks to, for its browser tests: the real API (the app, listening on a
 * free port and serving the built console), a real worker process, a Temporal dev server, and the
 * Interakt and Infobip emulators posting their webhooks back to the API. One SQLite file shared by
 * the API and the worker, and an admin and an agent API key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../src/api/app';
import { DEFAULT_CONSOLE_DIR } from '../../src/api/console-static';
import { generateApiKey } from '../../src/api/auth';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { createApiKey } from '../../src/db/queries';
import { createSecretBox } from '../../src/settings/secret-box';
import { sendTaskQueue } from '../../src/shared';
import { createWebhookPipeline } from '../../src/webhooks/queue';
import { listen, type RunningApp } from './api';
import { EMULATOR_KEY } from './drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from './emulator';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from './infobip-emulator';
import { silentLogger } from './logs';
import { createDevServerEnv, uniqueTaskQueue } from './temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from './worker-process';

const WEBHOOK_SECRET = 'console-e2e-webhook-secret';
const SECRET_KEY = Buffer.alloc(32, 11).toString('base64');

export interface ConsoleStack {
  api: RunningApp;
  db: Db;
  adminKey: string;
  agentKey: string;
  interakt: StartedInteraktEmulator;
  infobip: StartedInfobipEmulator;
  worker: WorkerProcess;
  close(): Promise<void>;
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  if (!fs.existsSync(path.join(DEFAULT_CONSOLE_DIR, 'index.html')))
    throw new Error('The console is not built: run `npm run console:build` (npm test does it first).');
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const env: TestWorkflowEnvironment = await createDevServerEnv();
    closers.push(() => env.teardown());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-console-e2e-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const dbUrl = `file:${path.join(dir, 'crm.db')}`;
    const db = await openDb(dbUrl);
    closers.push(() => db.close());
    await migrate(db);
    const keys = await Promise.all(
      (['admin', 'agent'] as const).map(async (role) => {
        const { key, keyHash, keyPrefix } = generateApiKey();
        await createApiKey(db, { name: `e2e ${role}`, keyHash, keyPrefix, role });
        return key;
      }),
    );

    const taskQueue = uniqueTaskQueue('console');
    const log = silentLogger();
    const pipeline = createWebhookPipeline(db, { log });
    closers.push(() => pipeline.close());
    const api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        secretBox: createSecretBox(SECRET_KEY),
        webhookPipeline: pipeline,
        infobipSyncScheduleId: `infobip-sync-${taskQueue}`,
        log,
      }),
    );
    closers.push(() => api.close());

    // Status webhooks slow enough that a person (and the test) can watch the ticks move.
    const interakt = await startInteraktEmulator({
      apiKey: EMULATOR_KEY,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
      ctaBaseUrl: api.url,
      webhookDelaysMs: { sent: 200, delivered: 2_500, read: 5_000 },
    });
    closers.push(() => interakt.close());
    const infobip = await startInfobipEmulator({
      people: { count: 40, anchor: new Date(), contactSpreadMs: 6 * 3600_000 },
    });
    closers.push(() => infobip.close());

    const worker = spawnWorker({
      ...workerEnv({ dbUrl, temporal: env, taskQueue, interakt: { baseUrl: interakt.baseUrl, apiKey: EMULATOR_KEY } }),
      DRIPLINE_SECRET_KEY: SECRET_KEY,
      PUBLIC_BASE_URL: api.url,
      INTERAKT_SENDS_PER_SECOND: '50',
      INFOBIP_BASE_URL: infobip.url,
      INFOBIP_API_KEY: TEST_INFOBIP_API_KEY,
    });
    closers.push(async () => {
      worker.child.kill('SIGKILL');
    });
    await worker.ready;
    return { api, db, adminKey: keys[0]!, agentKey: keys[1]!, interakt, infobip, worker, close };
  } catch (error) {
    await close();
    throw error;
  }
}
