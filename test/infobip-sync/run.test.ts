import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { createInfobipSyncRun, finishInfobipSyncRun } from '../../src/db/queries';
import type { InfobipSyncOptions, InfobipSyncTrigger } from '../../src/infobip-sync/contract';
import {
  DEFAULT_INFOBIP_SYNC_INITIAL_LOOKBACK_MS,
  DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS,
  openInfobipSyncRun,
} from '../../src/infobip-sync/run';
import { createTestDb } from '../support/db';

const T0 = new Date('2030-06-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const margin = DEFAULT_INFOBIP_SYNC_SAFETY_MARGIN_MS;

let db: Db;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db?.close();
});

/** A run that completed over `windowTo` with these options. */
async function completedRun(trigger: InfobipSyncTrigger, windowTo: Date, options: Partial<InfobipSyncOptions> = {}) {
  const runKey = `done-${++seq}`;
  const { run } = await createInfobipSyncRun(db, {
    runKey,
    workflowId: `infobip-sync-${runKey}`,
    trigger,
    options: { source: 'both', mode: 'create_update', ...options },
    dryRun: false,
    windowFrom: new Date(windowTo.getTime() - 60 * 60_000),
    windowTo,
    startedAt: windowTo,
  });
  await finishInfobipSyncRun(db, run.id, { status: 'completed', finishedAt: windowTo });
}

const open = (trigger: InfobipSyncTrigger, now: Date) => {
  const runKey = `open-${++seq}`;
  return openInfobipSyncRun(db, {
    runKey,
    workflowId: `infobip-sync-${runKey}`,
    trigger,
    options: { source: 'people', mode: 'create_update', dryRun: false },
    now,
  });
};

describe('openInfobipSyncRun: the window of a run without `since`', () => {
  it('a scheduled run with no scheduled run before it looks back the initial lookback, whatever manual runs completed', async () => {
    await completedRun('api', at(0), { channels: ['whatsapp'] });
    const { run } = await open('schedule', at(30));
    expect(run.windowFrom).toEqual(new Date(at(30).getTime() - DEFAULT_INFOBIP_SYNC_INITIAL_LOOKBACK_MS));
    expect(run.options).toMatchObject({ lastSuccessAt: null });
  });

  it('a scheduled run starts at the last scheduled success, not at a later manual run limited to one channel, logs only or update only', async () => {
    await completedRun('schedule', at(60));
    await completedRun('api', at(90), { channels: ['whatsapp'] });
    await completedRun('cli', at(100), { source: 'logs' });
    await completedRun('api', at(110), { mode: 'update_only' });

    const { run } = await open('schedule', at(120));
    expect(run.windowFrom).toEqual(new Date(at(60).getTime() - margin));
    expect(run.options).toMatchObject({ lastSuccessAt: at(60).toISOString() });
  });

  it('a manual run without `since` starts at the last success of any run', async () => {
    const { run } = await open('api', at(130));
    expect(run.windowFrom).toEqual(new Date(at(110).getTime() - margin));
  });
});
