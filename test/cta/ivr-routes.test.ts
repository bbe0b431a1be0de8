/**
 * `/ivr` over HTTP, mounted as the admin API mounts it (API key, JSON parser, error handler), on a
 * real SQLite file and the Temporal dev server (no worker: describe() proves a start happened).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey, requireApiKey } from '../../src/api/auth';
import { errorHandler } from '../../src/api/errors';
import { ivrRouter } from '../../src/cta/ivr-routes';
import type { Db } from '../../src/db/client';
import { createApiKey, findCtaRun, findLeadByPhone } from '../../src/db/queries';
import { ctaWorkflowId } from '../../src/cta/contract';
import { sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { createIvrFlow, nextIvrLine, nextMobile } from '../support/ivr';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { captureLogs } from '../support/logs';

describe('IVR API', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const logs = captureLogs();
  const taskQueue = uniqueTaskQueue('ivr-api');
  let callCounter = 0;

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    const app = express();
    app.use(
      '/ivr',
      requireApiKey(db),
      express.json(),
      ivrRouter({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        checkResponses: true,
      }).router,
    );
    app.use(errorHandler(logs.logger));
    api = await listen(app);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  function callBody(overrides: Record<string, unknown> = {}) {
    callCounter += 1;
    return {
      callId: `api-call-${callCounter}`,
      callerNumber: nextMobile(),
      calledNumber: '+918000000000',
      calledAt: '2030-01-01T09:30:00+05:30',
      ...overrides,
    };
  }
  const totalCalls = async () => (await request('GET', '/ivr/calls')).body.total as number;

  it('answers 401 without an API key and records no call', async () => {
    const anonymous = apiClient(api.url);
    const before = await totalCalls();

    const response = await anonymous('POST', '/ivr/calls', callBody());

    expect(response.status).toBe(401);
    expect(await totalCalls()).toBe(before);
  });

  it('logs a new call with 201 and its lead, shows the caller only masked, and answers a repeat with 200 duplicate', async () => {
    const body = callBody();

    const created = await request('POST', '/ivr/calls', body);

    const lead = await findLeadByPhone(db, body.callerNumber);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      callId: body.callId,
      duplicate: false,
      leadId: lead!.id,
      leadCreated: true,
      call: { callId: body.callId, status: 'received', leadId: lead!.id, calledAt: '2030-01-01T04:00:00.000Z' },
    });
    expect(created.body.call.callerPhone).toBe(`+••••••••${body.callerNumber.slice(-4)}`);
    expect(JSON.stringify(created.body)).not.toContain(body.callerNumber.slice(3));

    const again = await request('POST', '/ivr/calls', { ...body, calledAt: '2030-03-01T00:00:00Z' });

    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...created.body, duplicate: true });
  });

  it('answers 400 naming every failing field, and writes nothing', async () => {
    const before = await totalCalls();

    const missing = await request('POST', '/ivr/calls', { callerNumber: '', calledAt: 'yesterday', extra: 1 });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues.map((i: { path: string }) => `${i.path}`).sort()).toEqual(
      ['(root)', 'callId', 'calledAt', 'calledNumber', 'callerNumber'].sort(),
    );

    const badCaller = await request('POST', '/ivr/calls', callBody({ callerNumber: 'anonymous' }));
    expect(badCaller.status).toBe(400);
    expect(badCaller.body.error.issues).toEqual([
      { location: 'body', path: 'callerNumber', message: expect.stringContaining('not a phone number') },
    ]);

    expect(await totalCalls()).toBe(before);
  });

  it('takes a batch and answers per call; a repeated call id in it is a duplicate of the first', async () => {
    const [a, b] = [callBody(), callBody()];

    const response = await request('POST', '/ivr/calls', { calls: [a, b, { ...a }] });

    expect(response.status).toBe(200);
    expect(response.body.created).toBe(2);
    expect(response.body.duplicates).toBe(1);
    expect(response.body.results.map((r: { callId: string; duplicate: boolean }) => [r.callId, r.duplicate])).toEqual([
      [a.callId, false],
      [b.callId, false],
      [a.callId, true],
    ]);
    expect(response.body.results[2].call.id).toBe(response.body.results[0].call.id);
  });

  it('refuses a whole batch when one call is bad, naming it by index, and writes none of it', async () => {
    const before = await totalCalls();
    const good = callBody();

    const badCaller = await request('POST', '/ivr/calls', { calls: [good, callBody({ callerNumber: '12345' })] });
    expect(badCaller.status).toBe(400);
    expect(badCaller.body.error.issues).toEqual([
      { location: 'body', path: 'calls.1.callerNumber', message: expect.stringContaining('too short') },
    ]);

    const badShape = await request('POST', '/ivr/calls', { calls: [good, callBody({ calledAt: 12 })] });
    expect(badShape.status).toBe(400);
    expect(badShape.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['calls.1.calledAt']);

    const tooMany = await request('POST', '/ivr/calls', { calls: Array.from({ length: 501 }, () => good) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['calls']);

    expect(await totalCalls()).toBe(before);
    expect(await findLeadByPhone(db, good.callerNumber)).toBeUndefined();
  });

  it('lists calls by status and call time, newest first, paged, callers masked', async () => {
    const marker = [
      callBody({ calledAt: '2031-05-01T10:00:00Z' }),
      callBody({ calledAt: '2031-05-01T11:00:00Z' }),
      callBody({ calledAt: '2031-05-02T10:00:00Z' }),
    ];
    expect((await request('POST', '/ivr/calls', { calls: marker })).status).toBe(200);

    const page = await request('GET', '/ivr/calls?status=received&from=2031-05-01&to=2031-05-02&page=1&pageSize=1');

    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
    expect(page.body.items.map((c: { callId: string }) => c.callId)).toEqual([marker[1]!.callId]);
    expect(page.body.items[0].callerNumber).toMatch(/^\+•+\d{4}$/);

    const bad = await request('GET', '/ivr/calls?status=done&from=2031-05-02&to=2031-05-01&pageSize=0');
    expect(bad.status).toBe(400);
    expect(
      bad.body.error.issues.map((i: { location: string; path: string }) => `${i.location}.${i.path}`).sort(),
    ).toEqual(['query.pageSize', 'query.status'].sort());
  });

  it('processes received calls into the flow of the number called and reports each call', async () => {
    // Earlier tests left calls to a number without a flow: this pass skips them.
    const line = nextIvrLine();
    const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
    const body = callBody({ calledNumber: line.national });
    const created = await request('POST', '/ivr/calls', body);

    const response = await request('POST', '/ivr/calls/process', { limit: 1000 });

    expect(response.status).toBe(200);
    const leadId = created.body.leadId as number;
    const run = await findCtaRun(db, { flowId: flow.id, leadId });
    expect(response.body.results).toContainEqual({ callId: body.callId, outcome: 'processed', runId: run!.id });
    expect(response.body.failed).toBe(0);
    expect(response.body.skipped).toBe(response.body.results.length - 1);
    const started = await env.client.workflow.getHandle(ctaWorkflowId(leadId, flow.id)).describe();
    expect(started.status.name).toBe('RUNNING');

    const again = await request('POST', '/ivr/calls/process', {});
    expect(again.body).toEqual({ processed: 0, skipped: 0, failed: 0, inProgress: 0, results: [] });
  });

  it('validates the process request: limit 1..1000, a known flow id', async () => {
    for (const [body, path] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ flowId: -1 }, 'flowId'],
      [{ other: true }, '(root)'],
    ] as const) {
      const response = await request('POST', '/ivr/calls/process', body);
      expect({
        body,
        status: response.status,
        paths: response.body.error.issues.map((i: { path: string }) => i.path),
      }).toEqual({ body, status: 400, paths: [path] });
    }
    const unknownFlow = await request('POST', '/ivr/calls/process', { flowId: 999_999 });
    expect(unknownFlow.status).toBe(404);
  });

  it('wrote nothing to the error log', () => {
    expect(logs.text()).toEqual([]);
  });
});
