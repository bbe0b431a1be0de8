import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { listen, type RunningApp } from '../support/api';
import { silentLogger } from '../support/logs';
import { campaignSendKey } from '../../src/campaigns/contract';
import { startCampaign } from '../../src/campaigns/start';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { countCampaignRecipients, createCampaign, createLead, getCampaign } from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { EMULATOR_KEY, nextPhone, waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';
import { spawnWorker, workerEnv, type WorkerProcess } from '../support/worker-process';

/** Two real worker processes bundle the workflows at start, and a send killed mid-call waits out its 1-minute timeout: a bound on a hang. */
const CRASH_TEST_TIMEOUT_MS = 300_000;
const RECIPIENTS = 40;
const WEBHOOK_SECRET = 'test-webhook-secret';

/**
 * The real worker process is SIGKILLed while a campaign is sending (sends queued, some mid-call),
 * and a new one started: every recipient is sent exactly once, counted at the emulator.
 */
describe('campaign worker crash and restart', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: StartedInteraktEmulator;
  let dbUrl: string;
  let api: RunningApp;
  const taskQueue = uniqueTaskQueue('campaign-crash');
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await createDevServerEnv();
    dbUrl = process.env.DATABASE_URL?.startsWith('mssql')
      ? process.env.DATABASE_URL
      : `file:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-campaign-crash-')), 'crm.db')}`;
    db = await openDb(dbUrl);
    await migrate(db);
    await seedTemplates(db);
    emulator = await startInteraktEmulator({ apiKey: EMULATOR_KEY, autoWebhooks: false });
    // The API takes the emulator's signed webhooks: a send the killed worker left mid-call (the
    // provider accepted it, the row still says sending) is confirmed by its webhook, as in
    // production, instead of being sent again when the reconcile window passes.
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        log: silentLogger(),
      }),
    );
    emulator.emulator.state.configureWebhooks({
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
      autoWebhooks: true,
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await api?.close();
    await emulator?.close();
    await env?.teardown();
    await db?.close();
  });

  function startWorker(): WorkerProcess {
    const worker = spawnWorker({
      ...workerEnv({ dbUrl, temporal: env, taskQueue, interakt: { baseUrl: emulator.baseUrl, apiKey: EMULATOR_KEY } }),
      // Slow, so the kill lands with most recipients still to send.
      INTERAKT_SENDS_PER_SECOND: '4',
      // Long enough for the webhook of a send accepted just before the kill to arrive first.
      SEND_RECONCILE_WINDOW_MS: '10000',
    });
    children.push(worker.child);
    return worker;
  }

  it(
    'sends every remaining recipient exactly once after the worker is killed mid-campaign and restarted',
    async () => {
      const leadIds: number[] = [];
      for (let i = 0; i < RECIPIENTS; i++)
        leadIds.push((await createLead(db, { name: `Lead ${i}`, phone: nextPhone() })).id);
      const campaign = await createCampaign(db, {
        name: 'crash',
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        variables: { body: [{ field: 'name' }] },
        leadIds,
      });

      const first = startWorker();
      await first.ready;
      await startCampaign(
        {
          db,
          temporal: env.client,
          taskQueue,
          sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
          campaigns: { pageSize: 10, maxInFlight: 8, sendMaxAttempts: 10 },
        },
        campaign.id,
      );
      await waitFor(() => emulator.emulator.state.acceptedMessages().length >= 8, 'first sends', 120_000);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      const acceptedBeforeRestart = emulator.emulator.state.acceptedMessages().length;
      expect(acceptedBeforeRestart).toBeLessThan(RECIPIENTS);

      const second = startWorker();
      await second.ready;
      await waitFor(
        async () => (await getCampaign(db, campaign.id))?.status === 'completed',
        'campaign completed after restart',
        240_000,
      );

      const keys = emulator.emulator.state.acceptedMessages().map((message) => message.callbackData);
      expect(new Set(keys).size).toBe(keys.length);
      expect([...keys].sort()).toEqual(leadIds.map((id) => campaignSendKey(campaign.id, id)).sort());
      expect(await countCampaignRecipients(db, campaign.id)).toMatchObject({ total: RECIPIENTS, sent: RECIPIENTS });
    },
    CRASH_TEST_TIMEOUT_MS,
  );
});
