/**
 * IVR intake and processing against a real SQLite file and the Temporal dev server (the Java test
 * server refuses our search attributes, which the CTA start sets). No worker
 * runs: starting `cta-<leadId>-<flowId>` needs none, and describe() proves the start happened.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { normalizeIvrNumber, processIvrCalls, recordIvrCall, type IvrCallEvent } from '../../src/cta/ivr';
import { startCtaFlow, type CtaStartDeps } from '../../src/cta/start';
import type { Db } from '../../src/db/client';
import {
  applyCtaDecisionToLead,
  archiveCtaFlow,
  createLead,
  findCtaRun,
  findIvrCallByCallId,
  findLeadByPhone,
  listLeads,
  listReceivedIvrCalls,
} from '../../src/db/queries';
import { ctaWorkflowId } from '../../src/cta/contract';
import { sendTaskQueue } from '../../src/shared';
import { createTestDb } from '../support/db';
import { createIvrFlow, nextIvrLine, nextMobile } from '../support/ivr';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';

describe('IVR calls into CTA flows', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let deps: CtaStartDeps;
  const taskQueue = uniqueTaskQueue('ivr');
  const CALLED_AT = new Date('2030-01-01T09:30:00.000Z');
  let callCounter = 0;

  beforeAll(async () => {
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  /**
   * One database per describe, not per test: workflow ids are built from database ids, so a fresh
   * database per test would reuse `cta-1-1` on the same server. Each processing test processes
   * every received call, so none is left for the next.
   */
  function useDatabase(): void {
    beforeAll(async () => {
      db = await createTestDb();
      deps = { db, temporal: env.client, taskQueue, sendTaskQueue: sendTaskQueue(taskQueue, 'interakt') };
    });
    afterAll(async () => {
      await db?.close();
    });
  }

  const record = (event: IvrCallEvent) => recordIvrCall({ db, defaultCountry: 'IN' }, event);
  function callEvent(overrides: Partial<IvrCallEvent> = {}): IvrCallEvent {
    callCounter += 1;
    return {
      callId: `call-${callCounter}`,
      callerNumber: nextMobile(),
      calledNumber: '+918000000000',
      calledAt: CALLED_AT,
      ...overrides,
    };
  }
  const describeWorkflow = (leadId: number, flowId: number) =>
    env.client.workflow.getHandle(ctaWorkflowId(leadId, flowId)).describe();
  const leadCount = async () => (await listLeads(db, { page: 1, pageSize: 1 })).total;

  describe('recordIvrCall', () => {
    useDatabase();

    it('matches the existing lead whatever format the IVR writes the caller in, and logs the raw and E.164 numbers', async () => {
      const phone = nextMobile();
      const lead = await createLead(db, { name: 'Asha Rao', phone });
      const national = phone.slice(3);
      const formats = [
        `0${national}`,
        `+91 ${national.slice(0, 5)} ${national.slice(5)}`,
        `91${national}`,
        `0091${national}`,
      ];
      const before = await leadCount();

      for (const callerNumber of formats) {
        const { duplicate, call } = await record(callEvent({ callerNumber }));
        expect({
          duplicate,
          leadId: call.leadId,
          leadCreated: call.leadCreated,
          callerNumber: call.callerNumber,
          callerPhone: call.callerPhone,
        }).toEqual({
          duplicate: false,
          leadId: lead.id,
          leadCreated: false,
          callerNumber,
          callerPhone: phone,
        });
      }
      expect(await leadCount()).toBe(before);
    });

    it("creates an 'ivr' lead named after the last four digits for an unknown caller, and stores the called number as E.164", async () => {
      const phone = nextMobile();
      const line = nextIvrLine();

      const { duplicate, call } = await record(
        callEvent({ callerNumber: phone.slice(3), calledNumber: line.national }),
      );

      expect(duplicate).toBe(false);
      expect(call).toMatchObject({
        status: 'received',
        leadCreated: true,
        callerPhone: phone,
        calledNumber: line.e164,
        calledAt: CALLED_AT,
      });
      expect(await findLeadByPhone(db, phone)).toMatchObject({
        id: call.leadId,
        name: `IVR caller ${phone.slice(-4)}`,
        source: 'ivr',
      });
    });

    it('a repeat of a call id returns the stored row as a duplicate and writes nothing, not even a lead for a new caller', async () => {
      const first = await record(callEvent());
      const otherCaller = nextMobile();
      const leadsBefore = await leadCount();

      const again = await record(
        callEvent({ callId: first.call.callId, callerNumber: otherCaller, calledAt: new Date('2030-02-01T00:00:00Z') }),
      );

      expect(again).toEqual({ duplicate: true, call: first.call });
      expect(await leadCount()).toBe(leadsBefore);
      expect(await findLeadByPhone(db, otherCaller)).toBeUndefined();
    });

    it('identical posts of one call racing log one call and one lead: exactly one is new, the rest are duplicates of it', async () => {
      const event = callEvent();

      const results = await Promise.all(Array.from({ length: 5 }, () => record(event)));

      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.call.id)).size).toBe(1);
      expect((await listLeads(db, { page: 1, pageSize: 10, search: event.callerNumber })).total).toBe(1);
    });

    it('different calls from one new number racing end with one lead that every call points at', async () => {
      const callerNumber = nextMobile();

      const results = await Promise.all(Array.from({ length: 4 }, () => record(callEvent({ callerNumber }))));

      const lead = await findLeadByPhone(db, callerNumber);
      expect(results.map((r) => r.call.leadId)).toEqual(Array(4).fill(lead!.id));
      expect(results.every((r) => !r.duplicate)).toBe(true);
    });

    it('refuses a caller number that is not a reachable mobile with a InvalidInputError on callerNumber, writing nothing', async () => {
      const leadsBefore = await leadCount();
      for (const callerNumber of ['anonymous', '12345', '080 4455 6601']) {
        const event = callEvent({ callerNumber });
        const error = await record(event).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).issues).toEqual([
          { location: 'body', path: 'callerNumber', message: expect.any(String) },
        ]);
        expect(await findIvrCallByCallId(db, event.callId)).toBeUndefined();
      }
      expect(await leadCount()).toBe(leadsBefore);
    });
  });

  describe('processIvrCalls', () => {
    useDatabase();

    it('starts cta-<leadId>-<flowId> for the flow of the number called and marks the call processed; a second pass does nothing', async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const { call } = await record(callEvent({ calledNumber: line.national }));

      const result = await processIvrCalls(deps, { limit: 10 });

      const run = await findCtaRun(db, { flowId: flow.id, leadId: call.leadId });
      expect(run).toMatchObject({ trigger: 'ivr', ivrCallId: call.id, workflowId: `cta-${call.leadId}-${flow.id}` });
      expect(result).toEqual({
        processed: 1,
        skipped: 0,
        failed: 0,
        inProgress: 0,
        results: [{ callId: call.callId, outcome: 'processed', runId: run!.id }],
      });
      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({
        status: 'processed',
        flowRunId: run!.id,
        processedAt: expect.any(Date),
        note: null,
      });
      const started = await describeWorkflow(call.leadId, flow.id);
      expect({ type: started.type, status: started.status.name, taskQueue: started.taskQueue }).toEqual({
        type: 'ctaWorkflow',
        status: 'RUNNING',
        taskQueue,
      });

      const again = await processIvrCalls(deps, { limit: 10 });

      expect(again).toEqual({ processed: 0, skipped: 0, failed: 0, inProgress: 0, results: [] });
      expect((await describeWorkflow(call.leadId, flow.id)).runId).toBe(started.runId);
    });

    it("skips a call to a number no live flow answers with the note 'no_flow_for_number' and starts nothing", async () => {
      const line = nextIvrLine();
      const archived = await createIvrFlow(db, { ivrNumber: line.e164 });
      await archiveCtaFlow(db, archived.id);
      const { call } = await record(callEvent({ calledNumber: line.e164 }));

      const result = await processIvrCalls(deps, { limit: 10 });

      expect(result.results).toEqual([{ callId: call.callId, outcome: 'skipped', reason: 'no_flow_for_number' }]);
      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({
        status: 'skipped',
        note: 'no_flow_for_number',
        flowRunId: null,
      });
      await expect(describeWorkflow(call.leadId, archived.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    it("skips a call of a lead already in the flow with 'already_in_flow' and the run it is in", async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const lead = await createLead(db, { name: 'Ravi', phone: nextMobile() });
      const earlier = await startCtaFlow(deps, { flowId: flow.id, leadId: lead.id, trigger: 'api' });
      expect(earlier.kind).toBe('started');
      const { call } = await record(callEvent({ callerNumber: lead.phone, calledNumber: line.e164 }));

      const result = await processIvrCalls(deps, { limit: 10 });

      expect(result.results).toEqual([
        { callId: call.callId, outcome: 'skipped', reason: 'already_in_flow', runId: earlier.run!.id },
      ]);
      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({
        status: 'skipped',
        note: 'already_in_flow',
        flowRunId: earlier.run!.id,
      });
    });

    it('two calls of one lead in one pass: the first starts the flow, the second is skipped as already in it', async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const callerNumber = nextMobile();
      const first = await record(callEvent({ callerNumber, calledNumber: line.e164 }));
      const second = await record(callEvent({ callerNumber, calledNumber: line.e164 }));

      const result = await processIvrCalls(deps, { limit: 10 });

      const run = await findCtaRun(db, { flowId: flow.id, leadId: first.call.leadId });
      expect(result.results).toEqual([
        { callId: first.call.callId, outcome: 'processed', runId: run!.id },
        { callId: second.call.callId, outcome: 'skipped', reason: 'already_in_flow', runId: run!.id },
      ]);
    });

    it("skips an opted-out lead's call with 'opted_out' and a suppressed lead's with 'suppressed', starting no workflow", async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const optedOut = await createLead(db, { name: 'Out', phone: nextMobile(), optedOut: true });
      const suppressed = await createLead(db, { name: 'Cold', phone: nextMobile() });
      await applyCtaDecisionToLead(db, {
        leadId: suppressed.id,
        status: 'Not interested',
        stage: 'Cold',
        suppress: true,
        at: new Date(),
      });
      const a = await record(callEvent({ callerNumber: optedOut.phone, calledNumber: line.e164 }));
      const b = await record(callEvent({ callerNumber: suppressed.phone, calledNumber: line.e164 }));

      const result = await processIvrCalls(deps, { limit: 10 });

      expect(result).toMatchObject({ processed: 0, skipped: 2, failed: 0 });
      expect(result.results).toEqual([
        { callId: a.call.callId, outcome: 'skipped', reason: 'opted_out' },
        { callId: b.call.callId, outcome: 'skipped', reason: 'suppressed' },
      ]);
      expect(await findIvrCallByCallId(db, a.call.callId)).toMatchObject({ status: 'skipped', note: 'opted_out' });
      await expect(describeWorkflow(optedOut.id, flow.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await expect(describeWorkflow(suppressed.id, flow.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    it('takes received calls oldest first up to the limit, and with a flow id puts them into that flow whatever number they called', async () => {
      const flow = await createIvrFlow(db, { ivrNumber: null });
      const calls = [];
      for (let i = 0; i < 3; i++) calls.push((await record(callEvent({ calledNumber: '+918000000000' }))).call);

      const first = await processIvrCalls(deps, { limit: 2, flowId: flow.id });

      expect(first.results.map((r) => [r.callId, r.outcome])).toEqual([
        [calls[0]!.callId, 'processed'],
        [calls[1]!.callId, 'processed'],
      ]);
      expect((await listReceivedIvrCalls(db, 10)).map((c) => c.callId)).toEqual([calls[2]!.callId]);
      expect((await describeWorkflow(calls[0]!.leadId, flow.id)).status.name).toBe('RUNNING');

      const rest = await processIvrCalls(deps, { limit: 2, flowId: flow.id });
      expect(rest.results).toEqual([{ callId: calls[2]!.callId, outcome: 'processed', runId: expect.any(Number) }]);
    });

    it('refuses an unknown flow id before touching any call', async () => {
      const { call } = await record(callEvent());

      await expect(processIvrCalls(deps, { limit: 10, flowId: 999_999 })).rejects.toMatchObject({
        kind: 'not_found',
        code: 'not_found',
      });

      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'received' });
      await processIvrCalls(deps, { limit: 10 }); // leaves no received call for the next test
    });

    it('two passes at once start each flow once, and every call ends processed with its run', async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const calls = [];
      for (let i = 0; i < 3; i++) calls.push((await record(callEvent({ calledNumber: line.e164 }))).call);

      const [a, b] = await Promise.all([processIvrCalls(deps, { limit: 10 }), processIvrCalls(deps, { limit: 10 })]);

      for (const result of [...a.results, ...b.results]) expect(['processed', 'in_progress']).toContain(result.outcome);
      for (const call of calls) {
        const run = await findCtaRun(db, { flowId: flow.id, leadId: call.leadId });
        expect(run).toMatchObject({ ivrCallId: call.id });
        expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'processed', flowRunId: run!.id });
        expect((await describeWorkflow(call.leadId, flow.id)).status.name).toBe('RUNNING');
      }
      expect(await listReceivedIvrCalls(db, 10)).toEqual([]);
    });

    it('a start that throws because Temporal is unreachable leaves the call received and reports it failed; the next pass starts it', async () => {
      const line = nextIvrLine();
      const flow = await createIvrFlow(db, { ivrNumber: line.e164 });
      const { call } = await record(callEvent({ calledNumber: line.e164 }));
      // Nothing listens on port 1; no retry interceptor, so the start fails at once.
      const down = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });

      const result = await processIvrCalls({ ...deps, temporal: down }, { limit: 10 });

      expect(result).toMatchObject({ processed: 0, skipped: 0, failed: 1 });
      expect(result.results).toEqual([{ callId: call.callId, outcome: 'failed', reason: expect.any(String) }]);
      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({
        status: 'received',
        flowRunId: null,
        processedAt: null,
      });
      await expect(describeWorkflow(call.leadId, flow.id)).rejects.toBeInstanceOf(WorkflowNotFoundError);

      // Temporal is back: the run claimed by the failed pass is started, not skipped as taken.
      const retried = await processIvrCalls(deps, { limit: 10 });
      expect(retried.results).toEqual([{ callId: call.callId, outcome: 'processed', runId: expect.any(Number) }]);
      expect(await findIvrCallByCallId(db, call.callId)).toMatchObject({ status: 'processed' });
      expect((await describeWorkflow(call.leadId, flow.id)).status.name).toBe('RUNNING');
    });
  });

  it('normalizeIvrNumber reads landline and toll-free IVR lines as E.164 and keeps anything else as written', () => {
    expect(normalizeIvrNumber('080 4455 6601', 'IN')).toBe('+918044556601');
    expect(normalizeIvrNumber('+91 80 4455 6601', 'IN')).toBe('+918044556601');
    expect(normalizeIvrNumber('1800 123 4567', 'IN')).toBe('+9118001234567');
    expect(normalizeIvrNumber(' 5555 ', 'IN')).toBe('5555');
  });
});
