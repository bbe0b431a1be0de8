/**
 * The send-window ledger on the send path: real drips on a real worker and dev server, sending over
 * HTTP to the Interakt emulator through a ledger of one send per window. A send that finds the
 * window full goes back to the queue without calling the provider and is sent once a slot frees;
 * a send whose slot could not be taken at all gives its attempt back; nothing is sent twice and
 * nothing is lost.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { getMessageByKey } from '../../src/db/queries';
import { dripWorkflowId } from '../../src/drips/contract';
import { createSendLimit } from '../../src/messages/send-limit';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/metrics';
import { sendIdempotencyKey } from '../../src/shared';
import { createTestDb } from '../support/db';
import { startDrip, startDripHarness, step, type DripHarness } from '../support/drip-harness';
import { createDevServerEnv } from '../support/temporal';

const WINDOW_MS = 1_500;

describe('the provider limit on the send path', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let metrics: WorkerMetrics;

  /** Set to fail the next slot taken, as when the database cannot be read. */
  let ledgerDown = false;

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    metrics = createWorkerMetrics();
    // One send per window, and a worker waits at most 200 ms for a slot: the second of two sends
    // at once finds the window full and goes back to the queue.
    const ledger = createSendLimit(db, {
      sendsPerSecond: 200,
      windowOf: (senderKey) => ({ senderKey, slots: 1, windowMs: WINDOW_MS }),
      maxWaitMs: 200,
    });
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      sends: metrics.sends,
      sendLimit: {
        sendsPerSecond: 200,
        take: async (senderKey) => {
          if (ledgerDown) {
            ledgerDown = false;
            throw new Error('SQLITE_BUSY: the ledger could not be read');
          }
          return ledger.take(senderKey);
        },
      },
      // Long, so a send left `sending` would visibly wait for a webhook before its retry.
      reconcileWindowMs: 60_000,
      // Every send takes 200 ms from its slot to the provider, as a loaded worker's might.
      providerFetch: async (input, init) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return fetch(input, init);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    await env?.teardown();
    await db?.close();
  });

  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.sends.get()).values.map((value) => [`${value.labels.outcome}`, value.value]));

  it('a send that finds the window full calls no provider, goes back to the queue, and is sent once a slot frees', async () => {
    const [a, b] = await Promise.all([
      startDrip(db, env.client, harness, [step('drip_day_1', 0)]),
      startDrip(db, env.client, harness, [step('drip_day_1', 0)]),
    ]);

    expect((await a.handle.result()).status).toBe('completed');
    expect((await b.handle.result()).status).toBe('completed');

    // Each lead got its message once; the provider saw two calls in all, a window apart.
    const accepted = harness.accepted();
    expect(accepted.map((message) => message.phone).sort()).toEqual([a.lead.phone, b.lead.phone].sort());
    const [first, second] = accepted.map((message) => Date.parse(`${message.acceptedAt}Z`)).sort((x, y) => x - y);
    expect(second! - first!).toBeGreaterThan(WINDOW_MS / 2);
    const counts = await outcomes();
    expect(counts.sent).toBe(2);
    expect(counts.limited).toBeGreaterThanOrEqual(1);
    for (const drip of [a, b]) {
      const row = await getMessageByKey(db, sendIdempotencyKey(dripWorkflowId(drip.assignmentId), 0));
      expect(row?.status).toBe('sent');
    }
    // The slot's time moved on to when the last call ended, after the provider received it (not
    // when it was taken, 200 ms before): the next send waits a window from the provider's receipt.
    const t = db.schema.sendWindowSlots;
    const [slot] = await db.orm.select({ atMs: t.claimedAtMs }).from(t);
    expect(slot!.atMs).toBeGreaterThanOrEqual(second!);
  });

  it('a send whose slot could not be taken gives its attempt back, so its retry sends without waiting for a webhook', async () => {
    const before = await outcomes();
    ledgerDown = true;
    const drip = await startDrip(db, env.client, harness, [step('drip_day_1', 0)]);

    expect((await drip.handle.result()).status).toBe('completed');
    const row = await getMessageByKey(db, sendIdempotencyKey(dripWorkflowId(drip.assignmentId), 0));
    expect(row?.status).toBe('sent');
    expect(harness.accepted().filter((message) => message.phone === drip.lead.phone)).toHaveLength(1);
    // The retry was not held for the 60 s reconcile window: no send met a row left `sending`.
    const after = await outcomes();
    expect((after.sent ?? 0) - (before.sent ?? 0)).toBe(1);
    expect(after.reconciling ?? 0).toBe(before.reconciling ?? 0);
  });
});
