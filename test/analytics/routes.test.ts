import { createHmac } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client';
import {
  claimOutgoingMessage,
  createApiKey,
  createAssignments,
  createCampaign,
  createLead,
  createSequence,
  listMessages,
  markMessageAccepted,
  markMessageFailed,
  updateAssignment,
  updateCampaign,
  type Lead,
} from '../../src/db/queries';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';
import { openStream } from '../support/sse';

const WEBHOOK_SECRET = 'analytics-webhook-secret';
const HOUR = 3_600_000;

/**
 * The analytics routes over HTTP on a real SQLite file: sends are recorded as the worker records
 * them (claim, accept or fail), and everything after that (deliveries, reads, failures, replies)
 * arrives as signed Interakt webhooks through the API, so the numbers are those the webhooks made.
 * No workflow runs here: Temporal is a lazy client that never connects.
 */
describe('analytics routes', () => {
  let db: Db;
  let api: RunningApp;
  let pipeline: WebhookPipeline;
  let request: ReturnType<typeof apiClient>;
  let agent: ReturnType<typeof apiClient>;
  let apiKey: string;
  let leads: Lead[];
  let sequenceId: number;
  let assignmentIds: number[];
  const providerIds = new Map<string, string>();

  beforeAll(async () => {
    db = await createTestDb();
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    api = await listen(
      createApp({
        db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
        taskQueue: 'analytics',
        sendTaskQueue: 'analytics-sends-interakt',
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        log: silentLogger(),
        webhookPipeline: pipeline,
        liveLog: { maxStreams: 1 },
      }),
    );
    const admin = generateApiKey();
    await createApiKey(db, { name: 'admin', keyHash: admin.keyHash, keyPrefix: admin.keyPrefix });
    apiKey = admin.key;
    request = apiClient(api.url, admin.key);
    const agentKey = generateApiKey();
    await createApiKey(db, {
      name: 'agent',
      keyHash: agentKey.keyHash,
      keyPrefix: agentKey.keyPrefix,
      role: 'agent',
    });
    agent = apiClient(api.url, agentKey.key);

    leads = [];
    for (let i = 0; i < 4; i++) {
      leads.push(await createLead(db, { name: `Lead ${i}`, phone: `+9198765432${10 + i}` }));
    }
    const sequence = await createSequence(db, {
      name: 'Welcome series',
      steps: [
        { templateName: 'drip_day_1', templateLanguage: 'en', delaySeconds: 0, variables: {} },
        { templateName: 'drip_day_2', templateLanguage: 'en', delaySeconds: 60, variables: {} },
      ],
    });
    sequenceId = sequence.id;
    const { created } = await createAssignments(
      db,
      leads.slice(0, 3).map((lead) => ({ leadId: lead.id, sequenceId, sequenceVersion: 1, steps: [] })),
      (id) => `drip-${id}`,
    );
    assignmentIds = created.map((a) => a.id);
  });

  afterAll(async () => {
    await api?.close();
    await pipeline?.close();
    await db?.close();
  });

  /** Records a drip step's send as the worker does: the claim, then the provider's answer. */
  async function send(
    assignment: number,
    step: number,
    sentAt: Date,
    outcome: 'accepted' | { errorCode: string } = 'accepted',
  ) {
    const lead = leads[assignmentIds.indexOf(assignment)]!;
    const key = `drip-${assignment}:${step}`;
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: key,
      leadId: lead.id,
      phone: lead.phone,
      provider: 'interakt',
      templateName: step === 0 ? 'drip_day_1' : 'drip_day_2',
      templateLanguage: 'en',
      messageContent: { bodyValues: [lead.name] },
      referenceType: 'drip',
      referenceId: String(assignment),
      workflowId: `drip-${assignment}`,
      stepIndex: step,
      callbackData: key,
    });
    if (outcome === 'accepted') {
      providerIds.set(key, `prov-${key}`);
      await markMessageAccepted(db, { id: row.id, providerMessageId: `prov-${key}`, at: sentAt });
    } else {
      await markMessageFailed(db, { id: row.id, errorCode: outcome.errorCode, errorMessage: 'refused', at: sentAt });
    }
    return row;
  }

  const signed = (body: string) => `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
  async function postWebhook(payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    const response = await fetch(`${api.url}/webhooks/interakt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'interakt-signature': signed(body) },
      body,
    });
    expect(response.status).toBe(200);
    await pipeline.processor.idle();
  }
  /** Interakt's timestamps: UTC without a zone. */
  const utc = (date: Date) => date.toISOString().replace('Z', '');
  const status = (key: string, type: string, extra: Record<string, unknown> = {}) =>
    postWebhook({
      version: '1.0',
      timestamp: utc(new Date()),
      type,
      data: {
        message: {
          id: providerIds.get(key),
          delivered_at_utc: utc(new Date()),
          seen_at_utc: utc(new Date()),
          ...extra,
        },
      },
    });
  let inboundSeq = 0;
  const reply = (lead: Lead, text: string) =>
    postWebhook({
      version: '1.0',
      timestamp: utc(new Date()),
      type: 'message_received',
      data: {
        customer: { channel_phone_number: lead.phone.slice(1) },
        message: { id: `in-${++inboundSeq}`, message: text, received_at_utc: utc(new Date()) },
      },
    });

  const funnel = async (query = '') => {
    const response = await request('GET', `/analytics/drips/${sequenceId}/funnel${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  describe('the drip funnel', () => {
    beforeAll(async () => {
      const now = Date.now();
      const [a1, a2, a3] = assignmentIds as [number, number, number];
      await send(a1, 0, new Date(now - 2 * HOUR));
      await send(a2, 0, new Date(now - 2 * HOUR));
      await send(a3, 0, new Date(now - 2 * HOUR), { errorCode: '1013' });
      await send(a1, 1, new Date(now - HOUR / 2));
      await status(`drip-${a1}:0`, 'message_api_delivered');
      await status(`drip-${a1}:0`, 'message_api_read');
      await status(`drip-${a2}:0`, 'message_api_delivered');
      await reply(leads[0]!, 'Tell me more');
      await updateAssignment(db, a1, { status: 'completed', nextStep: 2 });
      await updateAssignment(db, a2, { status: 'cancelled', stopReason: 'opted_out', nextStep: 1 });
      await updateAssignment(db, a3, { status: 'failed', lastError: 'refused', nextStep: 0 });
    });

    it('counts each step from the sends and the webhooks: reached, sent, delivered, read, replied, failed by code', async () => {
      const body = await funnel();
      expect(body).toMatchObject({ sequenceId, sequenceName: 'Welcome series', replyWindowHours: 24 });
      expect(body.steps).toEqual([
        {
          stepIndex: 0,
          templateName: 'drip_day_1',
          reached: 3,
          total: 3,
          sent: 2,
          delivered: 2,
          read: 1,
          replied: 1,
          failed: 1,
          pending: 0,
          deliveryRate: 1,
          readRate: 0.5,
          replyRate: 0.5,
          failures: [{ errorCode: '1013', errorMessage: 'refused', count: 1 }],
        },
        {
          stepIndex: 1,
          templateName: 'drip_day_2',
          reached: 1,
          total: 1,
          sent: 1,
          delivered: 0,
          read: 0,
          replied: 1,
          failed: 0,
          pending: 0,
          deliveryRate: 0,
          readRate: 0,
          replyRate: 1,
          failures: [],
        },
      ]);
    });

    it('counts the outcomes of the assignments: completed, cancelled by reason, failed', async () => {
      expect((await funnel()).outcomes).toEqual({
        assignments: 3,
        pending: 0,
        active: 0,
        paused: 0,
        completed: 1,
        cancelled: 1,
        failed: 1,
        cancelledByReason: [{ reason: 'opted_out', count: 1 }],
      });
    });

    it('counts a reply only within the reply window after the send', async () => {
      // The reply came 2 h after step 0 and 30 min after step 1.
      const steps = (await funnel('?replyWindowHours=1')).steps;
      expect(steps.map((s: { replied: number }) => s.replied)).toEqual([0, 1]);
    });

    it('changes when a late webhook arrives: a delivery and read of step 1, a failure after acceptance', async () => {
      const [a1, a2] = assignmentIds as [number, number];
      await send(a2, 1, new Date(Date.now() - HOUR / 4));
      await status(`drip-${a1}:1`, 'message_api_read');
      await status(`drip-${a1}:1`, 'message_api_delivered');
      await status(`drip-${a2}:1`, 'message_api_failed', {
        channel_error_code: '131026',
        channel_failure_reason: 'Message undeliverable',
      });
      const [, step1] = (await funnel()).steps;
      expect(step1).toMatchObject({
        reached: 2,
        sent: 2,
        delivered: 1,
        read: 1,
        replied: 1,
        failed: 1,
        failures: [{ errorCode: '131026', errorMessage: 'Message undeliverable', count: 1 }],
      });
    });

    it('answers 404 for a sequence that does not exist', async () => {
      const response = await request('GET', '/analytics/drips/999999/funnel');
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    });

    it('gives the same outcomes for one assignment through GET /analytics/outcomes', async () => {
      const [a1] = assignmentIds as [number];
      const response = await request('GET', `/analytics/outcomes?referenceType=drip&referenceId=${a1}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ total: 2, sent: 2, delivered: 2, read: 2, replied: 2, failed: 0 });
    });
  });

  describe('the KPIs of a period', () => {
    it('count contacts, the sends of the period with their outcomes, response times and running work', async () => {
      const response = await agent('GET', '/analytics/kpis');
      expect(response.status).toBe(200);
      const body = response.body;
      // Every send above was created in the last 30 days: 3 of step 0, 2 of step 1.
      expect(body.messages).toEqual({
        total: 5,
        sent: 4,
        delivered: 3,
        read: 2,
        replied: 2,
        failed: 2,
        pending: 0,
        deliveryRate: 0.75,
        readRate: 0.5,
        replyRate: 0.5,
      });
      expect(body.contacts).toMatchObject({ total: 4, totalAtStart: 0, newInPeriod: 4 });
      const created = body.contacts.months.reduce((sum: number, m: { created: number }) => sum + m.created, 0);
      expect(created).toBe(4);
      // One reply, stored after every send created so far: nothing answered it yet.
      expect(body.responseTime).toEqual({ inbound: 1, answered: 0, medianMs: null, p90Ms: null });
      expect(body.running).toEqual({ drips: 0, campaigns: 0, ctaFlows: 0, ctaRunsOpen: 0 });
    });

    it('count the campaigns scheduled, running or paused as running, not drafts or finished ones', async () => {
      for (const status of ['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled', 'failed'] as const) {
        const campaign = await createCampaign(db, {
          name: `kpi ${status}`,
          templateName: 'drip_day_1',
          templateLanguage: 'en',
          variables: {},
          leadIds: [leads[0]!.id],
        });
        await updateCampaign(db, campaign.id, { status });
      }
      const response = await agent('GET', '/analytics/kpis');
      expect(response.status).toBe(200);
      expect(response.body.running.campaigns).toBe(3);
    });

    it('measure the time from an inbound message to the next outgoing one, median and p90', async () => {
      // Lead 3 writes twice; one outgoing message answers both.
      const lead = leads[3]!;
      await reply(lead, 'Hello?');
      await reply(lead, 'Anyone?');
      await claimOutgoingMessage(db, {
        idempotencyKey: 'manual-answer-1',
        leadId: lead.id,
        phone: lead.phone,
        provider: 'interakt',
        templateName: 'follow_up',
        templateLanguage: 'en',
        messageContent: {},
        referenceType: 'manual',
        referenceId: 'agent-1',
        workflowId: null,
        stepIndex: null,
        callbackData: 'manual-answer-1',
      });
      const rows = (await listMessages(db, { leadId: lead.id, order: 'asc', page: 1, pageSize: 10 })).items;
      const answerAt = rows.at(-1)!.createdAt.getTime();
      const waits = rows
        .filter((row) => row.direction === 'incoming')
        .map((row) => answerAt - row.createdAt.getTime())
        .sort((a, b) => a - b);
      const body = (await request('GET', '/analytics/kpis')).body;
      // Nearest rank: the median of two is the first, the p90 the second.
      expect(body.responseTime).toEqual({ inbound: 3, answered: 2, medianMs: waits[0], p90Ms: waits[1] });
      expect(body.messages.total).toBe(6);
    });

    it('count the contacts created per month of the period, with the growth rate over those before', async () => {
      // Two contacts before the period's months end, two after it.
      const createdAt = [Date.UTC(2030, 0, 15), Date.UTC(2030, 1, 10), Date.UTC(2030, 3, 1), Date.UTC(2030, 3, 2)];
      for (const [i, lead] of leads.entries()) {
        await db.orm
          .update(db.schema.clients)
          .set({ createdAt: new Date(createdAt[i]!) })
          .where(eq(db.schema.clients.id, lead.id));
      }
      const body = (await request('GET', '/analytics/kpis?from=2030-01-20&to=2030-03-01')).body;
      expect(body.contacts).toEqual({
        total: 2,
        totalAtStart: 1,
        newInPeriod: 1,
        months: [
          {
            month: '2030-01',
            from: '2030-01-20T00:00:00.000Z',
            to: '2030-02-01T00:00:00.000Z',
            created: 0,
            totalBefore: 1,
            growthRate: 0,
          },
          {
            month: '2030-02',
            from: '2030-02-01T00:00:00.000Z',
            to: '2030-03-01T00:00:00.000Z',
            created: 1,
            totalBefore: 1,
            growthRate: 1,
          },
        ],
      });
      expect(body.messages.total).toBe(0);
    });
  });

  describe('a conversation', () => {
    it('pages through every message of the lead in both directions, in time order, without gaps or repeats', async () => {
      const lead = leads[0]!;
      const all = (await listMessages(db, { leadId: lead.id, order: 'asc', page: 1, pageSize: 100 })).items;
      expect(new Set(all.map((m) => m.direction))).toEqual(new Set(['outgoing', 'incoming']));
      const seen: any[] = [];
      let cursor: string | null = null;
      do {
        const response: any = await request(
          'GET',
          `/analytics/conversations/${lead.id}?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(response.status).toBe(200);
        seen.push(...response.body.items);
        cursor = response.body.nextCursor;
      } while (cursor);
      expect(seen.map((m) => m.id)).toEqual(
        [...all].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id).map((m) => m.id),
      );
      expect(seen.find((m) => m.direction === 'incoming')).toMatchObject({
        tick: null,
        content: { text: 'Tell me more' },
      });
      expect(seen.find((m) => m.stepIndex === 0)).toMatchObject({ tick: 'read', templateName: 'drip_day_1' });
      expect(JSON.stringify(seen)).not.toContain(lead.phone.slice(1));
    });

    it('keeps paging stable while new messages arrive, and newest first with order=desc', async () => {
      const lead = leads[1]!;
      const first = (await request('GET', `/analytics/conversations/${lead.id}?limit=1`)).body;
      await reply(lead, 'A new message while paging');
      const rest = (await request('GET', `/analytics/conversations/${lead.id}?limit=50&cursor=${first.nextCursor}`))
        .body;
      const ids = [...first.items, ...rest.items].map((m: { id: number }) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(rest.items.at(-1).content).toEqual({ text: 'A new message while paging', contentType: null });
      const desc = (await request('GET', `/analytics/conversations/${lead.id}?order=desc`)).body;
      expect(desc.items.map((m: { id: number }) => m.id)).toEqual([...ids].reverse());
      expect(desc.nextCursor).toBeNull();
    });

    it("streams the lead's new messages in both directions, and only that lead's", async () => {
      const lead = leads[2]!;
      const stream = await openStream(`${api.url}/analytics/conversations/${lead.id}/stream`, apiKey);
      try {
        expect(stream.response.status).toBe(200);
        await reply(leads[3]!, 'Not for this stream');
        await reply(lead, 'Streamed reply');
        const [a3] = assignmentIds.slice(2) as [number];
        await send(a3, 1, new Date());
        const deadline = Date.now() + 10_000;
        while (stream.events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const messages = stream.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data!));
        expect(messages.map((m) => [m.direction, m.tick])).toEqual([
          ['incoming', null],
          ['outgoing', 'sent'],
        ]);
        expect(messages[0].content.text).toBe('Streamed reply');
        expect(messages[0]).not.toHaveProperty('phone');
      } finally {
        await stream.close();
      }
    });
  });

  describe('bad parameters', () => {
    it.each([
      ['/analytics/kpis?from=2030-01-01&to=2031-03-01', 'from'],
      ['/analytics/kpis?from=2030-02-01&to=2030-01-01', 'to'],
      ['/analytics/kpis?from=1999-12-31', 'from'],
      ['/analytics/kpis?to=not-a-date', 'to'],
      ['/analytics/kpis?replyWindowHours=0', 'replyWindowHours'],
      ['/analytics/kpis?replyWindowHours=721', 'replyWindowHours'],
      ['/analytics/drips/0/funnel', 'sequenceId'],
      ['/analytics/drips/2147483648/funnel', 'sequenceId'],
      ['/analytics/drips/1/funnel?replyWindowHours=1.5', 'replyWindowHours'],
      ['/analytics/outcomes?referenceType=nope&referenceId=1', 'referenceType'],
      [`/analytics/outcomes?referenceType=drip&referenceId=${'9'.repeat(65)}`, 'referenceId'],
      ['/analytics/conversations/1?limit=201', 'limit'],
      ['/analytics/conversations/1?cursor=abc', 'cursor'],
      ['/analytics/conversations/1?cursor=9999999999999999-1', 'cursor'],
      ['/analytics/conversations/1?cursor=1-0', 'cursor'],
      ['/analytics/conversations/1?order=sideways', 'order'],
    ])('GET %s answers 400 naming %s, and changes nothing', async (path, field) => {
      const before = await listMessages(db, { page: 1, pageSize: 500 });
      const response = await request('GET', path);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.issues.map((i: { path: string }) => i.path)).toContain(field);
      expect(await listMessages(db, { page: 1, pageSize: 500 })).toEqual(before);
    });

    it('answers 404 for the conversation of a lead that does not exist', async () => {
      expect((await request('GET', '/analytics/conversations/999999')).status).toBe(404);
      expect((await request('GET', '/analytics/conversations/999999/stream')).status).toBe(404);
    });

    it('refuses a second conversation stream past the bound with 503 and Retry-After', async () => {
      const lead = leads[0]!;
      const first = await openStream(`${api.url}/analytics/conversations/${lead.id}/stream`, apiKey);
      try {
        const second = await fetch(`${api.url}/analytics/conversations/${lead.id}/stream`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        expect(second.status).toBe(503);
        expect(second.headers.get('retry-after')).toBe('10');
        expect(((await second.json()) as any).error.code).toBe('too_many_streams');
      } finally {
        await first.close();
      }
    });
  });
});
