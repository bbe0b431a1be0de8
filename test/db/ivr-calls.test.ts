import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  createLead,
  findIvrCallByCallId,
  listIvrCalls,
  listReceivedIvrCalls,
  logIvrCall,
  markIvrCallProcessed,
  markIvrCallSkipped,
  type NewIvrCall,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';

let db: Db;
let leadId: number;
beforeEach(async () => {
  db = await createTestDb();
  leadId = (await createLead(db, { name: 'Asha', phone: '+919876543210' })).id;
});
afterEach(async () => {
  await db.close();
});

const T0 = new Date('2030-01-01T10:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function call(callId: string, overrides: Partial<NewIvrCall> = {}): NewIvrCall {
  return {
    callId,
    callerNumber: '098765 43210',
    callerPhone: '+919876543210',
    calledNumber: '+918044556677',
    calledAt: T0,
    leadId,
    leadCreated: false,
    ...overrides,
  };
}

describe('IVR call log', () => {
  it('logIvrCall stores a new call as received, and a repeat of its call id returns the stored row marked duplicate without writing', async () => {
    const first = await logIvrCall(db, call('c-1'));
    expect(first.duplicate).toBe(false);
    expect(first.call).toMatchObject({
      callId: 'c-1',
      status: 'received',
      leadId,
      callerPhone: '+919876543210',
      flowRunId: null,
      note: null,
    });

    const again = await logIvrCall(db, call('c-1', { callerNumber: 'something else', calledAt: minutes(5) }));

    expect(again).toEqual({ duplicate: true, call: first.call });
    expect((await listIvrCalls(db, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('two identical posts racing end with one row: one is new, the other a duplicate of it', async () => {
    const [a, b] = await Promise.all([logIvrCall(db, call('c-race')), logIvrCall(db, call('c-race'))]);

    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.call.id).toBe(b.call.id);
    expect((await listIvrCalls(db, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('listIvrCalls filters by status and by a [from, to) range of call times, newest first, in pages', async () => {
    for (let i = 0; i < 5; i++) await logIvrCall(db, call(`c-${i}`, { calledAt: minutes(i * 10) }));
    const c1 = await findIvrCallByCallId(db, 'c-1');
    await markIvrCallSkipped(db, { id: c1!.id, note: 'no_flow_for_number', at: T0 });

    const all = await listIvrCalls(db, { page: 1, pageSize: 2 });
    expect(all.total).toBe(5);
    expect(all.items.map((c) => c.callId)).toEqual(['c-4', 'c-3']);
    expect((await listIvrCalls(db, { page: 3, pageSize: 2 })).items.map((c) => c.callId)).toEqual(['c-0']);

    const inRange = await listIvrCalls(db, { page: 1, pageSize: 10, from: minutes(10), to: minutes(30) });
    expect(inRange.items.map((c) => c.callId)).toEqual(['c-2', 'c-1']);

    const received = await listIvrCalls(db, { page: 1, pageSize: 10, status: 'received', from: minutes(10) });
    expect(received).toMatchObject({ total: 3 });
    expect(received.items.map((c) => c.callId)).toEqual(['c-4', 'c-3', 'c-2']);
  });

  it('listReceivedIvrCalls returns only received calls, oldest first, up to the limit', async () => {
    for (let i = 0; i < 4; i++) await logIvrCall(db, call(`c-${i}`));
    const c0 = await findIvrCallByCallId(db, 'c-0');
    await markIvrCallProcessed(db, { id: c0!.id, flowRunId: 1, at: T0 });

    expect((await listReceivedIvrCalls(db, 2)).map((c) => c.callId)).toEqual(['c-1', 'c-2']);
    expect((await listReceivedIvrCalls(db, 10)).map((c) => c.callId)).toEqual(['c-1', 'c-2', 'c-3']);
  });

  it('marking a call settles it once: processed keeps its run id and time, and a later skip of the same call changes nothing', async () => {
    const { call: logged } = await logIvrCall(db, call('c-1'));

    expect(await markIvrCallProcessed(db, { id: logged.id, flowRunId: 42, at: minutes(1) })).toBe(true);
    expect(await markIvrCallSkipped(db, { id: logged.id, note: 'already_in_flow', at: minutes(2) })).toBe(false);
    expect(await markIvrCallProcessed(db, { id: logged.id, flowRunId: 43, at: minutes(3) })).toBe(false);

    expect(await findIvrCallByCallId(db, 'c-1')).toMatchObject({
      status: 'processed',
      flowRunId: 42,
      processedAt: minutes(1),
      note: null,
    });
  });

  it('a skipped call keeps its reason and the run that already had the lead', async () => {
    const { call: logged } = await logIvrCall(db, call('c-1'));

    expect(await markIvrCallSkipped(db, { id: logged.id, note: 'already_in_flow', flowRunId: 7, at: minutes(1) })).toBe(
      true,
    );

    expect(await findIvrCallByCallId(db, 'c-1')).toMatchObject({
      status: 'skipped',
      note: 'already_in_flow',
      flowRunId: 7,
      processedAt: minutes(1),
    });
  });
});
