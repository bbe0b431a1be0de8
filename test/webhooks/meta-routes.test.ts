import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors';
import { metaWebhookRouter, type MetaWebhookContext, type MetaWebhookSink } from '../../src/webhooks/meta-routes';
import { createMetaProvider } from '../../src/providers/meta';
import { signMetaWebhook, type MetaWebhookEvent } from '../../src/providers/meta-webhook';
import { listen, type RunningApp } from '../support/api';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { silentLogger } from '../support/logs';
import { captureLogs } from '../support/logs';

const APP_SECRET = 'meta-app-secret-for-route';
const VERIFY_TOKEN = 'dripline-verify-token';

/** Records what reaches the sink; `failNext` makes the next call throw, as a database outage would. */
function recordingSink() {
  const events: MetaWebhookEvent[] = [];
  const contexts: MetaWebhookContext[] = [];
  let failNext = false;
  const take = async (event: MetaWebhookEvent, context: MetaWebhookContext) => {
    if (failNext) {
      failNext = false;
      throw new Error('database unavailable');
    }
    events.push(event);
    contexts.push(context);
  };
  const sink: MetaWebhookSink = { status: take, inbound: take, error: take, template: take };
  return {
    sink,
    events,
    contexts,
    failOnce() {
      failNext = true;
    },
  };
}

