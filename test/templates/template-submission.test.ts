import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, getTemplate } from '../../src/db/queries';
import { META_EMULATOR_WABA_ID } from '../../src/emulators/meta';
import { createMetaTemplateClient } from '../../src/providers/meta-templates';
import type { TemplateSubmissionResult } from '../../src/templates/contract';
import { createTemplateSubmissionActivities } from '../../src/worker/activities';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';
import { waitFor } from '../support/drip-harness';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { bundleWorkflows, createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';

const APP_SECRET = 'submission-app-secret';

/** A description as POST /cta/template-json takes it. */
const describeTemplate = (name: string) => ({
  name,
  language: 'en',
  category: 'UTILITY',
  body: { text: 'Hi {{1}}, your visit is at {{2}}.', examples: ['Asha', '5 pm'] },
  footer: 'Bop Realty',
  buttons: [{ type: 'QUICK_REPLY', text: 'Confirm' }],
});

/**
 * A template built by the template JSON builder, submitted to Meta for review through the API and
 * followed by `template-submission-<id>` until Meta decides: the Meta emulator reviews it and posts
 * the status webhook, which the API applies and passes on to the workflow.
 */
describe('submitting a template to Meta for review', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let meta: StartedMetaEmulator;
  let api: RunningApp;
  let pipeline: WebhookPipeline;
  let worker: Worker;
  let workerRun: Promise<void>;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('template-submission');

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    db = await createTestDb();
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    const app = (messagingProvider: 'meta' | 'interakt') =>
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: `${taskQueue}-sends-meta`,
        defaultCountry: 'IN',
        metaAppSecret: APP_SECRET,
        metaVerifyToken: 'verify',
        messagingProvider,
        log: silentLogger(),
        webhookPipeline: pipeline,
      });
    api = await listen(app('meta'));
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
    meta = await startMetaEmulator({
      appSecret: APP_SECRET,
      webhookUrl: `${api.url}/webhooks/meta`,
      autoWebhooks: false,
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities: createTemplateSubmissionActivities({
        db,
        getMetaTemplateClient: () =>
          createMetaTemplateClient({
            graphBaseUrl: meta.url,
            apiVersion: 'v21.0',
            wabaId: META_EMULATOR_WABA_ID,
            getAccessToken: () => 'test-meta-token',
            timeoutMs: 10_000,
          }),
      }),
    });
    workerRun = worker.run();
    // The same API on a deployment that sends through Interakt: nothing there reviews templates.
    const interakt = await listen(app('interakt'));
    const refused = await apiClient(interakt.url, key)('POST', '/templates/submissions', describeTemplate('x_y'));
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'submission_unsupported' } } });
    await interakt.close();
  });
  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await meta?.close();
    await api?.close();
    await pipeline?.close();
    await env?.teardown();
    await db?.close();
  });

  /** Submitted: Meta has it pending and Message Master holds its id. */
  async function submit(name: string) {
    const response = await request('POST', '/templates/submissions', describeTemplate(name));
    expect(response.status).toBe(202);
    const { templateId, workflowId } = response.body as { templateId: number; workflowId: string };
    await waitFor(async () => Boolean((await getTemplate(db, templateId))?.providerTemplateId), 'submitted to Meta');
    return { templateId, workflowId, handle: env.client.workflow.getHandle(workflowId) };
  }

  it('submits the built JSON, and ends when Meta approves it: the webhook applies the approval and wakes the workflow', async () => {
    const { templateId, workflowId, handle } = await submit('visit_reminder');
    const [submitted] = meta.emulator.state.templates().filter((template) => template.name === 'visit_reminder');
    expect(submitted).toMatchObject({ language: 'en', category: 'UTILITY', approvalStatus: 'PENDING' });
    expect(await getTemplate(db, templateId)).toMatchObject({
      approvalStatus: 'Pending',
      provider: 'meta',
      source: 'meta',
      providerTemplateId: submitted!.waTemplateId,
      body: 'Hi {{1}}, your visit is at {{2}}.',
      buttons: [{ type: 'QUICK_REPLY', text: 'Confirm' }],
    });
    const tracking = await request('GET', `/templates/submissions/${templateId}`);
    expect(tracking.body).toMatchObject({ workflowId, approvalStatus: 'Pending', tracking: 'running' });

    await meta.emulator.state.reviewTemplate('visit_reminder', 'en', { event: 'APPROVED' });
    // The webhook's signal, not a poll, is what the workflow wakes on.
    await waitFor(async () => {
      const { events } = await handle.fetchHistory();
      return (events ?? []).some(
        (event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'templateReviewed',
      );
    }, 'the templateReviewed signal');
    const result = (await handle.result()) as TemplateSubmissionResult;
    expect(result).toEqual({
      templateId,
      providerTemplateId: submitted!.waTemplateId,
      approvalStatus: 'Approved',
      decided: true,
    });
    expect(await getTemplate(db, templateId)).toMatchObject({ approvalStatus: 'Approved' });
    expect((await request('GET', `/templates/submissions/${templateId}`)).body).toMatchObject({
      tracking: 'completed',
    });
  });

  it('ends at a rejection, keeping Meta’s reason', async () => {
    const { templateId, handle } = await submit('visit_reminder_two');
    await meta.emulator.state.reviewTemplate('visit_reminder_two', 'en', { event: 'REJECTED', reason: 'PROMOTIONAL' });
    expect(await handle.result()).toMatchObject({ approvalStatus: 'Rejected', decided: true });
    expect(await getTemplate(db, templateId)).toMatchObject({
      approvalStatus: 'Rejected',
      rejectionReason: 'PROMOTIONAL',
    });
  });

  it('adopts the template Meta already has under that name and language instead of creating it twice', async () => {
    meta.emulator.state.upsertTemplate({
      name: 'visit_reminder_three',
      language: 'en',
      body: 'Hi {{1}}',
      approvalStatus: 'PENDING',
    });
    const created = meta.emulator.state.templates().find((template) => template.name === 'visit_reminder_three')!;
    const { templateId } = await submit('visit_reminder_three');
    expect(await getTemplate(db, templateId)).toMatchObject({ providerTemplateId: created.waTemplateId });
    expect(meta.emulator.state.requests().filter((entry) => entry.method === 'POST')).toHaveLength(2);
  });

  it('refuses a description that breaks WhatsApp’s rules (400 naming every field) and a name already taken (409), storing nothing', async () => {
    const bad = await request('POST', '/templates/submissions', {
      ...describeTemplate('Visit Reminder'),
      body: { text: 'Hi {{1}} {{3}}', examples: [] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(bad.body)).toContain('name');
    const again = await request('POST', '/templates/submissions', describeTemplate('visit_reminder'));
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'template_exists' } } });
  });
});
