import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { infobipNotifyUrl, loadConfig } from '../../src/config';
import type { Db } from '../../src/db/client';
import {
  claimOutgoingMessage,
  createLead,
  getMessageById,
  listMessages,
  listWebhookEvents,
  markMessageAccepted,
} from '../../src/db/queries';
import { createInfobipProvider } from '../../src/providers/infobip';
import { infobipBasicAuthHeader } from '../../src/providers/infobip-webhook';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';
import { silentLogger } from '../support/logs';

const NOTIFY_SECRET = 'n0t1fy-secret-for-the-infobip-route-test';
const USERNAME = 'infobip-hooks';
const PASSWORD = 'correct horse battery staple';
const SENDER = '447860099299';

/**
 * Infobip reports through the real app: BASIC credentials checked first, then delivery and seen
 * reports stored and applied to the message log by the shared pipeline, inbound messages stored
 * against the lead. No workflow runs here, so Temporal is a lazy client that never connects.
 */
describe('POST /webhooks/infobip', () => {
  let db: Db;
  let pipeline: WebhookPipeline;
  let api: RunningApp;
  let infobip: StartedInfobipEmulator;
  let sequence = 0;

  beforeAll(async () => {
    db = await createTestDb();
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    api = await listen(
      createApp({
        db,
        temporal,
        taskQueue: 'infobip-webhooks',
        sendTaskQueue: 'infobip-webhooks-sends-infobip',
        defaultCountry: 'IN',
        infobipWebhookUsername: USERNAME,
        infobipWebhookPassword: PASSWORD,
        infobipNotifySecret: NOTIFY_SECRET,
        log: silentLogger(),
        webhookPipeline: pipeline,
      }),
    );
    infobip = await startInfobipEmulator({
      whatsappSender: SENDER,
      webhookUrl: `${api.url}/webhooks/infobip`,
      webhookAuth: { username: USERNAME, password: PASSWORD },
      autoReports: false,
    });
  });
  afterAll(async () => {
    await infobip?.close();
    await api?.close();
    await pipeline?.close();
    await db?.close();
  });
  beforeEach(() => {
    infobip.emulator.reset();
  });

  /** An outgoing row as the send activity leaves it: claimed, sent through Infobip, accepted. */
  async function sentMessage(phone: string, notifyUrl?: string) {
    const key = `drip-7:${(sequence += 1)}`;
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: key,
      leadId: null,
      phone,
      provider: 'infobip',
      templateName: 'welcome',
      templateLanguage: 'en',
      messageContent: {},
      referenceType: null,
      referenceId: null,
      workflowId: 'drip-7',
      stepIndex: sequence,
      callbackData: key,
    });
    const accepted = await createInfobipProvider({
      baseUrl: infobip.url,
      getApiKey: () => TEST_INFOBIP_API_KEY,
      timeoutMs: 10_000,
      whatsappSender: SENDER,
      notifyUrl,
    }).sendTemplate({
      to: phone,
      templateName: 'drip_day_1',
      languageCode: 'en',
      bodyValues: ['Asha'],
      callbackData: key,
    });
    await markMessageAccepted(db, { id: row.id, providerMessageId: accepted.providerMessageId, at: new Date() });
    return { id: row.id, providerMessageId: accepted.providerMessageId };
  }

  const events = async () => (await listWebhookEvents(db, { provider: 'infobip', page: 1, pageSize: 100 })).items;

  it('applies a delivery report and then a seen report to the message, once each', async () => {
    const message = await sentMessage('+919876543210');

    expect((await infobip.emulator.state.deliverReport({ messageId: message.providerMessageId })).responseStatus).toBe(
      200,
    );
    await pipeline.processor.idle();
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'delivered', deliveredAt: expect.any(Date) });

    expect((await infobip.emulator.state.deliverSeenReport(message.providerMessageId)).responseStatus).toBe(200);
    // Infobip delivers at least once: the same report again changes nothing.
    expect((await infobip.emulator.state.deliverSeenReport(message.providerMessageId)).responseStatus).toBe(200);
    await pipeline.processor.idle();
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'read', readAt: expect.any(Date) });

    const ledger = (await events()).filter((event) => event.providerMessageId === message.providerMessageId);
    expect(ledger.map((event) => [event.eventType, event.outcome]).sort()).toEqual([
      ['delivered_to_handset', 'applied'],
      ['seen', 'applied'],
    ]);
  });

  it('records a failed report with Infobip’s error on the message', async () => {
    const message = await sentMessage('+919812345678');
    await infobip.emulator.state.deliverReport({
      messageId: message.providerMessageId,
      groupName: 'REJECTED',
      errorId: 7003,
      errorDescription: 'Sender not allowed',
    });
    await pipeline.processor.idle();
    expect(await getMessageById(db, message.id)).toMatchObject({
      status: 'failed',
      errorCode: '7003',
      errorMessage: 'Sender not allowed',
    });
  });

  it('answers 401 and writes nothing when the BASIC credentials are wrong or missing', async () => {
    const message = await sentMessage('+919811112222');
    const before = (await events()).length;

    infobip.emulator.state.configure({ webhookAuth: { username: USERNAME, password: 'guessed' } });
    const forged = await infobip.emulator.state.deliverReport({ messageId: message.providerMessageId });
    expect(forged.responseStatus).toBe(401);

    const bare = await fetch(`${api.url}/webhooks/infobip`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: forged.rawBody,
    });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(await bare.json()).toEqual({
      error: { code: 'invalid_credentials', message: 'webhook credentials do not match' },
    });

    await pipeline.processor.idle();
    expect((await events()).length).toBe(before);
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'sent' });

    // The same bytes with the right credentials are taken: the 401s were the credentials' doing.
    const good = await fetch(`${api.url}/webhooks/infobip`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: infobipBasicAuthHeader(USERNAME, PASSWORD) },
      body: forged.rawBody,
    });
    expect(await good.json()).toEqual({ received: true, statuses: 1, inbound: 0 });
  });

  it('takes the reports of a message sent with the notify URL: its secret path authenticates them, as they carry no credentials', async () => {
    const message = await sentMessage('+919811113333', `${api.url}/webhooks/infobip/notify/${NOTIFY_SECRET}`);
    const delivery = await infobip.emulator.state.deliverReport({ messageId: message.providerMessageId });
    expect(delivery).toMatchObject({ responseStatus: 200, url: `${api.url}/webhooks/infobip/notify/${NOTIFY_SECRET}` });
    expect((await infobip.emulator.state.deliverSeenReport(message.providerMessageId)).responseStatus).toBe(200);
    await pipeline.processor.idle();
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'read', deliveredAt: expect.any(Date) });
  });

  it('refuses reports sent to a notifyUrl at the BASIC endpoint (they carry no credentials), which is why INFOBIP_NOTIFY_URL is refused at start', async () => {
    const message = await sentMessage('+919811114444', `${api.url}/webhooks/infobip`);
    const delivery = await infobip.emulator.state.deliverReport({ messageId: message.providerMessageId });
    expect(delivery.responseStatus).toBe(401);
    await pipeline.processor.idle();
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'sent' });
    expect(() => loadConfig({ INFOBIP_NOTIFY_URL: `${api.url}/webhooks/infobip` })).toThrow(
      /INFOBIP_NOTIFY_URL: is no longer supported/,
    );
    expect(
      infobipNotifyUrl(loadConfig({ INFOBIP_NOTIFY_SECRET: NOTIFY_SECRET, PUBLIC_BASE_URL: 'https://crm.example' })),
    ).toBe(`https://crm.example/webhooks/infobip/notify/${NOTIFY_SECRET}`);
    expect(() => loadConfig({ INFOBIP_NOTIFY_SECRET: 'short' })).toThrow(/INFOBIP_NOTIFY_SECRET/);
  });

  it('answers 401 to a notify URL with another secret, before reading the body, and changes nothing', async () => {
    const message = await sentMessage('+919811115555', `${api.url}/webhooks/infobip/notify/${NOTIFY_SECRET}x`);
    const before = (await events()).length;
    const delivery = await infobip.emulator.state.deliverReport({ messageId: message.providerMessageId });
    expect(delivery.responseStatus).toBe(401);
    const bare = await fetch(`${api.url}/webhooks/infobip/notify/guess`, { method: 'POST', body: delivery.rawBody });
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      error: { code: 'invalid_credentials', message: 'the notify URL does not match' },
    });
    await pipeline.processor.idle();
    expect((await events()).length).toBe(before);
    expect(await getMessageById(db, message.id)).toMatchObject({ status: 'sent' });
  });

  it('refuses wrong credentials before reading the body: a request announcing more than the body limit still gets 401, with the body never sent', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${api.url}/webhooks/infobip`);
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': 4 * 1024 * 1024,
            Authorization: infobipBasicAuthHeader(USERNAME, 'guessed'),
          },
        },
        (response) => {
          resolve(response.statusCode ?? 0);
          response.resume();
          request.destroy();
        },
      );
      request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
      // Only the first bytes go out: the answer has to come without the rest.
      request.write('{"results": [');
    });
    expect(status).toBe(401);
  });

  it('stores an inbound reply against the lead with that number', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: '+919822223333' });
    const delivery = await infobip.emulator.state.deliverInboundMessage({
      from: '919822223333',
      text: 'Call me tomorrow',
    });
    expect(delivery.responseStatus).toBe(200);
    const { items } = await listMessages(db, { leadId: lead.id, direction: 'incoming', page: 1, pageSize: 10 });
    expect(items).toEqual([
      expect.objectContaining({
        provider: 'infobip',
        phone: '+919822223333',
        providerMessageId: delivery.messageIds[0],
        messageContent: { text: 'Call me tomorrow', contentType: 'TEXT' },
      }),
    ]);
  });

  it('answers 400 for a body that is not JSON, and 503 while no credentials are configured', async () => {
    const authorized = { Authorization: infobipBasicAuthHeader(USERNAME, PASSWORD) };
    expect(
      (await fetch(`${api.url}/webhooks/infobip`, { method: 'POST', headers: authorized, body: '{nope' })).status,
    ).toBe(400);

    const unconfigured = await listen(
      createApp({
        db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
        taskQueue: 'q',
        sendTaskQueue: 'q-sends-infobip',
        defaultCountry: 'IN',
        log: silentLogger(),
        webhookPipeline: pipeline,
      }),
    );
    try {
      const response = await fetch(`${unconfigured.url}/webhooks/infobip`, {
        method: 'POST',
        headers: authorized,
        body: '{"results":[]}',
      });
      expect(response.status).toBe(503);
    } finally {
      await unconfigured.close();
    }
  });
});
