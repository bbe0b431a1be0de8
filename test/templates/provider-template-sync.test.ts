import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors';
import type { Db } from '../../src/db/client';
import { getTemplateSyncRun } from '../../src/db/queries';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { META_EMULATOR_WABA_ID } from '../../src/emulators/meta';
import { createInfobipTemplateSource } from '../../src/providers/infobip-templates';
import { createMetaTemplateSource } from '../../src/providers/meta-templates';
import type { TemplateSource } from '../../src/providers/templates';
import type { ProviderName } from '../../src/shared';
import { templateSyncRouter } from '../../src/templates/sync-routes';
import { createTemplateSyncActivities } from '../../src/worker/activities';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { bundleWorkflows, createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';

const SENDER = '447860099299';
const EXTRA: EmulatorTemplate[] = [
  {
    name: 'order_update',
    language: 'en_US',
    body: 'Hi {{1}}, your order shipped.',
    buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' }],
    quality: 'YELLOW',
  },
  { name: 'spring_sale', language: 'en', body: 'Hi {{1}}, sale soon.', approvalStatus: 'PENDING' },
];

/**
 * Template sync for Meta's WhatsApp Business Account and for Infobip's senders, through the API
 * and the sync workflow, with the same rules as Interakt's: every template upserted by name and
 * language with its status, and those a complete pass no longer finds marked removed upstream.
 * Each provider syncs into its own database, as each deployment has one provider.
 */
describe('template sync from Meta and from Infobip', () => {
  let env: TestWorkflowEnvironment;
  let meta: StartedMetaEmulator;
  let infobip: StartedInfobipEmulator;
  const rigs: Array<{ db: Db; worker: Worker; run: Promise<void>; api: RunningApp }> = [];

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    meta = await startMetaEmulator({ templates: EXTRA, autoWebhooks: false });
    infobip = await startInfobipEmulator({ whatsappSender: SENDER, templates: EXTRA, autoReports: false });
  });
  afterAll(async () => {
    for (const rig of rigs) {
      await rig.api.close();
      if (rig.worker.getState() === 'RUNNING') rig.worker.shutdown();
      await rig.run;
      await rig.db.close();
    }
    await meta?.close();
    await infobip?.close();
    await env?.teardown();
  });

  /** A worker and an API for one provider's deployment, over their own database. */
  async function deployment(provider: ProviderName, source: () => TemplateSource) {
    const db = await createTestDb();
    const taskQueue = uniqueTaskQueue(`template-sync-${provider}`);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities: createTemplateSyncActivities({ db, provider, getTemplateSource: source }),
    });
    const run = worker.run();
    const app = express();
    app.use(
      '/templates',
      templateSyncRouter({ db, temporal: env.client, taskQueue, messagingProvider: provider, checkResponses: true })
        .router,
    );
    app.use(errorHandler(silentLogger()));
    const api = await listen(app);
    rigs.push({ db, worker, run, api });
    const request = apiClient(api.url);
    return {
      db,
      async sync() {
        const started = await request('POST', '/templates/sync');
        expect(started.status).toBe(202);
        const summary = await env.client.workflow.getHandle(started.body.workflowId).result();
        return { summary, run: await getTemplateSyncRun(db, started.body.runId) };
      },
      async templates() {
        const rows = await db.orm.select().from(db.schema.messageMaster);
        return new Map(rows.map((row) => [`${row.name}/${row.language}`, row]));
      },
    };
  }

  it('syncs Meta’s message_templates page by page, then marks a deleted template removed and takes a new status', async () => {
    const rig = await deployment('meta', () =>
      createMetaTemplateSource({
        graphBaseUrl: meta.url,
        apiVersion: 'v21.0',
        wabaId: META_EMULATOR_WABA_ID,
        getAccessToken: () => 'test-meta-token',
        timeoutMs: 10_000,
        pageSize: 3,
      }),
    );
    const first = await rig.sync();
    expect(first.summary).toMatchObject({ status: 'completed', fetched: 8, created: 8, removed: 0, errorCount: 0 });
    expect(first.run).toMatchObject({ provider: 'meta', status: 'completed' });
    expect(
      meta.emulator.state.requests().filter((request) => request.path.includes('/message_templates')),
    ).toHaveLength(3);
    const stored = meta.emulator.state.templates().find((template) => template.name === 'order_update')!;
    expect((await rig.templates()).get('order_update/en_US')).toMatchObject({
      approvalStatus: 'Approved',
      provider: 'meta',
      source: 'meta',
      providerTemplateId: stored.waTemplateId,
      qualityScore: 'YELLOW',
    });
    expect((await rig.templates()).get('spring_sale/en')).toMatchObject({ approvalStatus: 'Pending' });

    meta.emulator.state.removeTemplate('follow_up', 'en');
    meta.emulator.state.upsertTemplate({ ...EXTRA[1]!, approvalStatus: 'APPROVED' });
    const second = await rig.sync();
    expect(second.summary).toMatchObject({ fetched: 7, updated: 1, unchanged: 6, removed: 1 });
    const rows = await rig.templates();
    expect(rows.get('follow_up/en')?.removedUpstreamAt).toBeInstanceOf(Date);
    expect(rows.get('spring_sale/en')).toMatchObject({ approvalStatus: 'Approved', removedUpstreamAt: null });
  });

  it('syncs every Infobip sender’s templates the same way', async () => {
    const rig = await deployment('infobip', () =>
      createInfobipTemplateSource({
        baseUrl: infobip.url,
        getApiKey: () => TEST_INFOBIP_API_KEY,
        timeoutMs: 10_000,
        senders: [`+${SENDER}`],
      }),
    );
    const first = await rig.sync();
    expect(first.summary).toMatchObject({ status: 'completed', fetched: 8, created: 8, errorCount: 0 });
    expect(first.run).toMatchObject({ provider: 'infobip' });
    expect((await rig.templates()).get('order_update/en_US')).toMatchObject({
      provider: 'infobip',
      source: 'infobip',
      qualityScore: 'YELLOW',
      buttons: JSON.stringify([{ type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' }]),
    });

    infobip.emulator.state.upsertTemplate({ ...EXTRA[0]!, approvalStatus: 'PAUSED' });
    const second = await rig.sync();
    expect(second.summary).toMatchObject({ fetched: 8, updated: 1, unchanged: 7, removed: 0 });
    // Infobip lists the first pause as FIRST_PAUSED: stored as Paused, which is not sendable.
    expect((await rig.templates()).get('order_update/en_US')).toMatchObject({ approvalStatus: 'Paused' });
  });
});
