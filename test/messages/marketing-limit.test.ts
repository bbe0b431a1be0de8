/**
 * Meta's 131049 (the user has had enough marketing for now), answered by the Meta emulator to the
 * real send activity: retried after the account's `marketingLimitRetryMinutes`, or, when that is
 * off, failed at once with the code for a retry from the API, under the same key.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { campaignSendKey, campaignWorkflowId } from '../../src/campaigns/contract';
import { dripWorkflowId } from '../../src/drips/contract';
import { createActivities } from '../../src/worker/activities';
import { createWorkers, runWorkers } from '../../src/worker/workers';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { createApiKey, createLead, getMessageByKey } from '../../src/db/queries';
import { writeDeliverySettings } from '../../src/delivery/settings';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { META_EMULATOR_PHONE_NUMBER_ID } from '../../src/emulators/meta';
import { createSendActivities } from '../../src/messages/send';
import { createMetaProvider } from '../../src/providers/meta';
import { sendIdempotencyKey, sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { nextPhone } from '../support/drip-harness';
import { silentLogger } from '../support/logs';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { seedTemplates } from '../support/templates';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';

const OFFER: EmulatorTemplate = { name: 'spring_offer', language: 'en', body: 'Hi {{1}}, 20% off this week.' };
const MINUTE_MS = 60_000;

describe('a send Meta holds back with 131049', () => {
  let db: Db;
  let meta: StartedMetaEmulator;
  let assignment = 0;

  beforeAll(async () => {
    db = await createTestDb();
    await seedTemplates(db, [OFFER]);
    meta = await startMetaEmulator({ templates: [OFFER], autoWebhooks: false });
  });
  afterAll(async () => {
    await meta?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await writeDeliverySettings(db, { marketingLimitRetryMinutes: 360 });
  });

  const provider = () =>
    createMetaProvider({
      graphBaseUrl: meta.url,
      apiVersion: 'v21.0',
      phoneNumberId: META_EMULATOR_PHONE_NUMBER_ID,
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 5_000,
    });

  /** One drip step to a new lead; returns the step's key and how the send ended. */
  async function sendStep(phone = `+9198765${String(20_000 + ++assignment)}`) {
    const lead = await createLead(db, { name: 'Asha Rao', phone });
    const workflowId = `drip-${900_000 + assignment}`;
    const activities = createSendActivities({
      db,
      provider: provider(),
      reconcileWindowMs: 60_000,
      configRetryDelayMs: 1_000,
    });
    const send = () =>
      activities.sendDripStep({
        assignmentId: 900_000 + assignment,
        workflowId,
        leadId: lead.id,
        stepIndex: 0,
        step: {
          templateName: OFFER.name,
          templateLanguage: 'en',
          delaySeconds: 0,
          variables: { body: [{ field: 'name' }] },
        },
      });
    return { key: sendIdempotencyKey(workflowId, 0), phone: lead.phone, send };
  }

  const failureOf = async (promise: Promise<unknown>): Promise<ApplicationFailure> => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  };

  const acceptedFor = (phone: string) => meta.emulator.state.acceptedMessages().filter((m) => m.phone === phone);

  it('is retried after the default 6 hours, its message log row back to pending', async () => {
    const step = await sendStep();
    meta.emulator.state.injectFault({ kind: 'graph_error', code: 131049, match: { phone: step.phone } });
    const failure = await failureOf(step.send());

    expect(failure).toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
      nextRetryDelay: 360 * MINUTE_MS,
    });
    expect(failure.details).toEqual([{ code: 'meta_131049' }]);
    expect((await getMessageByKey(db, step.key))?.status).toBe('pending');
    expect(acceptedFor(step.phone)).toHaveLength(0);
  });

  it('is retried after the configured delay, and the retry sends it once under the same key', async () => {
    await writeDeliverySettings(db, { marketingLimitRetryMinutes: 90 });
    const step = await sendStep();
    meta.emulator.state.injectFault({ kind: 'graph_error', code: 131049, match: { phone: step.phone } });
    expect(await failureOf(step.send())).toMatchObject({ nonRetryable: false, nextRetryDelay: 90 * MINUTE_MS });

    // What Temporal's retry does after the delay: the same activity call.
    expect(await step.send()).toMatchObject({ kind: 'sent' });
    expect(acceptedFor(step.phone).map((message) => message.callbackData)).toEqual([step.key]);
  });

  it('fails at once with code meta_131049 when automatic retry is off; the same key sends on a later retry', async () => {
    await writeDeliverySettings(db, { marketingLimitRetryMinutes: null });
    const step = await sendStep();
    meta.emulator.state.injectFault({ kind: 'graph_error', code: 131049, match: { phone: step.phone } });
    const failure = await failureOf(step.send());

    expect(failure).toMatchObject({ type: 'meta_131049', nonRetryable: true });
    expect(failure.message).toContain('131049');
    expect(failure.message).toContain('not retried automatically');
    // Not sent, not refused for good: a retry from the API (same key) may send it.
    expect((await getMessageByKey(db, step.key))?.status).toBe('pending');
    expect(await step.send()).toMatchObject({ kind: 'sent' });
    expect(acceptedFor(step.phone)).toHaveLength(1);
  });

  it('leaves other retryable errors to the provider’s own delay whatever the setting', async () => {
    await writeDeliverySettings(db, { marketingLimitRetryMinutes: null });
    const step = await sendStep();
    meta.emulator.state.injectFault({
      kind: 'graph_error',
      code: 130429,
      retryAfterSeconds: 3,
      match: { phone: step.phone },
    });
    expect(await failureOf(step.send())).toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
      nextRetryDelay: 3_000,
    });
  });
});

