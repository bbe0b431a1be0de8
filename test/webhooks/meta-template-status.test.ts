import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { Db } from '../../src/db/client';
import {
  createLead,
  createTemplateSyncRun,
  getTemplateByNameLanguage,
  listMessages,
  listWebhookEvents,
} from '../../src/db/queries';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { META_EMULATOR_WABA_ID } from '../../src/emulators/meta';
import { createSendActivities, PERMANENT_SEND_ERROR, TEMPLATE_NOT_USABLE } from '../../src/messages/send';
import { createMetaProvider } from '../../src/providers/meta';
import { createMetaTemplateSource } from '../../src/providers/meta-templates';
import { createTemplateSyncActivities } from '../../src/templates/activities';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';

const APP_SECRET = 'template-status-app-secret';
const ORDER_UPDATE: EmulatorTemplate = { name: 'order_update', language: 'en_US', body: 'Hi {{1}}, it shipped.' };

/**
 * Meta's template webhooks through the real app, the templates first synced from the Meta
 * emulator: a paused or disabled template stops being sent at once (the next step fails as
 * template_not_usable and never reaches Meta), a reinstated one is sent again, and a quality
 * change is kept. The emulator posts the WhatsApp Business Account webhooks as Meta documents them.
 */
describe('Meta template status and quality webhooks', () => {
  let db: Db;
  let pipeline: WebhookPipeline;
  let api: RunningApp;
  let meta: StartedMetaEmulator;
  let step = 0;

  beforeAll(async () => {
    db = await createTestDb();
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    api = await listen(
      createApp({
        db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
        taskQueue: 'template-status',
        sendTaskQueue: 'template-status-sends-meta',
        defaultCountry: 'IN',
        metaAppSecret: APP_SECRET,
        metaVerifyToken: 'verify',
        messagingProvider: 'meta',
        log: silentLogger(),
        webhookPipeline: pipeline,
      }),
    );
    meta = await startMetaEmulator({
      appSecret: APP_SECRET,
      webhookUrl: `${api.url}/webhooks/meta`,
      autoWebhooks: false,
      templates: [ORDER_UPDATE],
    });
    // Message Master as the hourly sync leaves it.
    const graph = {
      graphBaseUrl: meta.url,
      apiVersion: 'v21.0',
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 10_000,
    };
    const sync = createTemplateSyncActivities({
      db,
      provider: 'meta',
      getTemplateSource: () => createMetaTemplateSource({ ...graph, wabaId: META_EMULATOR_WABA_ID }),
    });
    const run = await createTemplateSyncRun(db, { provider: 'meta', trigger: 'api' });
    await new MockActivityEnvironment().run(sync.syncProviderTemplates, { runId: run.id });
  });
  afterAll(async () => {
    await meta?.close();
    await api?.close();
    await pipeline?.close();
    await db?.close();
  });

  const template = () => getTemplateByNameLanguage(db, 'order_update', 'en_US');

  async function sendStep() {
    step += 1;
    const lead = await createLead(db, { name: 'Asha Rao', phone: `+9198765${String(20_000 + step)}` });
    const activities = createSendActivities({
      db,
      provider: createMetaProvider({
        graphBaseUrl: meta.url,
        apiVersion: 'v21.0',
        phoneNumberId: '100000000000001',
        getAccessToken: () => 'test-meta-token',
        timeoutMs: 10_000,
      }),
      reconcileWindowMs: 60_000,
      configRetryDelayMs: 1_000,
    });
    return activities
      .sendDripStep({
        assignmentId: step,
        workflowId: `drip-${step}`,
        leadId: lead.id,
        stepIndex: 0,
        step: {
          templateName: 'order_update',
          templateLanguage: 'en_US',
          delaySeconds: 0,
          variables: { body: [{ field: 'firstName' }] },
        },
      })
      .catch((error: unknown) => error);
  }

  it('stops sending a template Meta paused, at once, and sends it again once it is approved', async () => {
    expect(await sendStep()).toMatchObject({ kind: 'sent' });
    expect(meta.emulator.state.acceptedMessages()).toHaveLength(1);

    const paused = await meta.emulator.state.reviewTemplate('order_update', 'en_US', { event: 'PAUSED' });
    expect(paused.responseStatus).toBe(200);
    // Meta's example writes the language with a hyphen; the template is found by its id anyway.
    expect(JSON.parse(paused.rawBody).entry[0].changes[0]).toMatchObject({
      field: 'message_template_status_update',
      value: { event: 'PAUSED', message_template_language: 'en-US' },
    });
    expect(await template()).toMatchObject({ approvalStatus: 'Paused' });

    const refused = await sendStep();
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: PERMANENT_SEND_ERROR, nonRetryable: true });
    const [failed] = (await listMessages(db, { referenceId: String(step), page: 1, pageSize: 5 })).items;
    expect(failed).toMatchObject({ status: 'failed', errorCode: TEMPLATE_NOT_USABLE });
    expect(meta.emulator.state.acceptedMessages()).toHaveLength(1);

    await meta.emulator.state.reviewTemplate('order_update', 'en_US', { event: 'APPROVED' });
    expect(await template()).toMatchObject({ approvalStatus: 'Approved' });
    expect(await sendStep()).toMatchObject({ kind: 'sent' });
    expect(meta.emulator.state.acceptedMessages()).toHaveLength(2);
  });

  it('records a rejection with its reason, a disabling, and a quality change; a redelivery changes nothing', async () => {
    await meta.emulator.state.reviewTemplate('order_update', 'en_US', { event: 'REJECTED', reason: 'PROMOTIONAL' });
    expect(await template()).toMatchObject({ approvalStatus: 'Rejected', rejectionReason: 'PROMOTIONAL' });
    await meta.emulator.state.reviewTemplate('order_update', 'en_US', { event: 'DISABLED' });
    expect(await template()).toMatchObject({ approvalStatus: 'Disabled', rejectionReason: null });

    const rated = await meta.emulator.state.rateTemplate('order_update', 'en_US', 'RED');
    expect(rated.responseStatus).toBe(200);
    expect(await template()).toMatchObject({ qualityScore: 'RED', approvalStatus: 'Disabled' });

    const events = async () =>
      (await listWebhookEvents(db, { provider: 'meta', page: 1, pageSize: 100 })).items.filter((event) =>
        event.eventType.startsWith('template_'),
      );
    const before = await events();
    const again = await fetch(`${api.url}/webhooks/meta`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': rated.signature! },
      body: rated.rawBody,
    });
    expect(await again.json()).toEqual({ received: true, statuses: 0, inbound: 0, templates: 1 });
    expect(await events()).toHaveLength(before.length);
    expect(before.map((event) => [event.eventType, event.outcome])).toEqual(
      expect.arrayContaining([
        ['template_paused', 'applied'],
        ['template_rejected', 'applied'],
        ['template_quality', 'applied'],
      ]),
    );
  });

  it('records a webhook about a template Message Master does not have, for the next sync to bring', async () => {
    meta.emulator.state.upsertTemplate({ name: 'brand_new', language: 'en', body: 'Hello' });
    const delivery = await meta.emulator.state.reviewTemplate('brand_new', 'en', { event: 'APPROVED' });
    expect(delivery.responseStatus).toBe(200);
    const { items } = await listWebhookEvents(db, { provider: 'meta', page: 1, pageSize: 100 });
    expect(items.find((event) => event.payload.includes('brand_new'))).toMatchObject({
      eventType: 'template_approved',
      outcome: 'unknown_template',
    });
    expect(await getTemplateByNameLanguage(db, 'brand_new', 'en')).toBeUndefined();
  });
});
