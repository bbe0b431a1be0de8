import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfobipSyncActivities } from '../../src/worker/activities';
import { errorHandler } from '../../src/api/errors';
import { infobipSyncRouter } from '../../src/infobip-sync/routes';
import type { Db } from '../../src/db/client';
import {
  createInfobipSyncRun,
  findLeadByPhone,
  finishInfobipSyncRun,
  getInfobipSyncRun,
  listInfobipSyncRuns,
  updateLead,
} from '../../src/db/queries';
import {
  createInfobipEmulator,
  generatedPersonKind,
  type GeneratedPeopleSpec,
  type InfobipEmulator,
} from '../../src/emulators/infobip';
import type { ListeningEmulator } from '../../src/emulators/emulator-http';
import { createInfobipClient } from '../../src/providers/infobip';
import { apiClient, listen, type RunningApp } from '../support/api';
import { generatedPeoplePageOf } from '../support/infobip-emulator';
import { createTestDb } from '../support/db';
import { waitFor } from '../support/drip-harness';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const KEY = 'infobip-sync-key';
const PEOPLE = {
  count: 40,
  seed: 7,
  invalidEvery: 9,
  duplicateEvery: 0,
  malformedEvery: 13,
  anchor: new Date(),
} satisfies GeneratedPeopleSpec;
const PAGE_SIZE = 7;
const kinds = Array.from({ length: PEOPLE.count }, (_, i) => generatedPersonKind(i, PEOPLE));
const VALID = kinds.filter((kind) => kind === 'valid').length;
const UNUSABLE = PEOPLE.count - VALID;
/** The page a People request reads, as page numbers would count it (the client pages by createdAt). */
const pageOf = (path: string) => generatedPeoplePageOf(path, { anchor: PEOPLE.anchor, pageSize: PAGE_SIZE });
const DAY_MS = 24 * 60 * 60 * 1000;
const LOGS = 30;

/**
 * The Infobip sync end to end on the Temporal dev server (schedules need it): the API starts runs,
 * a worker pages through the Infobip emulator over HTTP with the real client, and leads and run
 * records land in a real SQLite file.
 */