describe('POST/GET /webhooks/meta', () => {
  let api: RunningApp;
  let emulator: StartedMetaEmulator;
  let webhookUrl: string;
  const recorded = recordingSink();
  const logs = captureLogs();

  beforeAll(async () => {
    const app = express();
    app.use(
      '/webhooks/meta',
      metaWebhookRouter({ appSecret: () => APP_SECRET, verifyToken: VERIFY_TOKEN, sink: recorded.sink }).router,
    );
    app.use(errorHandler(logs.logger));
    api = await listen(app);
    webhookUrl = `${api.url}/webhooks/meta`;
    emulator = await startMetaEmulator({ appSecret: APP_SECRET, webhookUrl, autoWebhooks: false });
  });
  afterAll(async () => {
    await emulator?.close();
    await api?.close();
  });
  beforeEach(() => {
    emulator.emulator.reset();
    recorded.events.length = 0;
    recorded.contexts.length = 0;
  });

  const send = (to = '+919876543210') =>
    createMetaProvider({
      graphBaseUrl: emulator.url,
      apiVersion: 'v21.0',
      phoneNumberId: '100000000000001',
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 5_000,
    }).sendTemplate({
      to,
      templateName: 'drip_day_1',
      languageCode: 'en',
      bodyValues: ['Asha'],
      callbackData: `drip-9:${to}`,
    });

  const postRaw = (body: string, signature?: string) =>
    fetch(webhookUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(signature === undefined ? {} : { 'X-Hub-Signature-256': signature }),
      },
      body,
    });

  it('hands every event of a signed batch to the sink, in order, and answers 200', async () => {
    const first = await send('+919876543210');
    const second = await send('+919812345678');

    const delivery = await emulator.emulator.state.deliverStatusBatch([
      { messageId: first.providerMessageId, status: 'sent' },
      { messageId: second.providerMessageId, status: 'delivered' },
      {
        messageId: first.providerMessageId,
        status: 'failed',
        errorCode: 131026,
        errorDetails: 'Receiver is incapable of receiving this message',
      },
    ]);
    await emulator.emulator.state.deliverInboundMessage({
      from: '+919876543210',
      text: 'stop',
      replyTo: first.providerMessageId,
    });

    expect(delivery.responseStatus).toBe(200);
    expect(recorded.events).toEqual([
      expect.objectContaining({
        kind: 'status',
        providerMessageId: first.providerMessageId,
        status: 'sent',
        callbackData: 'drip-9:+919876543210',
      }),
      expect.objectContaining({ kind: 'status', providerMessageId: second.providerMessageId, status: 'delivered' }),
      expect.objectContaining({
        kind: 'status',
        providerMessageId: first.providerMessageId,
        status: 'failed',
        errorCode: '131026',
        errorMessage: 'Message undeliverable: Receiver is incapable of receiving this message',
      }),
      expect.objectContaining({
        kind: 'inbound',
        from: '919876543210',
        text: 'stop',
        contextMessageId: first.providerMessageId,
      }),
    ]);
    expect(emulator.emulator.state.webhookDeliveries().map((entry) => entry.responseStatus)).toEqual([200, 200]);
    // Each event carries its own JSON for the ledger, and the batch's events share one arrival time.
    expect(JSON.parse(recorded.events[1]!.raw)).toMatchObject({ id: second.providerMessageId, status: 'delivered' });
    expect(new Set(recorded.contexts.slice(0, 3).map((context) => context.receivedAt.getTime())).size).toBe(1);
  });

  it('answers 401 and calls no sink when the signature is wrong, missing, or the body was altered', async () => {
    const accepted = await send();
    emulator.emulator.state.configureWebhooks({ appSecret: 'not-our-app-secret' });
    const forged = await emulator.emulator.state.deliverWebhook(accepted.providerMessageId, 'read');
    expect(forged.responseStatus).toBe(401);

    const signedBody = forged.rawBody;
    const goodSignature = signMetaWebhook(signedBody, APP_SECRET);
    const tampered = await postRaw(signedBody.replace('"read"', '"delivered"'), goodSignature);
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toEqual({
      error: { code: 'invalid_signature', message: 'webhook signature does not match' },
    });
    expect((await postRaw(signedBody)).status).toBe(401);

    expect(recorded.events).toEqual([]);
    // The same bytes with the right signature do reach the sink: the 401s were the signature's doing.
    expect((await postRaw(signedBody, goodSignature)).status).toBe(200);
    expect(recorded.events).toEqual([
      expect.objectContaining({ providerMessageId: accepted.providerMessageId, status: 'read' }),
    ]);
  });

  it('acknowledges a signed notification it has nothing to take from, without calling the sink', async () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'WABA', changes: [{ field: 'account_update', value: {} }] }],
    });
    const response = await postRaw(body, signMetaWebhook(body, APP_SECRET));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, statuses: 0, inbound: 0 });
    expect(recorded.events).toEqual([]);
  });

  it('answers 500 when the sink fails, so Meta delivers the batch again', async () => {
    const accepted = await send();
    recorded.failOnce();
    const failed = await emulator.emulator.state.deliverWebhook(accepted.providerMessageId, 'delivered');
    expect(failed.responseStatus).toBe(500);
    expect(logs.lines().at(-1)).toMatchObject({
      msg: 'request failed',
      err: { message: expect.stringContaining('database unavailable') },
    });

    const retried = await emulator.emulator.state.deliverWebhook(accepted.providerMessageId, 'delivered');
    expect(retried.responseStatus).toBe(200);
    expect(recorded.events).toEqual([
      expect.objectContaining({ providerMessageId: accepted.providerMessageId, status: 'delivered' }),
    ]);
  });

  it('answers the verify-token handshake with the raw challenge, and 403 otherwise', async () => {
    const handshake = (params: Record<string, string>) =>
      fetch(`${webhookUrl}?${new URLSearchParams(params).toString()}`);

    const ok = await handshake({
      'hub.mode': 'subscribe',
      'hub.verify_token': VERIFY_TOKEN,
      'hub.challenge': '1158201444',
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');

    expect(
      (await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '1' })).status,
    ).toBe(403);
    expect(
      (await handshake({ 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' })).status,
    ).toBe(403);
    expect((await handshake({})).status).toBe(403);
  });

  it('answers 503 while no app secret or verify token is configured', async () => {
    const app = express();
    app.use(
      '/webhooks/meta',
      metaWebhookRouter({ appSecret: () => undefined, verifyToken: '', sink: recorded.sink }).router,
    );
    app.use(errorHandler(silentLogger()));
    const bare = await listen(app);
    try {
      const body = '{"object":"whatsapp_business_account","entry":[]}';
      const post = await fetch(`${bare.url}/webhooks/meta`, {
        method: 'POST',
        headers: { 'X-Hub-Signature-256': signMetaWebhook(body, '') },
        body,
      });
      expect(post.status).toBe(503);
      const get = await fetch(`${bare.url}/webhooks/meta?hub.mode=subscribe&hub.verify_token=&hub.challenge=1`);
      expect(get.status).toBe(503);
    } finally {
      await bare.close();
    }
  });
});
