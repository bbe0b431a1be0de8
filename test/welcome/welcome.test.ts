/**
 * Welcome on create, on the Temporal dev server: POST /leads starts `welcome-<leadId>`, which sends
 * the configured template (document header, file name, {{1}} = name) through the emulator once.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api/auth';
import { startWelcomeWorkflow } from '../../src/welcome/start';
import type { Db } from '../../src/db/client';
import { createApiKey, createLead, createTemplate, listMessages } from '../../src/db/queries';
import { readInteraktOptions } from '../../src/settings/provider-settings';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { sendTaskQueue } from '../../src/shared';
import { welcomeWorkflowId } from '../../src/welcome/contract';
import type { welcomeWorkflow } from '../../src/welcome/workflow';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createAppWithSettings } from '../support/settings-app';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const POLICIES_PDF = 'https://example.com/Ipshopy_Policies.pdf';

describe('welcome on create', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('welcome');
  const deps = () => ({
    temporal: env.client,
    taskQueue,
    sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
    log: silentLogger(),
  });

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    api = await listen(
      createAppWithSettings({
        db,
        ...deps(),
        defaultCountry: 'IN',
        secretBox: createSecretBox(generateSecretKey()),
        log: silentLogger(),
      }),
    );
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      reconcileWindowMs: 1_000,
    });
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
    const settings = await request('PUT', '/settings/interakt', {
      welcomeOnCreate: true,
      welcomeTemplateName: 'seller_registration',
      welcomeTemplateLanguage: 'en',
      welcomeHeaderMediaUrl: POLICIES_PDF,
      welcomeFileName: 'Ipshopy_Policies.pdf',
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const acceptedFor = (phone: string) => harness.accepted().filter((message) => message.phone === phone);
  const requestsFor = (phone: string) =>
    harness.emulator.emulator.state
      .requests()
      .filter((entry) => (entry.body as { phoneNumber?: string } | null)?.phoneNumber === phone.slice(3));

  it('sends the welcome template once with the document header and file name, even when the workflow is started again', async () => {
    const phone = nextPhone();
    const created = await request('POST', '/leads', { name: 'Asha Rao', phone });
    expect(created.status).toBe(201);
    const leadId = created.body.id as number;
    expect(created.body.welcome).toEqual({ workflowId: `welcome-${leadId}`, status: 'started' });

    const first = await env.client.workflow.getHandle(welcomeWorkflowId(leadId)).result();
    expect(first).toMatchObject({ kind: 'sent' });

    // A retried start: refused while a run exists, and a fresh run after it finds the send done.
    const options = await readInteraktOptions(db);
    const again = await startWelcomeWorkflow(
      deps(),
      { id: leadId },
      { ...options, welcomeTemplateName: 'seller_registration' },
    );
    expect(['started', 'already_started']).toContain(again.status);
    const second = await env.client.workflow.getHandle<typeof welcomeWorkflow>(welcomeWorkflowId(leadId)).result();
    expect(second).toEqual(first);

    expect(acceptedFor(phone)).toEqual([
      expect.objectContaining({
        template: { name: 'seller_registration', languageCode: 'en' },
        headerValues: [POLICIES_PDF],
        fileName: 'Ipshopy_Policies.pdf',
        bodyValues: ['Asha Rao'],
        callbackData: `welcome-${leadId}:0`,
      }),
    ]);
    const log = await listMessages(db, { page: 1, pageSize: 10, leadId });
    expect(
      log.items.map(({ referenceType, idempotencyKey, status }) => ({ referenceType, idempotencyKey, status })),
    ).toEqual([{ referenceType: 'welcome', idempotencyKey: `welcome-${leadId}:0`, status: 'sent' }]);

    const found = await waitFor(async () => {
      const runs: string[] = [];
      for await (const run of env.client.workflow.list({ query: `LeadId = ${leadId} AND FlowKind = 'welcome'` }))
        runs.push(run.workflowId);
      return runs.length > 0 ? runs : null;
    }, 'visibility to index the welcome run');
    expect(new Set(found)).toEqual(new Set([`welcome-${leadId}`]));
  });

  it('answers 201 while the provider is still holding the send', async () => {
    const phone = nextPhone();
    harness.emulator.emulator.state.injectFault({ kind: 'timeout', ms: 10_000, match: { phone } });

    const created = await request('POST', '/leads', { name: 'Ravi Kumar', phone });

    expect(created.status).toBe(201);
    // At the moment the 201 arrived, the emulator had answered nothing for this lead...
    expect(requestsFor(phone).filter((entry) => entry.responseStatus !== null)).toEqual([]);
    // ...and the send it was holding shows up afterwards, still unanswered.
    await waitFor(() => requestsFor(phone).length > 0, 'the held send to reach the emulator');
    expect(requestsFor(phone)[0]!.responseStatus).toBeNull();

    // The provider timed out with the outcome unknown; after reconciling, the welcome goes out once.
    await waitFor(() => acceptedFor(phone).length === 1, 'the welcome to be accepted after the timeout', 30_000);
    await env.client.workflow.getHandle(welcomeWorkflowId(created.body.id)).result();
    expect(acceptedFor(phone)).toHaveLength(1);
  });

  it('starts no welcome for a lead created opted out, and the send skips a lead who opted out since', async () => {
    const optedOut = await request('POST', '/leads', { name: 'No Thanks', phone: nextPhone(), optedOut: true });
    expect(optedOut.status).toBe(201);
    expect(optedOut.body).not.toHaveProperty('welcome');

    const phone = nextPhone();
    const lead = await request('POST', '/leads', { name: 'Later Out', phone });
    await env.client.workflow.getHandle(welcomeWorkflowId(lead.body.id)).result();
    expect(acceptedFor(phone)).toHaveLength(1);
    await request('PATCH', `/leads/${lead.body.id}`, { optedOut: true });
    // A welcome run for the same lead after opt-out sends nothing more.
    const handle = await env.client.workflow.start<typeof welcomeWorkflow>('welcomeWorkflow', {
      taskQueue,
      workflowId: `welcome-again-${lead.body.id}`,
      args: [
        {
          leadId: lead.body.id,
          templateName: 'seller_registration',
          templateLanguage: 'en',
          sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        },
      ],
    });
    expect(await handle.result()).toEqual({ kind: 'skipped', reason: 'opted_out' });
    expect(acceptedFor(phone)).toHaveLength(1);
  });

  it('fails a welcome whose template is not approved in Message Master, on record, and sends nothing', async () => {
    const phone = nextPhone();
    const lead = await createLead(db, { name: 'Meera Iyer', phone });
    await createTemplate(db, { name: 'welcome_pending', language: 'en', body: 'Hi {{1}}', approvalStatus: 'Pending' });

    const handle = await env.client.workflow.start<typeof welcomeWorkflow>('welcomeWorkflow', {
      taskQueue,
      workflowId: `welcome-pending-${lead.id}`,
      args: [
        {
          leadId: lead.id,
          templateName: 'welcome_pending',
          templateLanguage: 'en',
          sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        },
      ],
    });

    await expect(handle.result()).rejects.toThrow();
    expect(acceptedFor(phone)).toHaveLength(0);
    const log = await listMessages(db, { page: 1, pageSize: 10, leadId: lead.id });
    expect(log.items).toEqual([
      expect.objectContaining({ referenceType: 'welcome', status: 'failed', errorCode: 'template_not_usable' }),
    ]);
  });
});
