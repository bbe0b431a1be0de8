import { dripWorkflowId } from '../../src/drips/contract';
import { createHmac } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, createAssignments, getSequence, listMessages } from '../../src/db/queries';
import { enrolLeads } from '../../src/drips/enrol';
import { sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const WEBHOOK_SECRET = 'test-webhook-secret';

/**
 * The admin API end to end on the Temporal dev server (real time, real visibility): HTTP in,
 * workflows started and signalled, sends through the emulator, status back by signed webhook.
 */
describe('drip API on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('api');

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    const app = createApp({
      db,
      temporal: env.client,
      taskQueue,
      sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
      defaultCountry: 'IN',
      interaktWebhookSecret: WEBHOOK_SECRET,
      log: silentLogger(),
    });
    api = await listen(app);
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
    });
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const createLead = async (name = 'Ravi Kumar', phone = nextPhone()) => {
    const response = await request('POST', '/leads', { name, phone });
    expect(response.status).toBe(201);
    return response.body as { id: number; phone: string };
  };

  const createSequence = async (
    steps: { templateName: string; delaySeconds: number }[],
    name = `seq-${Math.random()}`,
  ) => {
    const response = await request('POST', '/sequences', {
      name,
      steps: steps.map((step) => ({ ...step, templateLanguage: 'en', variables: { body: [{ field: 'name' }] } })),
    });
    expect(response.status).toBe(201);
    return response.body as { id: number; version: number };
  };

  /** A lead on a two-step drip that has sent step 1 and sleeps an hour before step 2. */
  const assignSleepingDrip = async (existingLead?: { id: number; phone: string }) => {
    const lead = existingLead ?? (await createLead());
    const sequence = await createSequence([
      { templateName: 'drip_day_1', delaySeconds: 0 },
      { templateName: 'drip_day_2', delaySeconds: 3600 },
    ]);
    const { assignmentId } = (await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] }))
      .body.assignments[0];
    await waitFor(
      async () => (await request('GET', `/assignments/${assignmentId}`)).body.nextStep === 1,
      'first step sent',
    );
    return { lead, sequence, assignmentId: assignmentId as number };
  };

  it('answers 401 without an API key or with a wrong one, and serves /health without one', async () => {
    const anonymous = apiClient(api.url);
    expect((await anonymous('GET', '/sequences')).status).toBe(401);
    expect((await apiClient(api.url, 'dl_not-a-real-key')('GET', '/sequences')).status).toBe(401);
    expect((await anonymous('POST', '/sequences', { name: 'x', steps: [] })).status).toBe(401);

    const health = await anonymous('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', database: { ok: true }, temporal: { ok: true } });
  });

  it('refuses a malformed sequence with 400 naming each bad field, and writes nothing', async () => {
    const before = (await request('GET', '/sequences?includeArchived=true')).body.total;

    const response = await request('POST', '/sequences', {
      name: '',
      steps: [{ templateName: 'Bad Name!', delaySeconds: -5 }],
    });

    expect(response.status).toBe(400);
    const paths = response.body.error.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'steps.0.templateName', 'steps.0.delaySeconds']));
    expect((await request('GET', '/sequences?includeArchived=true')).body.total).toBe(before);
    expect((await request('POST', '/sequences', '{"name": "broken json"')).status).toBe(400);
  });

  it('refuses a lead whose phone is not a mobile number, saying why, and writes nothing', async () => {
    const before = (await request('GET', '/leads')).body.total;
    const response = await request('POST', '/leads', { name: 'Nobody', phone: '12345' });
    expect(response.status).toBe(400);
    expect(response.body.error.issues[0]).toMatchObject({ path: 'phone' });
    expect((await request('GET', '/leads')).body.total).toBe(before);
  });

  it('refuses bad assignment payloads with 400 and starts nothing', async () => {
    const sequence = await createSequence([{ templateName: 'drip_day_1', delaySeconds: 0 }]);
    for (const body of [
      {},
      { leadIds: [] },
      { leadIds: ['x'] },
      { leadIds: Array.from({ length: 10_001 }, (_, i) => i + 1) },
    ]) {
      expect((await request('POST', `/sequences/${sequence.id}/assignments`, body)).status).toBe(400);
    }
    expect((await request('GET', `/assignments?sequenceId=${sequence.id}`)).body.total).toBe(0);
  });

  it('runs a two-step drip end to end: both messages logged, statuses from signed webhooks, run found by LeadId', async () => {
    const lead = await createLead('Meera Iyer');
    const sequence = await createSequence([
      { templateName: 'drip_day_1', delaySeconds: 0 },
      { templateName: 'drip_day_2', delaySeconds: 2 },
    ]);

    const assigned = await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] });
    expect(assigned.status).toBe(201);
    expect(assigned.body).toMatchObject({ started: 1, skipped: 0 });
    const { assignmentId, workflowId } = assigned.body.assignments[0];
    expect(workflowId).toBe(`drip-${assignmentId}`);

    const detail = await waitFor(
      async () => {
        const response = await request('GET', `/assignments/${assignmentId}`);
        const messages = response.body.messages as { status: string }[];
        return response.body.status === 'completed' &&
          messages.length === 2 &&
          messages.every((m) => m.status === 'read')
          ? response.body
          : null;
      },
      'both messages read',
      30_000,
    );
    expect(detail.messages.map((m: { templateName: string }) => m.templateName)).toEqual(['drip_day_1', 'drip_day_2']);
    expect(
      detail.messages.every((m: { deliveredAt: string | null; readAt: string | null }) => m.deliveredAt && m.readAt),
    ).toBe(true);
    expect(detail.events.map((event: { event: string }) => event.event)).toEqual([
      'started',
      'step_sent',
      'step_sent',
      'completed',
    ]);

    const found = await waitFor(async () => {
      const runs = [];
      for await (const run of env.client.workflow.list({ query: `LeadId = ${lead.id} AND FlowKind = 'drip'` }))
        runs.push(run.workflowId);
      return runs.length > 0 ? runs : null;
    }, 'visibility to index the run');
    expect(found).toEqual([workflowId]);
  });

  it('refuses to assign the same sequence to the same lead twice while the first is active (409)', async () => {
    const lead = await createLead();
    const sequence = await createSequence([
      { templateName: 'drip_day_1', delaySeconds: 0 },
      { templateName: 'drip_day_2', delaySeconds: 3600 },
    ]);
    const first = await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] });
    expect(first.status).toBe(201);

    const second = await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] });

    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'already_assigned',
      assignmentId: first.body.assignments[0].assignmentId,
    });
    expect((await request('GET', `/assignments?sequenceId=${sequence.id}&leadId=${lead.id}`)).body.total).toBe(1);
  });

  it('assigns many leads in one call and reports how many started and why others were skipped', async () => {
    const sequence = await createSequence([
      { templateName: 'drip_day_1', delaySeconds: 0 },
      { templateName: 'drip_day_2', delaySeconds: 3600 },
    ]);
    const leads = await Promise.all([createLead(), createLead(), createLead()]);
    const optedOut = await createLead();
    await request('PATCH', `/leads/${optedOut.id}`, { optedOut: true });
    const alreadyOn = await createLead();
    expect((await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [alreadyOn.id] })).status).toBe(
      201,
    );

    const response = await request('POST', `/sequences/${sequence.id}/assignments`, {
      leadIds: [...leads.map((lead) => lead.id), optedOut.id, alreadyOn.id, 999_999, leads[0]!.id],
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      started: 3,
      skipped: 4,
      skippedByReason: { opted_out: 1, already_assigned: 1, lead_not_found: 1, duplicate_in_request: 1 },
    });
    await waitFor(
      () => leads.every((lead) => harness.accepted().some((message) => message.phone === lead.phone)),
      'a first message to each started lead',
    );
    expect(harness.accepted().some((message) => message.phone === optedOut.phone)).toBe(false);
  });

  it('pauses, resumes and cancels an assignment through the API', async () => {
    const { lead, sequence, assignmentId } = await assignSleepingDrip();

    expect((await request('POST', `/assignments/${assignmentId}/pause`)).status).toBe(202);
    await waitFor(
      async () => (await request('GET', `/assignments/${assignmentId}`)).body.status === 'paused',
      'paused',
    );
    expect((await request('GET', `/assignments?status=paused&sequenceId=${sequence.id}`)).body.total).toBe(1);

    expect((await request('POST', `/assignments/${assignmentId}/resume`)).status).toBe(202);
    await waitFor(
      async () => (await request('GET', `/assignments/${assignmentId}`)).body.status === 'active',
      'active again',
    );

    expect((await request('POST', `/assignments/${assignmentId}/cancel`, { reason: 'sales asked' })).status).toBe(202);
    const cancelled = await waitFor(async () => {
      const body = (await request('GET', `/assignments/${assignmentId}`)).body;
      return body.status === 'cancelled' ? body : null;
    }, 'cancelled');
    expect(cancelled.stopReason).toBe('sales asked');
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(1);
    expect((await request('POST', `/assignments/${assignmentId}/resume`)).status).toBe(409);
  });

  it('stops every running drip of a lead at once when the lead opts out', async () => {
    const { lead, assignmentId: first } = await assignSleepingDrip();
    const { assignmentId: second } = await assignSleepingDrip(lead);

    expect((await request('PATCH', `/leads/${lead.id}`, { optedOut: true })).status).toBe(200);

    for (const assignmentId of [first, second]) {
      const stopped = await waitFor(async () => {
        const body = (await request('GET', `/assignments/${assignmentId}`)).body;
        return body.status === 'cancelled' ? body : null;
      }, `drip ${assignmentId} stopped`);
      expect(stopped.stopReason).toBe('opted_out');
    }
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(2);
  });

  it('keeps a running assignment on the steps it started with when the sequence is edited', async () => {
    const lead = await createLead();
    const sequence = await createSequence([
      { templateName: 'drip_day_1', delaySeconds: 0 },
      { templateName: 'drip_day_2', delaySeconds: 2 },
    ]);
    const { assignmentId } = (await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] }))
      .body.assignments[0];

    const edited = await request('PATCH', `/sequences/${sequence.id}`, {
      steps: [{ templateName: 'follow_up', delaySeconds: 0, variables: { body: [{ field: 'name' }] } }],
    });
    expect(edited.status).toBe(200);
    expect(edited.body.version).toBe(sequence.version + 1);

    await waitFor(
      async () => (await request('GET', `/assignments/${assignmentId}`)).body.status === 'completed',
      'completed',
      30_000,
    );
    const sent = harness.accepted().filter((message) => message.phone === lead.phone);
    expect(sent.map((message) => message.template.name)).toEqual(['drip_day_1', 'drip_day_2']);
  });

  it('starts an assignment whose workflow start was lost once it is stale, instead of refusing the lead forever', async () => {
    const lead = await createLead();
    const sequence = await createSequence([{ templateName: 'drip_day_1', delaySeconds: 0 }]);
    const full = await getSequence(db, sequence.id);
    // What an API process that died between the insert and the start leaves behind.
    const { created } = await createAssignments(
      db,
      [
        {
          leadId: lead.id,
          sequenceId: sequence.id,
          sequenceVersion: full!.version,
          steps: full!.steps.map(({ templateName, templateLanguage, delaySeconds, variables }) => ({
            templateName,
            templateLanguage,
            delaySeconds,
            variables,
          })),
        },
      ],
      dripWorkflowId,
    );
    const stuckId = created[0]!.id;

    const fresh = await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] });
    expect(fresh.status).toBe(409);

    const later = await enrolLeads(
      {
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        now: () => new Date(Date.now() + 120_000),
      },
      full!,
      [lead.id],
    );
    expect(later.started).toEqual([{ assignmentId: stuckId, leadId: lead.id, workflowId: `drip-${stuckId}` }]);
    await waitFor(
      async () => (await request('GET', `/assignments/${stuckId}`)).body.status === 'completed',
      'the recovered drip completed',
    );
    expect(harness.accepted().filter((message) => message.phone === lead.phone)).toHaveLength(1);
  });

  it('never sends twice when the provider accepted a send but its answer was lost: the webhook confirms it', async () => {
    const lead = await createLead();
    // Interakt records the message, then answers after the client's 2 s timeout.
    harness.emulator.emulator.state.injectFault({
      kind: 'accept_then_timeout',
      ms: 2_500,
      match: { phone: lead.phone },
    });
    const sequence = await createSequence([{ templateName: 'drip_day_1', delaySeconds: 0 }]);
    const { assignmentId } = (await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] }))
      .body.assignments[0];

    const done = await waitFor(
      async () => {
        const body = (await request('GET', `/assignments/${assignmentId}`)).body;
        return body.status === 'completed' ? body : null;
      },
      'drip completed',
      30_000,
    );

    const accepted = harness.accepted().filter((message) => message.phone === lead.phone);
    expect(accepted).toHaveLength(1);
    expect(done.messages).toHaveLength(1);
    expect(done.messages[0].providerMessageId).toBe(accepted[0]!.id);
  });

  it('rejects a webhook with a bad signature with 401 and changes nothing; the same body signed right applies', async () => {
    const state = harness.emulator.emulator.state;
    state.configureWebhooks({ autoWebhooks: false });
    try {
      const lead = await createLead();
      const sequence = await createSequence([{ templateName: 'drip_day_1', delaySeconds: 0 }]);
      const { assignmentId } = (await request('POST', `/sequences/${sequence.id}/assignments`, { leadIds: [lead.id] }))
        .body.assignments[0];
      const row = await waitFor(async () => {
        const page = await listMessages(db, {
          referenceType: 'drip',
          referenceId: String(assignmentId),
          page: 1,
          pageSize: 1,
        });
        return page.items[0]?.status === 'sent' ? page.items[0] : null;
      }, 'message accepted');

      const body = JSON.stringify({
        version: '1.0',
        timestamp: new Date().toISOString().replace('Z', ''),
        type: 'message_api_delivered',
        data: { message: { id: row.providerMessageId, message_status: 'Delivered' } },
      });
      const post = (secret: string) =>
        fetch(`${api.url}/webhooks/interakt`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'interakt-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
          body,
        });
      const readRow = async () =>
        (await listMessages(db, { referenceType: 'drip', referenceId: String(assignmentId), page: 1, pageSize: 1 }))
          .items[0];

      expect((await post('not-the-secret')).status).toBe(401);
      expect(await readRow()).toMatchObject({ status: 'sent', deliveredAt: null });

      expect((await post(WEBHOOK_SECRET)).status).toBe(200);
      expect(await readRow()).toMatchObject({ status: 'delivered' });
    } finally {
      state.configureWebhooks({ autoWebhooks: true });
    }
  });
});
