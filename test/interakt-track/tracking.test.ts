import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { ctaKeyringReader } from '../../src/cta/signing-keys';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { ctaEmulatorTemplates, DEFAULT_EMULATOR_TEMPLATES } from '../../src/emulators/interakt-templates';
import type { TrackedCall } from '../../src/emulators/interakt';
import { MILESTONE_EVENTS } from '../../src/interakt-track/contract';
import { interaktMilestoneSink } from '../../src/interakt-track/start';
import { createInteraktProvider } from '../../src/providers/interakt';
import { createInteraktTrackClient } from '../../src/providers/interakt-track';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { sendTaskQueue } from '../../src/shared';
import { createActivities } from '../../src/worker/activities';
import { createWorkers, runWorkers } from '../../src/worker/workers';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { nextPhone, waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { silentLogger } from '../support/logs';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';

const KEY = 'test-interakt-key';

/**
 * Mirroring leads to Interakt's Track APIs, end to end on the Temporal dev server: the admin
 * turns tracking on and maps traits over HTTP, leads are created and updated over HTTP, the
 * worker's activities call the Interakt emulator (as strict as the Track APIs), and drips and CTA
 * flows report their milestones as events. Counted at the emulator.
 */
describe('Interakt user and event tracking', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let api: RunningApp;
  let interakt: StartedInteraktEmulator;
  let workers: Worker[];
  let running: Promise<void>;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('interakt-track');
  const box = createSecretBox(generateSecretKey());
  const log = silentLogger();

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    const getCtaKeyring = ctaKeyringReader(db, box);
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        secretBox: box,
        getCtaKeyring,
        log,
      }),
    );
    interakt = await startInteraktEmulator({ apiKey: KEY, ctaBaseUrl: api.url });
    await seedTemplates(db, [...DEFAULT_EMULATOR_TEMPLATES, ...ctaEmulatorTemplates(api.url)]);
    const account = { baseUrl: interakt.baseUrl, getApiKey: () => KEY, timeoutMs: 5_000 };
    workers = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: createActivities({
        db,
        provider: createInteraktProvider(account),
        reconcileWindowMs: 3_000,
        configRetryDelayMs: 1_000,
        getCtaKeyring,
        temporal: env.client,
        log,
        getInteraktTrackClient: () => createInteraktTrackClient(account),
        milestones: interaktMilestoneSink({ db, temporal: env.client, taskQueue, log }),
      }),
      provider: 'interakt',
      sendsPerSecond: 50,
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
    await interakt?.close();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const tracked = (phone: string, kind?: TrackedCall['kind']): TrackedCall[] =>
    interakt.emulator.state.tracked().filter((call) => call.phone === phone && (!kind || call.kind === kind));

  async function settings(body: Record<string, unknown>) {
    const response = await request('PUT', '/settings/interakt', body);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  }

  async function createLead(extra: Record<string, unknown> = {}) {
    const response = await request('POST', '/leads', { name: 'Asha Rao', phone: nextPhone(), ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: number; phone: string };
  }

  it('refuses a trait mapped to something that is not a lead field with 400 naming it, and keeps the mapping', async () => {
    await settings({ trackingEnabled: false, trackedTraits: { Name: 'name' } });
    const refused = await request('PUT', '/settings/interakt', { trackedTraits: { Name: 'name', Secret: 'password' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues[0].path).toBe('trackedTraits.Secret');
    expect((await request('GET', '/settings/interakt')).body.trackedTraits).toEqual({ Name: 'name' });
  });

  it('sends nothing while tracking is off; once on, a created lead is mirrored with the mapped traits only', async () => {
    await settings({ trackingEnabled: false, trackedTraits: { Name: 'name', City: 'custom.city' } });
    const before = await createLead({ customFields: { city: 'Pune' } });

    const body = await settings({ trackingEnabled: true });
    expect(body).toMatchObject({ trackingEnabled: true, trackedTraits: { Name: 'name', City: 'custom.city' } });
    const lead = await createLead({ email: 'asha@example.com', customFields: { city: 'Pune', pan: 'ABCDE1234F' } });

    const [call] = await waitFor(
      () => (tracked(lead.phone, 'user').length > 0 ? tracked(lead.phone, 'user') : null),
      'the user call',
    );
    expect(call!.body).toEqual({
      userId: String(lead.id),
      countryCode: '+91',
      phoneNumber: lead.phone.slice(3),
      traits: { Name: 'Asha Rao', City: 'Pune' },
    });
    // The lead created while tracking was off was never started, so it never reaches Interakt.
    expect(tracked(before.phone)).toEqual([]);
  });

  it('mirrors an update that changes a mapped trait, and not one that changes none', async () => {
    await settings({ trackingEnabled: true, trackedTraits: { Name: 'name' } });
    const lead = await createLead();
    await waitFor(() => tracked(lead.phone, 'user').length === 1, 'the create mirrored');

    expect((await request('PATCH', `/leads/${lead.id}`, { status: 'Contacted' })).status).toBe(200);
    expect((await request('PATCH', `/leads/${lead.id}`, { name: 'Asha R. Rao' })).status).toBe(200);
    const calls = await waitFor(
      () =>
        tracked(lead.phone, 'user').some((call) => call.traits.Name === 'Asha R. Rao')
          ? tracked(lead.phone, 'user')
          : null,
      'the rename mirrored',
    );
    expect(calls.map((call) => call.traits)).toEqual([{ Name: 'Asha Rao' }, { Name: 'Asha R. Rao' }]);
  });

  it('never holds up the lead write: with Interakt refusing for a while, the lead is created and mirrored once Interakt recovers', async () => {
    await settings({ trackingEnabled: true, trackedTraits: { Name: 'name' } });
    const phone = nextPhone();
    interakt.emulator.state.injectFault({ kind: 'rate_limit', retryAfterSeconds: 1, times: 2, match: { phone } });
    const created = await request('POST', '/leads', { name: 'Ravi Kumar', phone });
    expect(created.status).toBe(201);

    await waitFor(() => tracked(phone, 'user').length === 1, 'the mirror after two 429s');
    const attempts = interakt.emulator.state
      .requests()
      .filter((entry) => entry.path.endsWith('/track/users/') && JSON.stringify(entry.body).includes(phone.slice(3)));
    expect(attempts.map((entry) => entry.responseStatus)).toEqual([429, 429, 202]);
  });

  it("sends a drip's milestones as events, once each", async () => {
    await settings({ trackingEnabled: true, trackedTraits: {} });
    const lead = await createLead();
    const sequence = await request('POST', '/sequences', {
      name: 'Tracked drip',
      steps: ['drip_day_1', 'drip_day_2'].map((templateName) => ({
        templateName,
        templateLanguage: 'en',
        delaySeconds: 0,
        variables: { body: [{ field: 'name' }] },
      })),
    });
    expect(sequence.status).toBe(201);
    expect((await request('POST', `/sequences/${sequence.body.id}/assignments`, { leadIds: [lead.id] })).status).toBe(
      201,
    );

    const events = await waitFor(() => {
      const calls = tracked(lead.phone, 'event');
      return calls.some((call) => call.event === MILESTONE_EVENTS.dripCompleted) && calls.length >= 4 ? calls : null;
    }, 'the drip milestones');
    expect(events.map((call) => [call.event, call.traits.step ?? null]).sort()).toEqual(
      [
        [MILESTONE_EVENTS.dripCompleted, null],
        [MILESTONE_EVENTS.dripStarted, null],
        [MILESTONE_EVENTS.dripStepSent, 1],
        [MILESTONE_EVENTS.dripStepSent, 2],
      ].sort(),
    );
    expect(events.every((call) => call.traits.sequenceId === sequence.body.id && call.userId === String(lead.id))).toBe(
      true,
    );
    // Tracking mapped no traits, so no user call was made for this lead.
    expect(tracked(lead.phone, 'user')).toEqual([]);
  });

  it("sends a campaign's message to each recipient as an event", async () => {
    await settings({ trackingEnabled: true, trackedTraits: {} });
    const [first, second] = [await createLead(), await createLead()];
    const created = await request('POST', '/campaigns', {
      name: 'Tracked campaign',
      templateName: 'drip_day_1',
      variables: { body: [{ field: 'name' }] },
      audience: { leadIds: [first.id, second.id] },
      start: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitFor(
      async () => (await request('GET', `/campaigns/${created.body.id}`)).body.status === 'completed',
      'the campaign',
    );

    for (const lead of [first, second]) {
      const events = await waitFor(() => {
        const calls = tracked(lead.phone, 'event');
        return calls.length > 0 ? calls : null;
      }, 'the campaign milestone');
      expect(events.map((call) => [call.event, call.userId, call.traits.campaignId])).toEqual([
        [MILESTONE_EVENTS.campaignSent, String(lead.id), created.body.id],
      ]);
    }
  });

  it("sends a CTA flow's message and its answer as events", async () => {
    await settings({ trackingEnabled: true, trackedTraits: {} });
    const flow = await request('POST', '/cta/flows', {
      name: 'Tracked flow',
      templateName: 'project_update_template',
      projectName: 'Palm Grove Residences',
      brochureTemplateName: 'project_brochure',
      brochureUrl: 'https://example.com/palm-grove.pdf',
      reminderAfterSeconds: 3600,
      closeAfterSeconds: 3600,
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const lead = await createLead();
    expect((await request('POST', `/cta/flows/${flow.body.id}/start`, { leadIds: [lead.id] })).status).toBe(201);
    const message = await waitFor(
      () => interakt.emulator.state.acceptedMessages().find((sent) => sent.phone === lead.phone),
      'the interactive message',
    );
    const suffix = message.buttonValues[String(0)]![0]!;
    const page = await fetch(`${api.url}/track/${suffix}`, {
      headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/129.0 Mobile Safari/537.36' },
    });
    expect(page.status).toBe(200);

    const events = await waitFor(() => {
      const calls = tracked(lead.phone, 'event');
      return calls.some((call) => call.event === MILESTONE_EVENTS.ctaAnswered) ? calls : null;
    }, 'the CTA milestones');
    expect(events.map((call) => call.event).sort()).toEqual([MILESTONE_EVENTS.ctaAnswered, MILESTONE_EVENTS.ctaSent]);
    expect(events.find((call) => call.event === MILESTONE_EVENTS.ctaAnswered)!.traits).toEqual({
      flow: 'Tracked flow',
      project: 'Palm Grove Residences',
      answer: 'interested',
    });
  });
});

describe('the Interakt emulator refuses what the Track APIs refuse', () => {
  let interakt: StartedInteraktEmulator;
  beforeAll(async () => {
    interakt = await startInteraktEmulator({ apiKey: KEY });
  });
  afterAll(async () => {
    await interakt?.close();
  });

  const post = (path: string, body: unknown, key = KEY) =>
    fetch(`${interakt.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it.each([
    ['/track/users/', { traits: { Name: 'A' } }, 'userId, or countryCode and phoneNumber'],
    ['/track/users/', { countryCode: '+91', phoneNumber: '09876543210' }, 'without a leading 0'],
    ['/track/users/', { countryCode: '91', phoneNumber: '9876543210' }, 'countryCode must look like +91'],
    ['/track/users/', { countryCode: '+91', phoneNumber: '9876543210', fullPhoneNumber: '919876543210' }, 'not both'],
    ['/track/users/', { userId: '7', traits: { address: { city: 'Pune' } } }, 'trait address'],
    ['/track/users/', { userId: '7', traits: ['Name'] }, 'traits must be an object'],
    ['/track/events/', { userId: '7', traits: {} }, 'event is required'],
  ])('POST %s %j is a 400 saying why, and nothing is recorded', async (path, body, reason) => {
    const response = await post(path, body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { result: boolean; message: string };
    expect(answer.result).toBe(false);
    expect(answer.message).toContain(reason);
    expect(interakt.emulator.state.tracked()).toEqual([]);
  });

  it('refuses a wrong key with 401 and takes a well-formed user and event', async () => {
    expect((await post('/track/users/', { userId: '7' }, 'wrong')).status).toBe(401);
    const user = await post('/track/users/', {
      userId: '7',
      countryCode: '+91',
      phoneNumber: '9876543210',
      traits: {},
    });
    expect(user.status).toBe(202);
    const event = await post('/track/events/', { userId: '7', event: 'Drip started', traits: { step: 1 } });
    expect(event.status).toBe(201);
    expect(await event.json()).toMatchObject({ result: true, message: 'Event created successfully' });
    expect(interakt.emulator.state.tracked().map((call) => [call.kind, call.phone, call.event])).toEqual([
      ['user', '+919876543210', null],
      ['event', null, 'Drip started'],
    ]);
  });
});
