import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyInteraktSignature } from '../../src/providers/interakt-webhook';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';

const API_KEY = 'emulator-test-key';
const SECRET = 'webhook-secret';

interface ReceivedWebhook {
  receivedAt: number;
  rawBody: string;
  signature: string | undefined;
  body: {
    type: string;
    version: string;
    timestamp: string;
    data: {
      customer: { channel_phone_number: string; phone_number: string; country_code: string };
      message: {
        id: string;
        message_status: string;
        delivered_at_utc: string | null;
        seen_at_utc: string | null;
        meta_data: { source_data: { callback_data: string | null } };
      };
    };
  };
}

/** A stand-in for our webhook route: keeps the raw bytes, answers with whatever status is set. */
async function startReceiver() {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  const app = express();
  app.post('/hooks/interakt', express.raw({ type: '*/*' }), (req, res) => {
    const rawBody = (req.body as Buffer).toString('utf8');
    received.push({
      receivedAt: Date.now(),
      rawBody,
      signature: req.get('Interakt-Signature'),
      body: JSON.parse(rawBody) as ReceivedWebhook['body'],
    });
    res.sendStatus(status);
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/interakt`,
    received,
    answerWith(next: number) {
      status = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sendBody = (overrides: Record<string, unknown> = {}) => ({
  countryCode: '+91',
  phoneNumber: '9876543210',
  callbackData: 'drip-7:2',
  type: 'Template',
  template: { name: 'drip_day_1', languageCode: 'en', bodyValues: ['Asha'] },
  ...overrides,
});

async function post(url: string, body: unknown, apiKey = API_KEY) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Basic ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
const startManual = () =>
  startInteraktEmulator({ apiKey: API_KEY, webhookUrl: receiver.url, webhookSecret: SECRET, autoWebhooks: false });
let running: StartedInteraktEmulator | undefined;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  receiver.received.length = 0;
  receiver.answerWith(200);
});

describe('Interakt emulator webhooks', () => {
  it('posts sent, delivered and read in that order, each carrying callbackData and a signature over the raw body', async () => {
    running = await startInteraktEmulator({
      apiKey: API_KEY,
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookDelaysMs: { sent: 0, delivered: 0, read: 0 },
    });
    const sent = await post(`${running.baseUrl}/message/`, sendBody());
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ result: true, message: 'Message created successfully' });

    await vi.waitFor(() => expect(receiver.received).toHaveLength(3));
    expect(receiver.received.map((hook) => hook.body.type)).toEqual([
      'message_api_sent',
      'message_api_delivered',
      'message_api_read',
    ]);
    expect(receiver.received.map((hook) => hook.body.data.message.message_status)).toEqual([
      'Sent',
      'Delivered',
      'Read',
    ]);
    for (const hook of receiver.received) {
      expect(hook.body.version).toBe('1.0');
      expect(hook.body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+$/);
      expect(hook.body.data.message.id).toBe(sent.body.id);
      expect(hook.body.data.message.meta_data.source_data.callback_data).toBe('drip-7:2');
      expect(hook.body.data.customer).toMatchObject({
        channel_phone_number: '919876543210',
        phone_number: '9876543210',
        country_code: '+91',
      });
      const expected = `sha256=${createHmac('sha256', SECRET).update(hook.rawBody).digest('hex')}`;
      expect(hook.signature).toBe(expected);
      // And the verifier our webhook route uses agrees.
      expect(verifyInteraktSignature(Buffer.from(hook.rawBody), hook.signature, SECRET)).toBe(true);
      expect(verifyInteraktSignature(Buffer.from(hook.rawBody), hook.signature, 'another-secret')).toBe(false);
    }
    const read = receiver.received[2]!.body.data.message;
    expect(read.delivered_at_utc).not.toBeNull();
    expect(read.seen_at_utc).not.toBeNull();

    // The receiver has the third webhook a moment before the emulator has read its answer.
    await vi.waitFor(() =>
      expect(running!.emulator.state.webhookDeliveries().map((delivery) => delivery.responseStatus)).toEqual([
        200, 200, 200,
      ]),
    );
    expect(running.emulator.state.acceptedMessages()[0]!.status).toBe('Read');
  });

  it('waits the configured delays between statuses', async () => {
    running = await startInteraktEmulator({
      apiKey: API_KEY,
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookDelaysMs: { sent: 50, delivered: 250, read: 450 },
    });
    const startedAt = Date.now();
    await post(`${running.baseUrl}/message/`, sendBody());
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3));
    // Lower bounds only: an overloaded machine may deliver late, never early.
    const elapsed = receiver.received.map((hook) => hook.receivedAt - startedAt);
    expect(elapsed[0]).toBeGreaterThanOrEqual(45);
    expect(elapsed[1]).toBeGreaterThanOrEqual(245);
    expect(elapsed[2]).toBeGreaterThanOrEqual(445);
  });

  it('with automatic webhooks off, posts only the ones asked for, duplicates and out of order included', async () => {
    running = await startManual();
    const sent = await post(`${running.baseUrl}/message/`, sendBody());
    const id = sent.body.id as string;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received).toHaveLength(0);

    await running.emulator.state.deliverWebhook(id, 'message_api_read');
    await running.emulator.state.deliverWebhook(id, 'message_api_delivered');
    await running.emulator.state.deliverWebhook(id, 'message_api_delivered');
    expect(receiver.received.map((hook) => hook.body.type)).toEqual([
      'message_api_read',
      'message_api_delivered',
      'message_api_delivered',
    ]);
    // A duplicate is byte-identical in its data, as a provider retry would be.
    expect(receiver.received[1]!.body.data).toEqual(receiver.received[2]!.body.data);
  });

  it('delivers a failed webhook with the failure reason over the control API', async () => {
    running = await startManual();
    const sent = await post(`${running.baseUrl}/message/`, sendBody());
    const response = await fetch(`${running.url}/__emulator/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        messageId: sent.body.id,
        type: 'message_api_failed',
        failureReason: 'Message undeliverable',
      }),
    });
    expect(response.status).toBe(200);
    const [hook] = receiver.received;
    expect(hook!.body.type).toBe('message_api_failed');
    expect(hook!.body.data.message).toMatchObject({
      message_status: 'Failed',
      channel_failure_reason: 'Message undeliverable',
    });

    const unknown = await fetch(`${running.url}/__emulator/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messageId: 'nope', type: 'message_api_sent' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('records a failing or unreachable receiver and keeps serving', async () => {
    running = await startManual();
    receiver.answerWith(500);
    const first = await post(`${running.baseUrl}/message/`, sendBody());
    const failed = await running.emulator.state.deliverWebhook(first.body.id as string, 'message_api_sent');
    expect(failed).toMatchObject({ responseStatus: 500, error: null });

    running.emulator.state.configureWebhooks({ webhookUrl: 'http://127.0.0.1:1/unreachable' });
    const unreachable = await running.emulator.state.deliverWebhook(first.body.id as string, 'message_api_sent');
    expect(unreachable.responseStatus).toBeNull();
    expect(unreachable.error).toBeTruthy();

    const second = await post(`${running.baseUrl}/message/`, sendBody());
    expect(second.status).toBe(201);
    expect(running.emulator.state.webhookDeliveries()).toHaveLength(2);
  });
});

describe('Interakt emulator send validation', () => {
  it.each([
    [
      'both phone forms',
      sendBody({ fullPhoneNumber: '919876543210' }),
      /either fullPhoneNumber or countryCode and phoneNumber/,
    ],
    ['no phone', sendBody({ countryCode: undefined, phoneNumber: undefined }), /required/],
    ['a leading 0', sendBody({ phoneNumber: '09876543210' }), /without a leading 0/],
    ['no type', sendBody({ type: undefined }), /type/],
    [
      'an unknown template',
      sendBody({ template: { name: 'drip_day_9', languageCode: 'en', bodyValues: ['Asha'] } }),
      new RegExp(
        '^Please correct the following error - No approved template found with name drip_day_9 and language en\\. ' +
          'Please re-sync on Interakt dashboard$',
      ),
    ],
    [
      'a language it was not approved in',
      sendBody({ template: { name: 'drip_day_1', languageCode: 'hi', bodyValues: ['Asha'] } }),
      /No approved template found with name drip_day_1 and language hi/,
    ],
    [
      'too many body values',
      sendBody({ template: { name: 'drip_day_1', languageCode: 'en', bodyValues: ['Asha', 'extra'] } }),
      /expects 1 body values, received 2/,
    ],
    ['callbackData over 512', sendBody({ callbackData: 'x'.repeat(513) }), /at most 512/],
  ])('answers 400 result:false for %s', async (_what, body, reason) => {
    running = await startInteraktEmulator({ apiKey: API_KEY });
    const response = await post(`${running.baseUrl}/message/`, body);
    expect(response.status).toBe(400);
    expect(response.body.result).toBe(false);
    expect(response.body.message).toMatch(reason);
    expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
  });

  it('accepts fullPhoneNumber on its own', async () => {
    running = await startInteraktEmulator({ apiKey: API_KEY });
    const body = sendBody({ countryCode: undefined, phoneNumber: undefined, fullPhoneNumber: '919876543210' });
    const response = await post(`${running.baseUrl}/message/`, body);
    expect(response.status).toBe(201);
    expect(running.emulator.state.acceptedMessages()[0]).toMatchObject({
      phone: '+919876543210',
      bodyValues: ['Asha'],
    });
  });

  it('refuses a template that is not approved', async () => {
    running = await startInteraktEmulator({
      apiKey: API_KEY,
      templates: [{ name: 'pending_promo', language: 'en', approvalStatus: 'PENDING', body: 'Sale!' }],
    });
    const body = sendBody({ template: { name: 'pending_promo', languageCode: 'en' } });
    const response = await post(`${running.baseUrl}/message/`, body);
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/No approved template found with name pending_promo/);
  });

  it('answers 401 "Invalid token provided" to a wrong key and records the header masked', async () => {
    running = await startInteraktEmulator({ apiKey: API_KEY });
    const response = await post(`${running.baseUrl}/message/`, sendBody(), 'wrong-key');
    expect(response).toMatchObject({ status: 401, body: { result: false, message: 'Invalid token provided' } });
    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({ authorized: false, responseStatus: 401, headers: { authorization: 'Basic ***' } });
    expect(JSON.stringify(running.emulator.state.requests())).not.toContain('wrong-key');
  });
});

interface TemplatePage {
  count: number;
  has_next: boolean;
  results: { templates: Array<Record<string, unknown>> };
}

describe('Interakt emulator template list', () => {
  const extraTemplates = Array.from({ length: 5 }, (_, index) => ({
    name: `promo_${index}`,
    language: index % 2 === 0 ? 'en' : 'hi',
    body: 'Hello {{1}}',
    buttons: [
      { type: 'QUICK_REPLY' as const, text: 'Yes' },
      { type: 'URL' as const, text: 'Open', url: 'https://example.com/{{1}}' },
    ],
  }));

  async function list(query: string) {
    const response = await fetch(`${running!.baseUrl}/track/organization/templates?${query}`, {
      headers: { Authorization: `Basic ${API_KEY}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as TemplatePage;
  }

  it('pages by offset in Interakt shape, with buttons as a JSON-encoded string', async () => {
    running = await startInteraktEmulator({ apiKey: API_KEY, templates: extraTemplates, templatePageSize: 4 });
    const all = running.emulator.state.templates();
    expect(all).toHaveLength(11);

    const names: string[] = [];
    let offset = 0;
    for (;;) {
      const page = await list(`offset=${offset}&approval_status=APPROVED&language=all`);
      expect(page.count).toBe(11);
      names.push(...page.results.templates.map((row) => row.name as string));
      offset += page.results.templates.length;
      if (!page.has_next) break;
      expect(page.results.templates).toHaveLength(4);
    }
    expect(names).toEqual(all.map((template) => template.name));

    const promo = (await list('offset=8&language=en')).results.templates.find((row) => row.name === 'promo_4')!;
    expect(typeof promo.buttons).toBe('string');
    expect(JSON.parse(promo.buttons as string)).toEqual(extraTemplates[4]!.buttons);
    expect(promo).toMatchObject({
      language: 'en',
      approval_status: 'APPROVED',
      category: 'UTILITY',
      body: 'Hello {{1}}',
      variable_present: 'Yes',
    });
  });

  it('filters by language and approval status', async () => {
    running = await startInteraktEmulator({
      apiKey: API_KEY,
      templates: [...extraTemplates, { name: 'rejected_one', language: 'en', approvalStatus: 'REJECTED', body: 'x' }],
    });
    const hindi = await list('offset=0&language=hi');
    expect(hindi.results.templates.map((row) => row.name)).toEqual(['promo_1', 'promo_3']);
    const rejected = await list('approval_status=REJECTED&language=all');
    expect(rejected).toMatchObject({ count: 1, has_next: false });
    const seller = (await list('language=en')).results.templates.find((row) => row.name === 'seller_registration')!;
    expect(seller).toMatchObject({ header_format: 'DOCUMENT', body: expect.stringContaining('{{1}}') });
  });
});

