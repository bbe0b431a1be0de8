import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTemplateSyncActivities } from '../../src/worker/activities';
import type { TemplateSyncSummary } from '../../src/templates/activities';
import { errorHandler } from '../../src/api/errors';
import { templateSyncRouter } from '../../src/templates/sync-routes';
import type { Db } from '../../src/db/client';
import { getTemplateSyncRun, listTemplateSyncRuns } from '../../src/db/queries';
import { DEFAULT_EMULATOR_TEMPLATES, type EmulatorTemplate } from '../../src/emulators/interakt';
import { createInteraktTemplateSource, INTERAKT_TEMPLATE_STATUSES } from '../../src/providers/interakt-templates';
import { ensureTemplateSyncSchedule } from '../../src/templates/schedule';
import { TEMPLATE_SYNC_SCHEDULE_ID, templateSyncWorkflowId } from '../../src/templates/contract';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { bundleWorkflows, createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const KEY = 'template-sync-key';

const EXTRA_TEMPLATES: EmulatorTemplate[] = [
  {
    name: 'spring_sale',
    language: 'en',
    category: 'MARKETING',
    approvalStatus: 'PENDING',
    body: 'Hi {{1}}, our spring sale starts soon.',
  },
  {
    name: 'spring_sale',
    language: 'hi',
    category: 'MARKETING',
    approvalStatus: 'PAUSED',
    body: 'नमस्ते {{1}}, सेल जल्द शुरू होगी।',
  },
];
const seeded = (name: string): EmulatorTemplate => {
  const template = DEFAULT_EMULATOR_TEMPLATES.find((candidate) => candidate.name === name);
  if (!template) throw new Error(`no seeded template ${name}`);
  return template;
};

/**
 * Template sync end to end on the Temporal dev server (schedules need it): the API starts the
 * workflow, the worker pages through the Interakt emulator over HTTP two rows at a time, and
 * Message Master and TemplateSyncRuns land in a real database.
 */
describe('template sync from Interakt', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: StartedInteraktEmulator;
  let worker: Worker;
  let workerRun: Promise<void>;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  /** Lets a test answer (or hold) a page request before it reaches the emulator. */
  let intercept: ((offset: number) => Promise<Response | undefined>) | undefined;
  const taskQueue = uniqueTaskQueue('template-sync');

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    emulator = await startInteraktEmulator({
      apiKey: KEY,
      autoWebhooks: false,
      templatePageSize: 2,
      templates: EXTRA_TEMPLATES,
    });
    const interceptingFetch: typeof fetch = async (input, init) => {
      const offset = Number(new URL(String(input)).searchParams.get('offset'));
      return (await intercept?.(offset)) ?? fetch(input, init);
    };
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities: createTemplateSyncActivities({
        db,
        getTemplateSource: () =>
          createInteraktTemplateSource({
            baseUrl: emulator.baseUrl,
            getApiKey: () => KEY,
            timeoutMs: 10_000,
            fetch: interceptingFetch,
          }),
      }),
    });
    workerRun = worker.run();

    const app = express();
    app.use(express.json());
    app.use('/templates', templateSyncRouter({ db, temporal: env.client, taskQueue, checkResponses: true }).router);
    app.use(errorHandler(silentLogger()));
    api = await listen(app);
    request = apiClient(api.url);
  });

  afterAll(async () => {
    await api?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await emulator?.close();
    await env?.teardown();
    await db?.close();
  });

  const templates = async () => {
    const rows = await db.orm.select().from(db.schema.messageMaster);
    return new Map(rows.map((row) => [`${row.name}/${row.language}`, row]));
  };

  async function syncThroughApi(): Promise<{ runId: number; summary: TemplateSyncSummary }> {
    const started = await request('POST', '/templates/sync');
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      workflowId: templateSyncWorkflowId(started.body.runId),
      alreadyRunning: false,
    });
    const summary = await env.client.workflow.getHandle(started.body.workflowId).result();
    return { runId: started.body.runId, summary: summary as TemplateSyncSummary };
  }

  /** The lists asked for, as `<approval_status>@<offset>`. */
  const listRequests = () =>
    emulator.emulator.state
      .requests()
      .filter((entry) => entry.path.includes('/track/organization/templates'))
      .map((entry) => {
        const params = new URL(entry.path, 'http://x').searchParams;
        return `${params.get('approval_status')}@${params.get('offset')}`;
      });
  const listOffsets = (status = 'APPROVED') =>
    listRequests()
      .filter((entry) => entry.startsWith(`${status}@`))
      .map((entry) => Number(entry.split('@')[1]));

  it('pages through every template two at a time and creates each with its approval status', async () => {
    const { runId, summary } = await syncThroughApi();

    // Every status's list is asked for: the pending and paused templates are in theirs.
    expect(listRequests()).toEqual([
      'APPROVED@0',
      'APPROVED@2',
      'APPROVED@4',
      ...INTERAKT_TEMPLATE_STATUSES.slice(1).map((status) => `${status}@0`),
    ]);
    expect(summary).toEqual({
      runId,
      status: 'completed',
      fetched: 8,
      created: 8,
      updated: 0,
      unchanged: 0,
      removed: 0,
      errorCount: 0,
    });
    const rows = await templates();
    expect([...rows.keys()].sort()).toEqual([
      'drip_day_1/en',
      'drip_day_2/en',
      'drip_day_3/en',
      'follow_up/en',
      'seller_registration/en',
      'spring_sale/en',
      'spring_sale/hi',
      'welcome_message/en',
    ]);
    expect(rows.get('welcome_message/en')).toMatchObject({
      approvalStatus: 'Approved',
      source: 'interakt',
      removedUpstreamAt: null,
    });
    expect(rows.get('spring_sale/en')).toMatchObject({ approvalStatus: 'Pending', category: 'MARKETING' });
    expect(rows.get('spring_sale/hi')).toMatchObject({ approvalStatus: 'Paused' });
    expect(rows.get('seller_registration/en')).toMatchObject({
      headerType: 'document',
      headerMediaUrl: 'https://example.com/seller-registration.pdf',
      footer: 'Reply STOP to opt out',
      buttons: JSON.stringify([
        { type: 'QUICK_REPLY', text: 'Interested' },
        { type: 'QUICK_REPLY', text: 'Not interested' },
      ]),
    });

    const run = await request('GET', `/templates/sync-runs/${runId}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      id: runId,
      trigger: 'api',
      status: 'completed',
      fetched: 8,
      created: 8,
      errorCount: 0,
      errors: [],
    });
    expect(run.body.finishedAt).not.toBeNull();
  });

  it('on the next sync updates a template rejected upstream, marks one deleted upstream, leaves the rest unchanged, and records both runs', async () => {
    const firstRunId = (await listTemplateSyncRuns(db, { page: 1, pageSize: 1 })).items[0]!.id;
    emulator.emulator.state.upsertTemplate({ ...seeded('drip_day_2'), approvalStatus: 'REJECTED' });
    expect(emulator.emulator.state.removeTemplate('follow_up', 'en')).toBe(true);

    const { runId, summary } = await syncThroughApi();

    expect(summary).toEqual({
      runId,
      status: 'completed',
      fetched: 7,
      created: 0,
      updated: 1,
      unchanged: 6,
      removed: 1,
      errorCount: 0,
    });
    const rows = await templates();
    expect(rows.get('drip_day_2/en')).toMatchObject({
      approvalStatus: 'Rejected',
      rejectionReason: 'Rejected in the emulator',
      removedUpstreamAt: null,
    });
    expect(rows.get('follow_up/en')?.removedUpstreamAt).toBeInstanceOf(Date);
    expect(rows.get('follow_up/en')?.approvalStatus).toBe('Approved');
    for (const key of [
      'welcome_message/en',
      'drip_day_1/en',
      'drip_day_3/en',
      'seller_registration/en',
      'spring_sale/en',
      'spring_sale/hi',
    ]) {
      expect(rows.get(key)?.removedUpstreamAt, key).toBeNull();
    }

    const runs = await request('GET', '/templates/sync-runs?page=1&pageSize=10');
    expect(runs.status).toBe(200);
    expect(runs.body.total).toBe(2);
    expect(
      runs.body.items.map((run: any) => [
        run.id,
        run.status,
        run.fetched,
        run.created,
        run.updated,
        run.unchanged,
        run.removed,
        run.errorCount,
      ]),
    ).toEqual([
      [runId, 'completed', 7, 0, 1, 6, 1, 0],
      [firstRunId, 'completed', 8, 8, 0, 0, 0, 0],
    ]);
  });

  it('counts a row with broken buttons JSON as an error, records why, and syncs the rest', async () => {
    emulator.emulator.state.upsertTemplate({
      name: 'broken_buttons',
      language: 'en',
      body: 'Hi {{1}}',
      listRowOverrides: { buttons: '[{"type": "QUICK_REPLY", "text": ' },
    });
    emulator.emulator.state.upsertTemplate({ name: 'late_addition', language: 'en', body: 'Hello {{1}}' });

    const { runId, summary } = await syncThroughApi();

    expect(summary).toEqual({
      runId,
      status: 'completed',
      fetched: 9,
      created: 1,
      updated: 0,
      unchanged: 7,
      removed: 0,
      errorCount: 1,
    });
    const run = await getTemplateSyncRun(db, runId);
    expect(run?.errors).toEqual([
      { template: 'broken_buttons (en)', message: expect.stringMatching(/^buttons is not valid JSON/) },
    ]);
    const rows = await templates();
    expect(rows.has('broken_buttons/en')).toBe(false);
    expect(rows.get('late_addition/en')).toMatchObject({ approvalStatus: 'Approved' });
  });

  it('fails a run whose pass breaks midway, keeps what it counted, and marks nothing removed', async () => {
    const markedBefore = [...(await templates()).values()]
      .filter((row) => row.removedUpstreamAt !== null)
      .map((row) => row.name);
    intercept = async (offset) =>
      offset >= 4 ? new Response('{"result":false,"message":"Invalid token provided"}', { status: 401 }) : undefined;
    try {
      const started = await request('POST', '/templates/sync');
      const outcome = await env.client.workflow
        .getHandle(started.body.workflowId)
        .result()
        .catch((error: unknown) => error);
      expect(outcome).toBeInstanceOf(WorkflowFailedError);

      const run = await getTemplateSyncRun(db, started.body.runId);
      expect(run).toMatchObject({ status: 'failed', fetched: 4, removed: 0 });
      expect(run?.errors.at(-1)?.message).toMatch(/Interakt refused the API key \(HTTP 401\)/);
      expect(run?.finishedAt).toBeInstanceOf(Date);
    } finally {
      intercept = undefined;
    }
    const markedAfter = [...(await templates()).values()]
      .filter((row) => row.removedUpstreamAt !== null)
      .map((row) => row.name);
    expect(markedAfter).toEqual(markedBefore);
  });

  it('retries a page the provider rate-limited and resumes the pass from its last heartbeat, not from the start', async () => {
    const offsetsBefore = listOffsets().length;
    const requestsBefore = listRequests().length;
    let limited = 0;
    intercept = async (offset) => {
      if (offset !== 4 || limited > 0) return undefined;
      limited += 1;
      return new Response('{"result":false,"message":"Rate limit exceeded for this resource"}', {
        status: 429,
        headers: { 'retry-after': '1' },
      });
    };
    try {
      const { runId, summary } = await syncThroughApi();

      expect(limited).toBe(1);
      // Page 4 of the approved list was asked for again, never page 0; the other lists once each.
      expect(listOffsets().slice(offsetsBefore)).toEqual([0, 2, 4]);
      expect(
        listRequests()
          .slice(requestsBefore)
          .filter((entry) => !entry.startsWith('APPROVED@')),
      ).toEqual(INTERAKT_TEMPLATE_STATUSES.slice(1).map((status) => `${status}@0`));
      expect(summary).toEqual({
        runId,
        status: 'completed',
        fetched: 9,
        created: 0,
        updated: 0,
        unchanged: 8,
        removed: 0,
        errorCount: 1,
      });
    } finally {
      intercept = undefined;
    }
  });

  it('answers a second POST /templates/sync with the run under way instead of starting another', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    intercept = async (offset) => {
      if (offset === 0) await held;
      return undefined;
    };
    try {
      const first = await request('POST', '/templates/sync');
      const second = await request('POST', '/templates/sync');

      expect(second.status).toBe(202);
      expect(second.body).toEqual({
        runId: first.body.runId,
        workflowId: first.body.workflowId,
        status: 'running',
        alreadyRunning: true,
      });
      release();
      await env.client.workflow.getHandle(first.body.workflowId).result();
    } finally {
      release();
      intercept = undefined;
    }
  });

  it('answers 404 for a sync run that does not exist and 400 for a bad id', async () => {
    expect((await request('GET', '/templates/sync-runs/999999')).status).toBe(404);
    expect((await request('GET', '/templates/sync-runs/abc')).status).toBe(400);
  });

  it('creates the schedule once, and a triggered action records its own run with trigger "schedule"', async () => {
    const first = await ensureTemplateSyncSchedule(env.client, { taskQueue, every: '1h' });
    try {
      const again = await ensureTemplateSyncSchedule(env.client, { taskQueue, every: '1h' });
      expect([first.created, again.created]).toEqual([true, false]);
      const description = await first.handle.describe();
      expect(description.scheduleId).toBe(TEMPLATE_SYNC_SCHEDULE_ID);
      expect(description.policies.overlap).toBe('SKIP');

      await first.handle.trigger();

      const run = await waitFor(async () => {
        const { items } = await listTemplateSyncRuns(db, { page: 1, pageSize: 10 });
        return items.find((candidate) => candidate.trigger === 'schedule' && candidate.status === 'completed');
      }, 'a completed scheduled run');
      expect(run).toMatchObject({ fetched: 9, created: 0, errorCount: 1, removed: 0 });
    } finally {
      await first.handle.delete();
    }
  });
});
