import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MockActivityEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { count, gt } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { loadConfig, deploymentSenders } from '../../src/config';
import { ctaKeyringReader } from '../../src/cta/signing-keys';
import type { Db } from '../../src/db/client';
import { createApiKey, createLead, listCtaFlows, listMessages, listSequences } from '../../src/db/queries';
import { ctaEmulatorTemplates, DEFAULT_EMULATOR_TEMPLATES } from '../../src/emulators/interakt-templates';
import { createSendActivities } from '../../src/messages/send';
import { createSendLimit, senderKeyOf } from '../../src/messages/send-limit';
import { type ProviderError } from '../../src/providers/errors';
import { createInfobipProvider } from '../../src/providers/infobip';
import { createMetaProvider } from '../../src/providers/meta';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { senderSendQueue, sendTaskQueue } from '../../src/shared';
import { createActivities } from '../../src/worker/activities';
import { createWorkers, runWorkers, serverSendRate } from '../../src/worker/workers';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';
import { nextPhone, waitFor } from '../support/drip-harness';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY } from '../support/infobip-emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';

const DEFAULT_NUMBER = '100000000000001';
const SECOND_NUMBER = '100000000000002';
const APP_SECRET = 'senders-app-secret';
const SENDS_PER_SECOND = 7;

/**
 * Several WhatsApp numbers on one provider account, end to end on the Temporal dev server (its
 * task-queue rate limits are the production ones): a sequence or CTA flow names its sender, its
 * sends go from that number through that number's own rate-limited queue, the Meta emulator sees
 * them posted to that phone number id and posts their statuses under it, and the message log
 * records which number sent each message.
 */