describe('Interakt emulator control API over HTTP', () => {
  const control = (path: string, body?: unknown) =>
    fetch(`${running!.url}/__emulator${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('queues faults, adds templates, lists messages and requests, and resets', async () => {
    running = await startInteraktEmulator({ apiKey: API_KEY });
    expect(await (await control('/health')).json()).toMatchObject({ ok: true, emulator: 'interakt' });

    expect((await control('/faults', { kind: 'rate_limit', retryAfterSeconds: 3, times: 2 })).status).toBe(201);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const limited = await post(`${running.baseUrl}/message/`, sendBody());
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('3');
      expect(limited.body).toEqual({ result: false, message: 'Rate limit exceeded for this resource' });
    }
    expect((await post(`${running.baseUrl}/message/`, sendBody())).status).toBe(201);

    expect((await control('/faults', { kind: 'teapot' })).status).toBe(400);

    const template = await control('/templates', {
      name: 'order_update',
      language: 'en',
      body: 'Order {{1}} is {{2}}',
    });
    expect(template.status).toBe(200);
    const orderUpdate = sendBody({
      template: { name: 'order_update', languageCode: 'en', bodyValues: ['A1', 'packed'] },
    });
    const custom = await post(`${running.baseUrl}/message/`, orderUpdate);
    expect(custom.status).toBe(201);

    const { messages } = (await (await control('/messages')).json()) as {
      messages: Array<{ template: { name: string } }>;
    };
    expect(messages.map((message) => message.template.name)).toEqual(['drip_day_1', 'order_update']);
    const { requests } = (await (await control('/requests')).json()) as { requests: Array<{ responseStatus: number }> };
    expect(requests.map((request) => request.responseStatus)).toEqual([429, 429, 201, 201]);

    expect((await control('/reset', {})).status).toBe(200);
    expect(running.emulator.state.acceptedMessages()).toEqual([]);
    expect(running.emulator.state.requests()).toEqual([]);
    const afterReset = await post(`${running.baseUrl}/message/`, orderUpdate);
    expect(afterReset.status).toBe(400);
  });
});
