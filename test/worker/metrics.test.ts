import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolLeads } from '../../src/drips/enrol';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { createLead, createSequence, getAssignment } from '../../src/db/queries';
import { sendTaskQueue } from '../../src/shared';
import { EMULATOR_KEY, step, waitFor } from '../support/drip-harness';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';
import { spawnWorker, workerEnv, type WorkerProcess } from '../support/worker-process';

/** A port free right now (the worker binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The real worker process: its Prometheus endpoint answers with process metrics and counts a real
 * send through the Interakt emulator; the Temporal SDK serves its own worker metrics on the second
 * port; and what it writes to stdout is JSON lines.
 */
describe('worker metrics and logs', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let emulator: StartedInteraktEmulator;
  let worker: WorkerProcess;
  let metricsUrl: string;
  let temporalMetricsUrl: string;
  const taskQueue = uniqueTaskQueue('worker-metrics');
  const children: ChildProcess[] = [];
  const PHONE = '+919812360001';

  beforeAll(async () => {
    env = await createDevServerEnv();
    const dbUrl = process.env.DATABASE_URL?.startsWith('mssql')
      ? process.env.DATABASE_URL
      : `file:${path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dripline-worker-metrics-')), 'crm.db')}`;
    db = await openDb(dbUrl);
    await migrate(db);
    await seedTemplates(db);
    emulator = await startInteraktEmulator({ apiKey: EMULATOR_KEY, autoWebhooks: false });
    const [port, temporalPort] = [await freePort(), await freePort()];
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    temporalMetricsUrl = `http://127.0.0.1:${temporalPort}/metrics`;
    worker = spawnWorker({
      ...workerEnv({ dbUrl, temporal: env, taskQueue, interakt: { baseUrl: emulator.baseUrl, apiKey: EMULATOR_KEY } }),
      INTERAKT_SENDS_PER_SECOND: '100',
      WORKER_METRICS_PORT: String(port),
      WORKER_TEMPORAL_METRICS_PORT: String(temporalPort),
    });
    children.push(worker.child);
    await worker.ready;
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await emulator?.close();
    await env?.teardown();
    await db?.close();
  });

  it('answers GET /metrics with process metrics and the send counter', async () => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE dripline_sends_total counter');
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('counts a real send through the Interakt emulator as sent', async () => {
    const sequence = await createSequence(db, { name: 'metrics', steps: [step('drip_day_1', 0)] });
    const lead = await createLead(db, { name: 'Metrics Lead', phone: PHONE });
    const { started } = await enrolLeads(
      { db, temporal: env.client, taskQueue, sendTaskQueue: sendTaskQueue(taskQueue, 'interakt') },
      sequence,
      [lead.id],
    );
    await waitFor(
      async () => (await getAssignment(db, started[0]!.assignmentId))?.status === 'completed',
      'the drip completed',
      60_000,
    );
    expect(emulator.emulator.state.acceptedMessages()).toHaveLength(1);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('dripline_sends_total{provider="interakt",outcome="sent"} 1');
  });

  it("serves the Temporal SDK's own worker metrics on the second port", async () => {
    const response = await fetch(temporalMetricsUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^temporal_\w+/m);
  });

  it('writes JSON lines only, with no phone number in them', () => {
    const lines = worker
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    const parsed = lines.map((line) => JSON.parse(line) as { name?: string; msg?: string });
    expect(parsed.every((line) => line.name === 'worker')).toBe(true);
    expect(parsed.some((line) => line.msg === 'polling')).toBe(true);
    expect(worker.output()).not.toContain(PHONE.slice(3));
  });
});