describe('Infobip sync runs', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: InfobipEmulator;
  let listening: ListeningEmulator;
  let worker: Worker;
  let workerRun: Promise<void>;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  let workerApiKey = KEY;
  /** Lets a test hold a People page request before it reaches the emulator. */
  let holdPage: ((page: number) => Promise<void>) | undefined;
  const taskQueue = uniqueTaskQueue('infobip-sync');
  const scheduleId = `infobip-sync-test-${taskQueue}`;

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    emulator = createInfobipEmulator({
      apiKey: KEY,
      people: PEOPLE,
      smsLogs: { count: LOGS, seed: 3 },
      rateLimits: { peoplePerSecond: null, logsPerMinute: null },
    });
    listening = await emulator.listen(0, '127.0.0.1');
    const holdingFetch: typeof fetch = async (input, init) => {
      if (String(input).includes('/people/2/persons?')) await holdPage?.(pageOf(String(input)));
      return fetch(input, init);
    };
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities: createInfobipSyncActivities({
        db,
        defaultCountry: 'IN',
        getInfobipClient: () =>
          createInfobipClient({
            baseUrl: listening.url,
            getApiKey: () => workerApiKey,
            timeoutMs: 10_000,
            peopleRequestsPerSecond: 50,
            fetch: holdingFetch,
          }),
      }),
    });
    workerRun = worker.run();

    const app = express();
    app.use(express.json());
    app.use(
      '/sync/infobip',
      infobipSyncRouter({
        db,
        temporal: env.client,
        taskQueue,
        infobipSyncScheduleId: scheduleId,
        infobipSyncPagesPerChunk: 2,
        checkResponses: true,
      }).router,
    );
    app.use(errorHandler(silentLogger()));
    api = await listen(app);
    request = apiClient(api.url);
  });

  afterAll(async () => {
    await api?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await listening?.close();
    await env?.teardown();
    await db?.close();
  });

  const since = () => new Date(Date.now() - 8 * DAY_MS).toISOString();
  const peoplePages = () =>
    emulator.state
      .requests()
      .filter((entry) => entry.endpoint === 'people')
      .map((entry) => ({ page: pageOf(entry.path), status: entry.responseStatus }));
  const allLeads = async () => db.orm.select().from(db.schema.clients).orderBy(db.schema.clients.id);

  async function runThroughApi(body: Record<string, unknown>) {
    const started = await request('POST', '/sync/infobip/runs', { since: since(), pageSize: PAGE_SIZE, ...body });
    expect(started.status).toBe(202);
    await env.client.workflow.getHandle(started.body.workflowId).result();
    const run = await request('GET', `/sync/infobip/runs/${started.body.runId}`);
    expect(run.status).toBe(200);
    return run.body;
  }

  it('pages through every page, normalises every phone format to E.164, and counts unusable records without failing the run', async () => {
    const run = await runThroughApi({ source: 'people', mode: 'create_update' });

    expect(peoplePages()).toEqual([1, 2, 3, 4, 5, 6].map((page) => ({ page, status: 200 })));
    expect(run).toMatchObject({
      status: 'completed',
      trigger: 'api',
      fetched: 40,
      created: VALID,
      matched: 0,
      updated: 0,
      skipped: 0,
      invalid: UNUSABLE,
      errorCount: UNUSABLE,
      pages: 6,
    });
    expect(run.errors).toHaveLength(UNUSABLE);
    expect(run.errors.filter((error: any) => error.message.startsWith('malformed record'))).toHaveLength(
      kinds.filter((kind) => kind === 'malformed').length,
    );
    expect(run.errors.filter((error: any) => error.message.startsWith('invalid phone'))).toHaveLength(
      kinds.filter((kind) => kind === 'invalid').length,
    );

    const leads = await allLeads();
    expect(leads).toHaveLength(VALID);
    for (const lead of leads) {
      expect(lead.phone).toMatch(/^\+91[6-9]\d{9}$/);
      expect(lead).toMatchObject({ source: 'infobip', lastChannel: expect.stringMatching(/^(whatsapp|sms)$/) });
      expect(lead.infobipProfileId).toMatch(/^\d+$/);
      expect(lead.lastContactedAt).toBeInstanceOf(Date);
    }

    const last = await request('GET', '/sync/infobip/last-success');
    expect(last.body).toEqual({ lastSuccessAt: run.windowTo, lastScheduledSuccessAt: null });
  });

  it('a dry run reports what it would change and leaves every lead untouched', async () => {
    emulator.state.addPeople([
      {
        id: 9001,
        firstName: 'Dry',
        lastName: 'Run',
        createdAt: '2030-01-01T00:00:00',
        customAttributes: { LastContactedAt: new Date(Date.now() - 60_000).toISOString(), LastContactedChannel: 'SMS' },
        contactInformation: { phone: [{ number: '+91 98111 22334' }] },
      },
    ]);
    const before = await allLeads();
    const lastSuccessBefore = (await request('GET', '/sync/infobip/last-success')).body;

    const run = await runThroughApi({ source: 'people', mode: 'create_update', dryRun: true });

    expect(run).toMatchObject({
      status: 'completed',
      dryRun: true,
      fetched: 41,
      created: 1,
      matched: VALID,
      updated: 0,
      skipped: VALID,
    });
    expect(run.preview).toEqual([
      {
        action: 'create',
        leadId: null,
        phone: '+••••••••2334',
        changes: expect.objectContaining({ name: 'Dry Run', lastChannel: 'sms', infobipProfileId: '9001' }),
      },
    ]);
    expect(await allLeads()).toEqual(before);
    expect((await request('GET', '/sync/infobip/last-success')).body).toEqual(lastSuccessBefore);
  });

  it('in update-only mode creates nothing, and last contact only ever moves forward', async () => {
    const leads = await allLeads();
    const [ahead, behind] = [leads[0]!, leads[1]!];
    const later = new Date();
    await updateLead(db, ahead.id, { lastContactedAt: later });
    await updateLead(db, behind.id, { lastContactedAt: new Date(Date.now() - 30 * DAY_MS) });

    const run = await runThroughApi({ source: 'people', mode: 'update_only' });

    expect(run).toMatchObject({
      status: 'completed',
      fetched: 41,
      created: 0,
      matched: VALID,
      updated: 1,
      skipped: VALID,
      invalid: UNUSABLE,
    });
    expect(await findLeadByPhone(db, '+919811122334')).toBeUndefined();
    expect(await allLeads()).toHaveLength(VALID);
    expect((await findLeadByPhone(db, ahead.phone))?.lastContactedAt).toEqual(later);
    expect((await findLeadByPhone(db, behind.phone))?.lastContactedAt).toEqual(behind.lastContactedAt);
  });

  it('retries a 429 and a 503 and still counts every record exactly once', async () => {
    const requestsBefore = peoplePages().length;
    emulator.state.injectFault({ kind: 'rate_limit', endpoint: 'people', retryAfterSeconds: 1 });
    emulator.state.injectFault({ kind: 'server_error', endpoint: 'people', status: 503 });

    const run = await runThroughApi({
      source: 'people',
      mode: 'update_only',
      statusRule: { setStatus: 'Contacted', onlyIfStatusIn: ['New'] },
    });

    const requests = peoplePages().slice(requestsBefore);
    expect(requests.slice(0, 3)).toEqual([
      { page: 1, status: 429 },
      { page: 1, status: 503 },
      { page: 1, status: 200 },
    ]);
    expect(requests.filter((entry) => entry.status === 200).map((entry) => entry.page)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run).toMatchObject({
      status: 'completed',
      fetched: 41,
      matched: VALID,
      updated: VALID,
      created: 0,
      invalid: UNUSABLE,
    });
    expect((await allLeads()).every((lead) => lead.status === 'Contacted')).toBe(true);
  });

  it('shows live progress from the workflow while a run is under way', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    holdPage = async (page) => {
      if (page === 3) await held;
    };
    try {
      const started = await request('POST', '/sync/infobip/runs', {
        since: since(),
        pageSize: PAGE_SIZE,
        mode: 'update_only',
      });
      const progress = await waitFor(async () => {
        const run = await request('GET', `/sync/infobip/runs/${started.body.runId}`);
        return run.body.progress?.pagesDone === 2 ? run.body : undefined;
      }, 'two pages done');
      expect(progress).toMatchObject({
        status: 'running',
        progress: {
          status: 'running',
          runId: started.body.runId,
          position: { source: 'people', pageNo: 3 },
          counts: { fetched: 14 },
        },
      });
      release();
      await env.client.workflow.getHandle(started.body.workflowId).result();
    } finally {
      release();
      holdPage = undefined;
    }
  });

  it('reads everybody when a person on a page already read is contacted again while the run is under way', async () => {
    const firstPage = await fetch(`${listening.url}/people/2/persons?orderBy=createdAt:asc&limit=${PAGE_SIZE}`, {
      headers: { Authorization: `App ${KEY}` },
    });
    const recontacted = ((await firstPage.json()) as { persons: Array<{ id: number }> }).persons[2]!.id;
    holdPage = async (page) => {
      if (page !== 2) return;
      holdPage = undefined;
      // Contacted again, as the emulator's control API records it: now before the window, so out of the filter.
      const response = await fetch(`${listening.url}/__emulator/people/${recontacted}/contact`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ at: new Date(Date.now() - 9 * DAY_MS).toISOString() }),
      });
      expect(response.status).toBe(200);
    };
    try {
      const run = await runThroughApi({ source: 'people', mode: 'update_only' });
      // Everybody once, the re-contacted person included (read on page 1, before the contact).
      expect(run).toMatchObject({ status: 'completed', fetched: 41, matched: VALID, invalid: UNUSABLE, pages: 6 });
      expect(holdPage).toBeUndefined();
    } finally {
      holdPage = undefined;
    }
  });

  it('reads the SMS logs by cursor, clamped to the 48 hours they reach back, with a warning on the run', async () => {
    const leadsBefore = (await allLeads()).length;
    const run = await runThroughApi({
      source: 'logs',
      mode: 'create_update',
      since: new Date(Date.now() - 3 * DAY_MS).toISOString(),
    });

    expect(run).toMatchObject({
      status: 'completed',
      fetched: LOGS,
      created: LOGS,
      invalid: 0,
      pages: Math.ceil(LOGS / PAGE_SIZE),
    });
    expect(run.options.warnings).toEqual([
      expect.stringMatching(/^SMS logs only reach back 48 hours: logs were read from /),
    ]);
    expect(Date.parse(run.options.logsSince)).toBeGreaterThan(Date.now() - 2 * DAY_MS);
    const logCursors = emulator.state
      .requests()
      .filter((entry) => entry.endpoint === 'logs')
      .map((entry) => new URL(entry.path, 'http://x').searchParams.get('cursor'));
    expect(logCursors[0]).toBeNull();
    expect(logCursors.slice(1).every((cursor) => typeof cursor === 'string' && cursor.length > 0)).toBe(true);
    const created = (await allLeads()).slice(leadsBefore);
    expect(created).toHaveLength(LOGS);
    expect(
      created.every(
        (lead) => lead.lastChannel === 'sms' && /^\+91\d{10}$/.test(lead.phone) && lead.infobipProfileId === null,
      ),
    ).toBe(true);
  });

  it('fails a run whose API key is refused, recording why, without retrying', async () => {
    workerApiKey = 'wrong-key';
    try {
      const started = await request('POST', '/sync/infobip/runs', { since: since(), pageSize: PAGE_SIZE });
      await expect(env.client.workflow.getHandle(started.body.workflowId).result()).rejects.toThrow();
      const run = await getInfobipSyncRun(db, started.body.runId);
      expect(run).toMatchObject({ status: 'failed', fetched: 0 });
      expect(run?.failure).toMatch(/Infobip refused the API key/);
      expect(run?.failure).not.toContain('wrong-key');
    } finally {
      workerApiKey = KEY;
    }
  });

  it('fails a run at once, saying how to fix it, when LastContactedAt is a text attribute People cannot filter by a window', async () => {
    emulator.state.defineCustomAttribute({ name: 'LastContactedAt', dataType: 'STRING' });
    const listed = () => emulator.state.requests().filter((entry) => entry.endpoint === 'people').length;
    const listedBefore = listed();
    try {
      const started = await request('POST', '/sync/infobip/runs', { since: since(), pageSize: PAGE_SIZE });
      await expect(env.client.workflow.getHandle(started.body.workflowId).result()).rejects.toThrow();
      const run = await getInfobipSyncRun(db, started.body.runId);
      expect(run).toMatchObject({ status: 'failed', fetched: 0 });
      expect(run?.failure).toContain('"LastContactedAt" is STRING, not DATE_TIME');
      expect(run?.failure).toContain('POST /people/2/customAttributes');
      // Nothing was listed: the check came first.
      expect(listed()).toBe(listedBefore);
    } finally {
      emulator.state.defineCustomAttribute({ name: 'LastContactedAt', dataType: 'DATE_TIME' });
    }
  });

  it('answers 400 naming every bad field and records no run', async () => {
    const runsBefore = (await listInfobipSyncRuns(db, { page: 1, pageSize: 1 })).total;
    const response = await request('POST', '/sync/infobip/runs', {
      since: 'yesterday',
      source: 'email',
      mode: 'upsert',
      channels: [],
      statusRule: { setStatus: '' },
      extra: 1,
    });
    expect(response.status).toBe(400);
    expect(response.body.error.issues.map((issue: any) => issue.path).sort()).toEqual([
      '(root)',
      'channels',
      'mode',
      'since',
      'source',
      'statusRule.setStatus',
    ]);
    const backwards = await request('POST', '/sync/infobip/runs', {
      since: '2026-01-02T00:00:00Z',
      until: '2026-01-01T00:00:00Z',
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.issues).toEqual([expect.objectContaining({ path: 'until' })]);
    expect((await listInfobipSyncRuns(db, { page: 1, pageSize: 1 })).total).toBe(runsBefore);
    expect((await request('GET', '/sync/infobip/runs/999999')).status).toBe(404);
  });

  it('a schedule created through the API triggers a run whose window starts at the last scheduled success minus the margin, not at a later manual run', async () => {
    // An earlier scheduled run, ended a minute before the manual runs above (update-only, people only) did.
    const lastManual = (await request('GET', '/sync/infobip/last-success')).body.lastSuccessAt as string;
    const lastSuccess = new Date(Date.parse(lastManual) - 60_000).toISOString();
    const { run: earlier } = await createInfobipSyncRun(db, {
      runKey: 'scheduled-earlier',
      workflowId: 'infobip-sync-scheduled-earlier',
      trigger: 'schedule',
      scheduleId,
      options: {},
      dryRun: false,
      windowFrom: new Date(Date.parse(lastSuccess) - DAY_MS),
      windowTo: new Date(lastSuccess),
      startedAt: new Date(lastSuccess),
    });
    await finishInfobipSyncRun(db, earlier.id, { status: 'completed', finishedAt: new Date(lastSuccess) });
    expect((await request('GET', '/sync/infobip/last-success')).body).toEqual({
      lastSuccessAt: lastManual,
      lastScheduledSuccessAt: lastSuccess,
    });

    const created = await request('POST', '/sync/infobip/schedule', {
      every: 'hourly',
      source: 'people',
      mode: 'update_only',
      pageSize: PAGE_SIZE,
      channels: ['sms'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      scheduleId,
      cadence: { every: 'hourly' },
      paused: false,
      options: { source: 'people', mode: 'update_only', channels: ['sms'] },
    });
    try {
      expect((await request('POST', '/sync/infobip/schedule/trigger')).status).toBe(202);
      const run = await waitFor(
        async () => {
          const { items } = await listInfobipSyncRuns(db, { page: 1, pageSize: 5 });
          return items.find(
            (candidate) =>
              candidate.trigger === 'schedule' && candidate.status === 'completed' && candidate.id !== earlier.id,
          );
        },
        'a completed scheduled run',
        30_000,
      );
      expect(run.scheduleId).toBe(scheduleId);
      expect(run.runKey).toMatch(/^scheduled-/);
      expect(run.windowFrom).toEqual(new Date(Date.parse(lastSuccess) - 15 * 60_000));
      // Only the person contacted during these tests falls inside that window (the rest were contacted days ago).
      expect(run).toMatchObject({ fetched: 1, created: 0, skipped: 1 });

      const paused = await request('POST', '/sync/infobip/schedule/pause', { note: 'maintenance' });
      expect(paused.body).toMatchObject({ paused: true, note: 'maintenance' });
      const resumed = await request('POST', '/sync/infobip/schedule/resume', {});
      expect(resumed.body).toMatchObject({ paused: false });
      const daily = await request('POST', '/sync/infobip/schedule', {
        cron: '0 3 * * *',
        source: 'both',
        mode: 'update_only',
      });
      expect(daily.status).toBe(200);
      expect(daily.body).toMatchObject({ cadence: { cron: '0 3 * * *' }, options: { source: 'both' } });
    } finally {
      expect((await request('DELETE', '/sync/infobip/schedule')).status).toBe(204);
    }
    expect((await request('GET', '/sync/infobip/schedule')).status).toBe(404);
  });
});