/**
 * The same, end to end with automatic retry off: a drip and a campaign sending through Meta on the
 * Temporal dev server, the failure recorded with its code, and each retried from the API.
 */
describe('131049 with automatic retry off, retried from the API', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let meta: StartedMetaEmulator;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  let workers: Worker[];
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('marketing-limit');

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    await seedTemplates(db, [OFFER]);
    meta = await startMetaEmulator({ templates: [OFFER], autoWebhooks: false });
    const provider = createMetaProvider({
      graphBaseUrl: meta.url,
      apiVersion: 'v21.0',
      phoneNumberId: META_EMULATOR_PHONE_NUMBER_ID,
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 5_000,
    });
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: createActivities({
        db,
        provider,
        reconcileWindowMs: 1_000,
        configRetryDelayMs: 1_000,
        log: silentLogger(),
      }),
      provider: 'meta',
      sendsPerSecond: 200,
      workflowBundle: await bundleWorkflows(),
    });
    running = runWorkers(workers);
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'meta'),
        messagingProvider: 'meta',
        defaultCountry: 'IN',
        log: silentLogger(),
      }),
    );
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
    const settings = await request('PUT', '/settings/delivery', { marketingLimitRetryMinutes: null });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    expect(settings.body.marketingLimitRetryMinutes).toBeNull();
  });

  afterAll(async () => {
    for (const worker of workers ?? []) if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await api?.close();
    await meta?.close();
    await env?.teardown();
    await db?.close();
  });

  const createLeadFor = async () => {
    const response = await request('POST', '/leads', { name: 'Asha Rao', phone: nextPhone() });
    expect(response.status).toBe(201);
    return response.body as { id: number; phone: string };
  };
  const acceptedFor = (phone: string) => meta.emulator.state.acceptedMessages().filter((m) => m.phone === phone);
  const holdBack = (phone: string) =>
    meta.emulator.state.injectFault({ kind: 'graph_error', code: 131049, match: { phone } });

  it('fails the drip step with the code at once, and POST /assignments/:id/retry sends it once', async () => {
    const lead = await createLeadFor();
    const sequence = await request('POST', '/sequences', {
      name: `marketing-limit-${Math.random()}`,
      steps: [
        { templateName: OFFER.name, templateLanguage: 'en', delaySeconds: 0, variables: { body: [{ field: 'name' }] } },
      ],
    });
    expect(sequence.status, JSON.stringify(sequence.body)).toBe(201);
    holdBack(lead.phone);
    const enrolled = await request('POST', `/sequences/${sequence.body.id}/assignments`, { leadIds: [lead.id] });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    const assignmentId = enrolled.body.assignments[0].assignmentId as number;
    const handle = env.client.workflow.getHandle(dripWorkflowId(assignmentId));

    expect((await handle.result()).status).toBe('failed');
    const failed = await request('GET', `/assignments/${assignmentId}`);
    expect(failed.body).toMatchObject({ status: 'failed', lastError: expect.stringContaining('131049') });
    expect(acceptedFor(lead.phone)).toHaveLength(0);

    const retry = await request('POST', `/assignments/${assignmentId}/retry`);
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    expect((await env.client.workflow.getHandle(dripWorkflowId(assignmentId)).result()).status).toBe('completed');
    expect(acceptedFor(lead.phone).map((message) => message.callbackData)).toEqual([
      sendIdempotencyKey(dripWorkflowId(assignmentId), 0),
    ]);
  });

  it('fails the campaign recipient with meta_131049, and the campaign retry sends to them once', async () => {
    const [held, other] = [await createLeadFor(), await createLeadFor()];
    const created = await request('POST', '/campaigns', {
      name: `marketing-limit-${Math.random()}`,
      templateName: OFFER.name,
      variables: { body: [{ field: 'name' }] },
      audience: { leadIds: [held.id, other.id] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const campaignId = created.body.id as number;
    holdBack(held.phone);
    expect((await request('POST', `/campaigns/${campaignId}/start`, {})).status).toBe(202);
    await env.client.workflow.getHandle(campaignWorkflowId(campaignId)).result();

    const recipients = async () =>
      ((await request('GET', `/campaigns/${campaignId}/recipients`)).body.items as Record<string, unknown>[]).map(
        ({ leadId, status, errorCode, failureKind }) => ({ leadId, status, errorCode, failureKind }),
      );
    expect(await recipients()).toEqual(
      expect.arrayContaining([
        { leadId: held.id, status: 'failed', errorCode: 'meta_131049', failureKind: 'transient' },
        { leadId: other.id, status: 'sent', errorCode: null, failureKind: null },
      ]),
    );

    const retry = await request('POST', `/campaigns/${campaignId}/retry`);
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    expect(retry.body.requeued).toBe(1);
    await env.client.workflow.getHandle(campaignWorkflowId(campaignId)).result();
    expect(await recipients()).toEqual(
      expect.arrayContaining([expect.objectContaining({ leadId: held.id, status: 'sent' })]),
    );
    expect(acceptedFor(held.phone).map((message) => message.callbackData)).toEqual([
      campaignSendKey(campaignId, held.id),
    ]);
    expect(acceptedFor(other.phone)).toHaveLength(1);
  });
});
