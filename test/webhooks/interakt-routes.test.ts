import { createHmac } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, getLead, listMessages, listWebhookEvents } from '../../src/db/queries';
import type { WebhookDelivery } from '../../src/emulators/interakt';
import { sendTaskQueue } from '../../src/shared';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { apiClient, listen, type RunningApp } from '../support/api';
import { openStream } from '../support/sse';
import { createTestDb } from '../support/db';
import { nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { silentLogger } from '../support/logs';

const WEBHOOK_SECRET = 'test-webhook-secret';

/** The timestamp a delivery carried for `field` (Interakt sends UTC without a zone). */
const stamp = (delivery: WebhookDelivery, field: 'delivered_at_utc' | 'seen_at_utc' | 'received_at_utc'): Date =>
  new Date(`${(JSON.parse(delivery.rawBody) as { data: { message: Record<string, string> } }).data.message[field]}Z`);

/**
 * Signed Interakt webhooks end to end on the dev server: status reports applied exactly once and
 * monotonically, replies stored and ending stop-on-reply drips, and the live log that shows it.
 * Status webhooks are posted by hand here (automatic ones are off), so order and repeats are ours.
 */
describe('Interakt webhooks and the live log', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let apiKey: string;
  let request: ReturnType<typeof apiClient>;
  let pipeline: WebhookPipeline;
  const taskQueue = uniqueTaskQueue('webhooks');
  /** Status webhooks are acknowledged once stored and applied right after: wait for that. */
  const applied = () => pipeline.processor.idle();

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        log: silentLogger(),
        webhookPipeline: pipeline,
      }),
    );
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
    });
    harness.emulator.emulator.state.configureWebhooks({ autoWebhooks: false });
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    apiKey = key;
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await pipeline?.close();
    await env?.teardown();
    await db?.close();
  });

  const state = () => harness.emulator.emulator.state;

  async function createLead() {
    const response = await request('POST', '/leads', { name: 'Kiran Shah', phone: nextPhone() });
    expect(response.status).toBe(201);
    return response.body as { id: number; phone: string };
  }

  async function startDrip(leadId: number, options: { stopOnReply?: boolean; delays?: number[] } = {}) {
    const sequence = await request('POST', '/sequences', {
      name: `seq-${Math.random()}`,
      stopOnReply: options.stopOnReply ?? false,
      steps: (options.delays ?? [0]).map((delaySeconds, index) => ({
        templateName: `drip_day_${index + 1}`,
        templateLanguage: 'en',
        delaySeconds,
        variables: { body: [{ field: 'name' }] },
      })),
    });
    expect(sequence.status).toBe(201);
    const assigned = await request('POST', `/sequences/${sequence.body.id}/assignments`, { leadIds: [leadId] });
    expect(assigned.status).toBe(201);
    return assigned.body.assignments[0].assignmentId as number;
  }

  /** The first message of the drip once the provider accepted it (status 'sent'). */
  const firstMessage = (assignmentId: number) =>
    waitFor(async () => {
      const page = await listMessages(db, {
        referenceType: 'drip',
        referenceId: String(assignmentId),
        order: 'asc',
        page: 1,
        pageSize: 1,
      });
      return page.items[0]?.status === 'sent' ? page.items[0] : null;
    }, `drip ${assignmentId} first message accepted`);

  const signed = (body: string, secret = WEBHOOK_SECRET) =>
    `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const post = (body: string, signature?: string) =>
    fetch(`${api.url}/webhooks/interakt`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature !== undefined && { 'interakt-signature': signature }),
      },
      body,
    });

  it('answers 401 to every bad signature and writes nothing to the message log or the event ledger', async () => {
    const lead = await createLead();
    const message = await firstMessage(await startDrip(lead.id));
    const body = JSON.stringify({
      version: '1.0',
      timestamp: '2030-01-01T00:00:00',
      type: 'message_api_read',
      data: { message: { id: message.providerMessageId } },
    });
    const inbound = JSON.stringify({
      type: 'message_received',
      data: { customer: { channel_phone_number: lead.phone.slice(1) }, message: { id: 'forged-in', message: 'STOP' } },
    });
    const snapshot = async () => ({
      messages: (await listMessages(db, { page: 1, pageSize: 500 })).items,
      events: (await listWebhookEvents(db, { page: 1, pageSize: 500 })).total,
    });
    const before = await snapshot();

    for (const [payload, signature] of [
      [body, signed(body, 'not-the-secret')],
      [body, undefined],
      [body, 'sha256=zz'],
      [body, signed(`${body} `)],
      [inbound, signed(inbound, 'not-the-secret')],
    ] as const) {
      const response = await post(payload, signature);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    }
    expect(await snapshot()).toEqual(before);
  });

  it("ends at read with each status's own timestamp when webhooks arrive duplicated and out of order", async () => {
    const lead = await createLead();
    const message = await firstMessage(await startDrip(lead.id));
    const id = message.providerMessageId!;

    const read = await state().deliverWebhook(id, 'message_api_read');
    const delivered = await state().deliverWebhook(id, 'message_api_delivered');
    await state().deliverWebhook(id, 'message_api_read');
    await state().deliverWebhook(id, 'message_api_sent');
    await state().deliverWebhook(id, 'message_api_delivered');
    expect(
      state()
        .webhookDeliveries()
        .filter((d) => d.messageId === id)
        .map((d) => d.responseStatus),
    ).toEqual([200, 200, 200, 200, 200]);

    await applied();
    const [row] = (
      await listMessages(db, { referenceType: 'drip', referenceId: message.referenceId!, page: 1, pageSize: 1 })
    ).items;
    expect(row).toMatchObject({
      status: 'read',
      sentAt: message.sentAt,
      readAt: stamp(read, 'seen_at_utc'),
      deliveredAt: stamp(delivered, 'delivered_at_utc'),
    });
    const events = await listWebhookEvents(db, { providerMessageId: id, page: 1, pageSize: 10 });
    expect(events.items.map((e) => [e.eventType, e.outcome]).sort()).toEqual([
      ['message_api_delivered', 'applied'],
      ['message_api_read', 'applied'],
      ['message_api_sent', 'unchanged'],
    ]);
  });

  it('keeps a failure with its reason and code; a repeated failure changes nothing', async () => {
    const lead = await createLead();
    const message = await firstMessage(await startDrip(lead.id));
    const id = message.providerMessageId!;
    await state().deliverWebhook(id, 'message_api_failed', {
      failureReason: 'Recipient is not a valid WhatsApp user',
      errorCode: '1013',
    });
    await state().deliverWebhook(id, 'message_api_sent');
    await state().deliverWebhook(id, 'message_api_failed', { failureReason: 'other', errorCode: '9' });
    await applied();
    const [row] = (
      await listMessages(db, { referenceType: 'drip', referenceId: message.referenceId!, page: 1, pageSize: 1 })
    ).items;
    expect(row).toMatchObject({
      status: 'failed',
      errorCode: '1013',
      errorMessage: 'Recipient is not a valid WhatsApp user',
    });
  });

  it('acknowledges a status for an unknown message id with 200 and records it', async () => {
    const body = JSON.stringify({
      version: '1.0',
      timestamp: '2030-01-01T00:00:00',
      type: 'message_api_delivered',
      data: { message: { id: 'no-such-message' } },
    });
    const response = await post(body, signed(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, outcome: 'queued' });
    const again = await post(body, signed(body));
    expect(await again.json()).toEqual({ received: true, outcome: 'duplicate' });
    await applied();
    const events = await listWebhookEvents(db, { providerMessageId: 'no-such-message', page: 1, pageSize: 10 });
    expect(events.items).toMatchObject([
      {
        provider: 'interakt',
        eventType: 'message_api_delivered',
        outcome: 'unknown_message',
        messageId: null,
        payload: body,
      },
    ]);
  });

  it("a reply ends the lead's stop-on-reply drip at once, lets its other drip continue, and is stored as an incoming message", async () => {
    const lead = await createLead();
    const stopping = await startDrip(lead.id, { stopOnReply: true, delays: [0, 4] });
    const continuing = await startDrip(lead.id, { stopOnReply: false, delays: [0, 4] });
    await firstMessage(stopping);
    await firstMessage(continuing);

    const delivery = await state().deliverInbound(lead.phone, 'Please stop');
    expect(delivery.responseStatus).toBe(200);
    const receivedAt = stamp(delivery, 'received_at_utc');
    expect((await getLead(db, lead.id))?.lastContactedAt).toEqual(receivedAt);

    const cancelled = await waitFor(
      async () => {
        const body = (await request('GET', `/assignments/${stopping}`)).body;
        return body.status === 'cancelled' ? body : null;
      },
      'stop-on-reply drip cancelled',
      3_000,
    );
    expect(cancelled).toMatchObject({ stopReason: 'replied' });
    expect(cancelled.messages).toHaveLength(1);

    const completed = await waitFor(
      async () => {
        const body = (await request('GET', `/assignments/${continuing}`)).body;
        return body.status === 'completed' ? body : null;
      },
      'other drip completed',
      20_000,
    );
    expect(completed.messages).toHaveLength(2);

    const incoming = await request('GET', `/messages?leadId=${lead.id}&direction=incoming`);
    expect(incoming.body.items).toMatchObject([
      {
        direction: 'incoming',
        status: 'delivered',
        phone: lead.phone,
        providerMessageId: delivery.messageId,
        messageContent: { text: 'Please stop' },
      },
    ]);
    // Redelivered: acknowledged, stored once.
    expect(
      (await state().deliverInbound(lead.phone, 'Please stop', { messageId: delivery.messageId })).responseStatus,
    ).toBe(200);
    expect((await request('GET', `/messages?leadId=${lead.id}&direction=incoming`)).body.total).toBe(1);
  });

  it('stores a reply from an unknown number with no lead and acknowledges it', async () => {
    const delivery = await state().deliverInbound('+919000012345', 'who is this?');
    expect(delivery.responseStatus).toBe(200);
    const page = await listMessages(db, { direction: 'incoming', page: 1, pageSize: 50 });
    expect(page.items.find((m) => m.providerMessageId === delivery.messageId)).toMatchObject({
      leadId: null,
      phone: '+919000012345',
    });
  });

  it('filters the message log by template, direction and date range, and refuses a bad date', async () => {
    const lead = await createLead();
    await firstMessage(await startDrip(lead.id));
    const all = (await request('GET', `/messages?leadId=${lead.id}`)).body;
    expect(all.total).toBe(1);
    const createdAt = all.items[0].createdAt as string;
    const later = new Date(Date.parse(createdAt) + 1).toISOString();
    expect(
      (
        await request(
          'GET',
          `/messages?leadId=${lead.id}&templateName=drip_day_1&direction=outgoing&from=${createdAt}&to=${later}`,
        )
      ).body.total,
    ).toBe(1);
    expect((await request('GET', `/messages?leadId=${lead.id}&templateName=drip_day_2`)).body.total).toBe(0);
    expect((await request('GET', `/messages?leadId=${lead.id}&to=${createdAt}`)).body.total).toBe(0);
    const bad = await request('GET', '/messages?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0]).toMatchObject({ location: 'query', path: 'from' });
  });

  it("streams a lead's status changes as server-sent events, and resumes from Last-Event-ID", async () => {
    const lead = await createLead();
    const other = await createLead();
    const message = await firstMessage(await startDrip(lead.id));
    const otherMessage = await firstMessage(await startDrip(other.id));
    expect((await fetch(`${api.url}/messages/stream`)).status).toBe(401);

    const stream = await openStream(`${api.url}/messages/stream?leadId=${lead.id}`, apiKey);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await state().deliverWebhook(otherMessage.providerMessageId!, 'message_api_delivered');
    await state().deliverWebhook(message.providerMessageId!, 'message_api_delivered');
    const first = await waitFor(() => stream.events[0], 'a delivered event', 5_000);
    await stream.close();
    expect(first.event).toBe('message');
    expect(JSON.parse(first.data!)).toMatchObject({ id: message.id, leadId: lead.id, status: 'delivered' });
    expect(stream.events).toHaveLength(1);

    // While disconnected, the message is read; reconnecting with the last id delivers just that.
    await state().deliverWebhook(message.providerMessageId!, 'message_api_read');
    const resumed = await openStream(`${api.url}/messages/stream?leadId=${lead.id}`, apiKey, {
      'last-event-id': first.id!,
    });
    const next = await waitFor(() => resumed.events[0], 'the missed read event', 5_000);
    await resumed.close();
    expect(JSON.parse(next.data!)).toMatchObject({ id: message.id, status: 'read' });
    expect(resumed.events.map((e) => JSON.parse(e.data!).status)).toEqual(['read']);
  });
});