describe('sender numbers', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let api: RunningApp;
  let meta: StartedMetaEmulator;
  let workers: Worker[];
  let running: Promise<void>;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('senders');
  const metaSendQueue = sendTaskQueue(taskQueue, 'meta');
  const box = createSecretBox(generateSecretKey());

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    const getCtaKeyring = ctaKeyringReader(db, box);
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: metaSendQueue,
        defaultCountry: 'IN',
        messagingProvider: 'meta',
        senders: { default: DEFAULT_NUMBER, others: [SECOND_NUMBER] },
        metaAppSecret: APP_SECRET,
        metaVerifyToken: 'verify',
        secretBox: box,
        getCtaKeyring,
        log: silentLogger(),
      }),
    );
    const templates = [...DEFAULT_EMULATOR_TEMPLATES, ...ctaEmulatorTemplates(api.url)];
    await seedTemplates(db, templates);
    meta = await startMetaEmulator({
      phoneNumberId: DEFAULT_NUMBER,
      extraPhoneNumberIds: [SECOND_NUMBER],
      appSecret: APP_SECRET,
      webhookUrl: `${api.url}/webhooks/meta`,
      templates: ctaEmulatorTemplates(api.url),
    });
    const provider = createMetaProvider({
      graphBaseUrl: meta.url,
      apiVersion: 'v21.0',
      phoneNumberId: DEFAULT_NUMBER,
      extraPhoneNumberIds: [SECOND_NUMBER],
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 5_000,
    });
    const deps = {
      db,
      provider,
      reconcileWindowMs: 3_000,
      configRetryDelayMs: 1_000,
      getCtaKeyring,
      temporal: env.client,
      log: silentLogger(),
      sendLimit: createSendLimit(db, { sendsPerSecond: SENDS_PER_SECOND }),
    };
    // Wired as src/worker/main.ts wires them: one more queue, with its own activities, per extra number.
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: createActivities(deps),
      provider: 'meta',
      sendsPerSecond: SENDS_PER_SECOND,
      senders: [{ sender: SECOND_NUMBER, activities: createActivities({ ...deps, sender: SECOND_NUMBER }) }],
      workflowBundle: await bundleWorkflows(),
    });
    running = runWorkers(workers);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    for (const worker of workers ?? []) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await meta?.close();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const steps = [
    { templateName: 'drip_day_1', templateLanguage: 'en', delaySeconds: 0, variables: { body: [{ field: 'name' }] } },
    { templateName: 'drip_day_2', templateLanguage: 'en', delaySeconds: 1, variables: { body: [{ field: 'name' }] } },
  ];

  async function assign(sequenceId: number) {
    const lead = await createLead(db, { name: 'Asha Rao', phone: nextPhone() });
    const response = await request('POST', `/sequences/${sequenceId}/assignments`, { leadIds: [lead.id] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return lead;
  }

  const logOf = async (leadId: number) =>
    (await request('GET', `/messages?leadId=${leadId}&order=asc`)).body.items as Array<{
      status: string;
      sender: string | null;
      templateName: string;
    }>;

  it('sends every step of a sequence that names a sender from that number, and logs the sender of each', async () => {
    const created = await request('POST', '/sequences', {
      name: 'From the second number',
      sender: SECOND_NUMBER,
      steps,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.sender).toBe(SECOND_NUMBER);
    const lead = await assign(created.body.id);

    // Both steps reach Meta at the second number's phone number id, and its webhooks (one change
    // under that number's metadata) move the rows on to delivered.
    const rows = await waitFor(async () => {
      const log = await logOf(lead.id);
      return log.length === 2 && log.every((row) => row.status === 'delivered' || row.status === 'read') ? log : null;
    }, 'both steps delivered');
    expect(rows.map((row) => row.sender)).toEqual([SECOND_NUMBER, SECOND_NUMBER]);
    const atMeta = meta.emulator.state.acceptedMessages().filter((message) => message.phone === lead.phone);
    expect(atMeta.map((message) => [message.template.name, message.phoneNumberId])).toEqual([
      ['drip_day_1', SECOND_NUMBER],
      ['drip_day_2', SECOND_NUMBER],
    ]);
  });

  it('sends a sequence without a sender from the default number, and logs that number', async () => {
    const created = await request('POST', '/sequences', { name: 'From the default number', steps: steps.slice(0, 1) });
    expect(created.status).toBe(201);
    expect(created.body.sender).toBeNull();
    const lead = await assign(created.body.id);
    const [row] = await waitFor(async () => {
      const log = await logOf(lead.id);
      return log[0]?.status === 'delivered' ? log : null;
    }, 'the step delivered');
    expect(row!.sender).toBe(DEFAULT_NUMBER);
    const atMeta = meta.emulator.state.acceptedMessages().filter((message) => message.phone === lead.phone);
    expect(atMeta.map((message) => message.phoneNumberId)).toEqual([DEFAULT_NUMBER]);
  });

  it("takes each number's sends from that number's own window of the provider limit", async () => {
    // The two tests above sent two steps from the second number and one from the default.
    const t = db.schema.sendWindowSlots;
    const used = await db.orm
      .select({ senderKey: t.senderKey, sends: count() })
      .from(t)
      .where(gt(t.claimedAtMs, 0))
      .groupBy(t.senderKey)
      .orderBy(t.senderKey);
    expect(used).toEqual([
      { senderKey: senderKeyOf('meta', DEFAULT_NUMBER), sends: 1 },
      { senderKey: senderKeyOf('meta', SECOND_NUMBER), sends: 2 },
    ]);
  });

  it('sends the interactive message of a CTA flow that names a sender from that number', async () => {
    const flow = await request('POST', '/cta/flows', {
      name: 'Palm Grove from the second number',
      templateName: 'project_update_template',
      projectName: 'Palm Grove Residences',
      brochureTemplateName: 'project_brochure',
      brochureUrl: 'https://example.com/palm-grove.pdf',
      sender: `+${SECOND_NUMBER}`,
      reminderAfterSeconds: 3600,
      closeAfterSeconds: 3600,
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    expect(flow.body.sender).toBe(SECOND_NUMBER);
    const lead = await createLead(db, { name: 'Ravi Kumar', phone: nextPhone() });
    const started = await request('POST', `/cta/flows/${flow.body.id}/start`, { leadIds: [lead.id] });
    expect(started.status, JSON.stringify(started.body)).toBe(201);

    const message = await waitFor(
      () => meta.emulator.state.acceptedMessages().find((accepted) => accepted.phone === lead.phone),
      'the interactive message at Meta',
    );
    expect(message).toMatchObject({ phoneNumberId: SECOND_NUMBER, template: { name: 'project_update_template' } });
    const [row] = await waitFor(async () => {
      const log = await logOf(lead.id);
      return log.length === 1 ? log : null;
    }, 'the log row');
    expect(row!.sender).toBe(SECOND_NUMBER);
    await env.client.workflow.getHandle(`cta-${lead.id}-${flow.body.id}`).terminate('test over');
  });

  it('refuses a sender the deployment does not have with 400 naming the field, and writes nothing', async () => {
    const before = await listSequences(db, { page: 1, pageSize: 500 });
    const refused = await request('POST', '/sequences', { name: 'Unknown number', sender: '100000000000009', steps });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      expect.objectContaining({ path: 'sender', message: expect.stringContaining("is not one of this deployment's") }),
    ]);
    const malformed = await request('POST', '/sequences', { name: 'Bad number', sender: 'abc', steps });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['sender']);
    const flow = await request('POST', '/cta/flows', {
      name: 'Unknown number flow',
      templateName: 'project_update_template',
      projectName: 'Palm Grove Residences',
      brochureTemplateName: 'project_brochure',
      brochureUrl: 'https://example.com/palm-grove.pdf',
      sender: '100000000000009',
    });
    expect(flow.status).toBe(400);
    expect(flow.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['sender']);
    expect((await listSequences(db, { page: 1, pageSize: 500 })).total).toBe(before.total);
    expect((await listCtaFlows(db)).map((saved) => saved.name)).not.toContain('Unknown number flow');

    // An edit naming an unknown number changes nothing; null goes back to the default number.
    const sequence = (await request('POST', '/sequences', { name: 'Edited', sender: SECOND_NUMBER, steps })).body;
    const edit = await request('PATCH', `/sequences/${sequence.id}`, { sender: '100000000000009' });
    expect(edit.status).toBe(400);
    expect((await request('GET', `/sequences/${sequence.id}`)).body.sender).toBe(SECOND_NUMBER);
    const reset = await request('PATCH', `/sequences/${sequence.id}`, { sender: null });
    expect(reset.status).toBe(200);
    expect(reset.body.sender).toBeNull();
  });

  it("gives each sender's send queue its own rate limit, set by its workers, as Meta limits each number", async () => {
    const { RATE_LIMIT_SOURCE_WORKER } = temporal.api.enums.v1.RateLimitSource;
    for (const queue of [metaSendQueue, senderSendQueue(metaSendQueue, SECOND_NUMBER)]) {
      const described = await waitFor(async () => {
        const response = await env.connection.workflowService.describeTaskQueue({
          namespace: env.namespace ?? 'default',
          taskQueue: { name: queue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
          reportConfig: true,
        });
        return response.effectiveRateLimit?.rateLimitSource === RATE_LIMIT_SOURCE_WORKER ? response : null;
      }, `the worker-set rate limit of ${queue}`);
      expect(described.effectiveRateLimit?.requestsPerSecond).toBeCloseTo(serverSendRate(SENDS_PER_SECOND));
      expect(described.pollers.length).toBeGreaterThan(0);
    }
  });
});

describe('Infobip senders', () => {
  const DEFAULT_SENDER = '447860099299';
  const SECOND_SENDER = '447860099300';

  it('sends from the sender named and logs it; the emulator refuses a sender the account has not registered', async () => {
    const db = await createTestDb();
    await seedTemplates(db);
    const infobip = await startInfobipEmulator({ whatsappSender: DEFAULT_SENDER, extraSenders: [SECOND_SENDER] });
    try {
      const account = { baseUrl: infobip.url, getApiKey: () => TEST_INFOBIP_API_KEY, timeoutMs: 5_000 };
      const provider = createInfobipProvider({
        ...account,
        whatsappSender: `+${DEFAULT_SENDER}`,
        extraSenders: [SECOND_SENDER],
      });
      const lead = await createLead(db, { name: 'Asha Rao', phone: nextPhone() });
      const activities = createSendActivities({
        db,
        provider,
        sender: SECOND_SENDER,
        reconcileWindowMs: 60_000,
        configRetryDelayMs: 1_000,
      });
      await new MockActivityEnvironment().run(activities.sendDripStep, {
        assignmentId: 1,
        workflowId: 'drip-1',
        leadId: lead.id,
        stepIndex: 0,
        step: {
          templateName: 'drip_day_1',
          templateLanguage: 'en',
          delaySeconds: 0,
          variables: { body: [{ field: 'name' as const }] },
        },
      });
      expect(infobip.emulator.state.acceptedMessages().map((accepted) => accepted.message.from)).toEqual([
        SECOND_SENDER,
      ]);
      const [row] = (await listMessages(db, { leadId: lead.id, page: 1, pageSize: 5 })).items;
      expect(row).toMatchObject({ status: 'sent', sender: SECOND_SENDER });

      // Our client refuses a number it was not given before calling Infobip...
      await expect(
        provider.sendTemplate({
          to: lead.phone,
          templateName: 'drip_day_1',
          languageCode: 'en',
          bodyValues: ['A'],
          sender: '447860099301',
        }),
      ).rejects.toMatchObject({ kind: 'config', code: 'unknown_sender' } satisfies Partial<ProviderError>);
      // ...and the emulator, as Infobip, refuses a sender the account has not registered.
      const raw = await fetch(`${infobip.url}/whatsapp/1/message/template`, {
        method: 'POST',
        headers: { authorization: `App ${TEST_INFOBIP_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          messages: [
            {
              from: '447860099301',
              to: lead.phone.slice(1),
              content: { templateName: 'drip_day_1', language: 'en', templateData: { body: { placeholders: ['A'] } } },
            },
          ],
        }),
      });
      expect(raw.status).toBe(400);
      expect(JSON.stringify(await raw.json())).toContain('is not a registered sender');
      // Each registered sender lists its templates; another is not found.
      for (const sender of [DEFAULT_SENDER, SECOND_SENDER]) {
        const listed = await fetch(`${infobip.url}/whatsapp/2/senders/${sender}/templates`, {
          headers: { authorization: `App ${TEST_INFOBIP_API_KEY}` },
        });
        expect(listed.status).toBe(200);
      }
      const unknown = await fetch(`${infobip.url}/whatsapp/2/senders/447860099301/templates`, {
        headers: { authorization: `App ${TEST_INFOBIP_API_KEY}` },
      });
      expect(unknown.status).toBe(404);
    } finally {
      await infobip.close();
      await db.close();
    }
  });
});

describe('deploymentSenders', () => {
  it('reads the default number and the others from the provider settings, without duplicates or a plus', () => {
    const base = { DATABASE_URL: 'file:data/x.db', DRIPLINE_SECRET_KEY: generateSecretKey() };
    const meta = loadConfig({
      ...base,
      MESSAGING_PROVIDER: 'meta',
      META_ACCESS_TOKEN: 't',
      META_PHONE_NUMBER_ID: DEFAULT_NUMBER,
      META_EXTRA_PHONE_NUMBER_IDS: ` ${SECOND_NUMBER}, ${DEFAULT_NUMBER},${SECOND_NUMBER} `,
    });
    expect(deploymentSenders(meta)).toEqual({ default: DEFAULT_NUMBER, others: [SECOND_NUMBER] });
    const infobip = loadConfig({
      ...base,
      MESSAGING_PROVIDER: 'infobip',
      INFOBIP_API_KEY: 'k',
      INFOBIP_WHATSAPP_SENDER: '+447860099299',
      INFOBIP_EXTRA_WHATSAPP_SENDERS: '+447860099300',
    });
    expect(deploymentSenders(infobip)).toEqual({ default: '447860099299', others: ['447860099300'] });
    expect(deploymentSenders(loadConfig(base))).toEqual({ default: null, others: [] });
    expect(() => loadConfig({ ...base, META_EXTRA_PHONE_NUMBER_IDS: '12,abc' })).toThrow(/META_EXTRA_PHONE_NUMBER_IDS/);
  });
});
