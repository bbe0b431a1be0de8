import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/metrics';
import { createTestDb } from '../support/db';
import { startDrip, startDripHarness, step, type DripHarness } from '../support/drip-harness';
import { createTimeSkippingEnv } from '../support/temporal';

/**
 * `dripline_sends_total` counts every call of the send path by provider and outcome: real drips on
 * a real worker sending over HTTP to the Interakt emulator, with the emulator's faults.
 */
describe('send metrics', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let metrics: WorkerMetrics;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    db = await createTestDb();
    metrics = createWorkerMetrics();
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      sends: metrics.sends,
    });
  });

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    await db?.close();
  });

  const sends = async () =>
    Object.fromEntries(
      (await metrics.sends.get()).values.map((value) => [
        `${value.labels.provider}/${value.labels.outcome}`,
        value.value,
      ]),
    );

  it('counts an accepted send as sent', async () => {
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone: '+919812350001' });
    expect((await drip.handle.result()).status).toBe('completed');
    expect(await sends()).toEqual({ 'interakt/sent': 1 });
  });

  it('counts each 5xx as retryable, then the send that got through', async () => {
    const phone = '+919812350002';
    harness.emulator.emulator.state.injectFault({ kind: 'http_5xx', status: 503, times: 2, match: { phone } });
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });
    expect((await drip.handle.result()).status).toBe('completed');
    expect(await sends()).toEqual({ 'interakt/sent': 2, 'interakt/retryable': 2 });
  });

  it('counts a permanent refusal by the provider as rejected, and a step refused before the call as refused', async () => {
    const phone = '+919812350003';
    harness.emulator.emulator.state.injectFault({
      kind: 'permanent',
      message: 'not a WhatsApp user',
      match: { phone },
    });
    const rejected = await startDrip(db, env.client, harness, [step('drip_day_1', 0)], { phone });
    expect((await rejected.handle.result()).status).toBe('failed');

    const missingField = { ...step('drip_day_1', 0), variables: { body: [{ field: 'email' as const }] } };
    const refused = await startDrip(db, env.client, harness, [missingField], { phone: '+919812350004' });
    expect((await refused.handle.result()).status).toBe('failed');

    expect(await sends()).toEqual({
      'interakt/sent': 2,
      'interakt/retryable': 2,
      'interakt/rejected': 1,
      'interakt/refused': 1,
    });
  });

  it('exposes the counts in Prometheus text', async () => {
    expect(await metrics.registry.metrics()).toContain('dripline_sends_total{provider="interakt",outcome="sent"} 2');
  });
});
