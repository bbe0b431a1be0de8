import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetaProvider } from '../../src/providers/meta';
import {
  answerVerifyChallenge,
  parseMetaWebhook,
  signMetaWebhook,
  verifyMetaSignature,
} from '../../src/providers/meta-webhook';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';

const APP_SECRET = 'meta-app-secret';
const RECEIVED_AT = new Date('2025-03-01T10:00:00Z');

const envelope = (...changes: Array<Record<string, unknown>>) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: 'WABA',
      changes: changes.map((value) => ({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550001234', phone_number_id: 'PNID' },
          ...value,
        },
      })),
    },
  ],
});

describe('verifyMetaSignature', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  const hmac = (bytes: Buffer | string, secret = APP_SECRET) =>
    `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;

  it('accepts the HMAC-SHA256 of the raw body keyed with the app secret', () => {
    expect(verifyMetaSignature(body, hmac(body), APP_SECRET)).toBe(true);
    expect(
      verifyMetaSignature(body.toString('utf8'), hmac(body).toUpperCase().replace('SHA256=', 'sha256='), APP_SECRET),
    ).toBe(true);
    expect(signMetaWebhook(body, APP_SECRET)).toBe(hmac(body));
  });

  it('refuses another secret, a tampered body, and a missing or malformed header', () => {
    expect(verifyMetaSignature(body, hmac(body, 'other-secret'), APP_SECRET)).toBe(false);
    expect(verifyMetaSignature(Buffer.from(body.toString().replace('[]', '[{}]')), hmac(body), APP_SECRET)).toBe(false);
    expect(verifyMetaSignature(body, undefined, APP_SECRET)).toBe(false);
    expect(verifyMetaSignature(body, hmac(body).slice('sha256='.length), APP_SECRET)).toBe(false);
    expect(
      verifyMetaSignature(body, `sha1=${createHmac('sha1', APP_SECRET).update(body).digest('hex')}`, APP_SECRET),
    ).toBe(false);
    expect(verifyMetaSignature(body, 'sha256=zz', APP_SECRET)).toBe(false);
  });

  it('verifies nothing with an empty secret, even a body signed with the empty key', () => {
    expect(verifyMetaSignature(body, hmac(body, ''), '')).toBe(false);
  });
});

describe('answerVerifyChallenge', () => {
  const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'my-verify-token', 'hub.challenge': '1158201444' };

  it('returns the challenge when mode is subscribe and the token matches', () => {
    expect(answerVerifyChallenge(query, 'my-verify-token')).toBe('1158201444');
  });

  it('returns null for another token, another mode, a missing challenge or no configured token', () => {
    expect(answerVerifyChallenge(query, 'other-token')).toBeNull();
    expect(answerVerifyChallenge({ ...query, 'hub.mode': 'unsubscribe' }, 'my-verify-token')).toBeNull();
    expect(answerVerifyChallenge({ ...query, 'hub.challenge': undefined }, 'my-verify-token')).toBeNull();
    expect(answerVerifyChallenge({ ...query, 'hub.verify_token': ['my-verify-token'] }, 'my-verify-token')).toBeNull();
    expect(answerVerifyChallenge({ ...query, 'hub.verify_token': '' }, '')).toBeNull();
  });
});

describe('parseMetaWebhook', () => {
  it('reads batched statuses across entries and changes in payload order', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { phone_number_id: 'PNID' },
                statuses: [
                  {
                    id: 'wamid.A',
                    status: 'sent',
                    timestamp: '1740823200',
                    recipient_id: '919876543210',
                    biz_opaque_callback_data: 'drip-1:0',
                  },
                  { id: 'wamid.B', status: 'delivered', timestamp: '1740823201', recipient_id: '919812345678' },
                ],
              },
            },
          ],
        },
        {
          id: 'WABA',
          changes: [
            {
              field: 'messages',
              value: {
                statuses: [
                  {
                    id: 'wamid.C',
                    status: 'failed',
                    timestamp: '1740823202',
                    recipient_id: '919800000000',
                    errors: [
                      {
                        code: 131026,
                        title: 'Message undeliverable',
                        error_data: { details: 'Receiver is incapable of receiving this message' },
                      },
                    ],
                  },
                  { id: 'wamid.A', status: 'read', timestamp: '1740823203', recipient_id: '919876543210' },
                ],
              },
            },
          ],
        },
      ],
    };

    expect(parseMetaWebhook(payload, RECEIVED_AT)).toEqual([
      {
        kind: 'status',
        providerMessageId: 'wamid.A',
        callbackData: 'drip-1:0',
        status: 'sent',
        at: new Date(1740823200 * 1000),
        errorCode: null,
        errorMessage: null,
        recipient: '919876543210',
        phoneNumberId: 'PNID',
        raw: JSON.stringify(payload.entry[0]!.changes[0]!.value.statuses[0]),
      },
      expect.objectContaining({
        providerMessageId: 'wamid.B',
        status: 'delivered',
        at: new Date(1740823201 * 1000),
        callbackData: null,
      }),
      expect.objectContaining({
        providerMessageId: 'wamid.C',
        status: 'failed',
        errorCode: '131026',
        errorMessage: 'Message undeliverable: Receiver is incapable of receiving this message',
        phoneNumberId: null,
      }),
      expect.objectContaining({ providerMessageId: 'wamid.A', status: 'read', at: new Date(1740823203 * 1000) }),
    ]);
  });

  it('reads inbound text, button taps, interactive replies and captions, with the replied-to wamid', () => {
    const events = parseMetaWebhook(
      envelope({
        contacts: [{ profile: { name: 'Asha Rao' }, wa_id: '919876543210' }],
        messages: [
          {
            from: '919876543210',
            id: 'wamid.IN1',
            timestamp: '1740823300',
            type: 'text',
            text: { body: 'STOP please' },
          },
          {
            from: '919876543210',
            id: 'wamid.IN2',
            timestamp: '1740823301',
            type: 'button',
            context: { from: '15550001234', id: 'wamid.OUT' },
            button: { text: 'Not interested', payload: 'NOT_INTERESTED' },
          },
          {
            from: '919812345678',
            id: 'wamid.IN3',
            timestamp: '1740823302',
            type: 'interactive',
            interactive: { type: 'button_reply', button_reply: { id: 'b1', title: 'Yes' } },
          },
          {
            from: '919812345678',
            id: 'wamid.IN4',
            timestamp: '1740823303',
            type: 'interactive',
            interactive: { type: 'list_reply', list_reply: { id: 'l1', title: 'Plan B' } },
          },
          {
            from: '919812345678',
            id: 'wamid.IN5',
            timestamp: '1740823304',
            type: 'image',
            image: { id: 'media', caption: 'my form' },
          },
          { from: '919812345678', id: 'wamid.IN6', timestamp: '1740823305', type: 'sticker', sticker: { id: 'media' } },
        ],
      }),
      RECEIVED_AT,
    );

    expect(events[0]).toEqual({
      kind: 'inbound',
      providerMessageId: 'wamid.IN1',
      from: '919876543210',
      type: 'text',
      text: 'STOP please',
      contextMessageId: null,
      profileName: 'Asha Rao',
      at: new Date(1740823300 * 1000),
      phoneNumberId: 'PNID',
      raw: JSON.stringify({
        from: '919876543210',
        id: 'wamid.IN1',
        timestamp: '1740823300',
        type: 'text',
        text: { body: 'STOP please' },
      }),
    });
    expect(
      events
        .slice(1)
        .map((event) => event.kind === 'inbound' && [event.providerMessageId, event.text, event.contextMessageId]),
    ).toEqual([
      ['wamid.IN2', 'Not interested', 'wamid.OUT'],
      ['wamid.IN3', 'Yes', null],
      ['wamid.IN4', 'Plan B', null],
      ['wamid.IN5', 'my form', null],
      ['wamid.IN6', null, null],
    ]);
  });

  it('ignores other objects and fields, unknown statuses, system messages and malformed parts, but keeps value.errors', () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        null,
        'entry',
        { changes: 'not a list' },
        {
          changes: [
            null,
            { field: 'message_template_status_update', value: { statuses: [{ id: 'wamid.X', status: 'sent' }] } },
            {
              field: 'messages',
              value: {
                statuses: [
                  { id: 'wamid.D', status: 'deleted', timestamp: '1' },
                  { status: 'sent', timestamp: '1' },
                  { id: 42, status: 'sent' },
                  'garbage',
                  { id: 'wamid.E', status: 'delivered', timestamp: 'yesterday' },
                ],
                messages: [
                  { from: '919876543210', id: 'wamid.S', type: 'system', system: { body: 'changed number' } },
                  { id: 'wamid.NOFROM', type: 'text', text: { body: 'hi' } },
                  { from: '919876543210', type: 'text' },
                ],
                errors: [{ code: 131000 }],
              },
            },
          ],
        },
      ],
    };
    expect(parseMetaWebhook(payload, RECEIVED_AT)).toEqual([
      expect.objectContaining({ kind: 'error', code: '131000', message: null, at: RECEIVED_AT }),
      expect.objectContaining({ providerMessageId: 'wamid.E', status: 'delivered', at: RECEIVED_AT }),
    ]);

    for (const odd of [
      null,
      undefined,
      'text',
      42,
      [],
      {},
      { entry: {} },
      { object: 'page', entry: [{ changes: [] }] },
    ]) {
      expect(parseMetaWebhook(odd, RECEIVED_AT)).toEqual([]);
    }
    expect(
      parseMetaWebhook({
        object: 'instagram',
        entry: envelope({ statuses: [{ id: 'wamid.I', status: 'sent' }] }).entry,
      }),
    ).toEqual([]);
  });
});

describe('webhooks the Meta emulator posts', () => {
  let emulator: StartedMetaEmulator;
  let server: Server;
  const received: Array<{ rawBody: Buffer; signature: string | undefined }> = [];

  beforeAll(async () => {
    const app = express();
    app.post('/hooks/meta', express.raw({ type: '*/*' }), (req, res) => {
      received.push({ rawBody: req.body as Buffer, signature: req.get('X-Hub-Signature-256') });
      res.sendStatus(200);
    });
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    emulator = await startMetaEmulator({
      appSecret: APP_SECRET,
      webhookUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/meta`,
      autoWebhooks: false,
    });
  });
  afterAll(async () => {
    await emulator.close();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    emulator.emulator.reset();
    received.length = 0;
  });

  const send = (to: string, callbackData: string) =>
    createMetaProvider({
      graphBaseUrl: emulator.url,
      apiVersion: 'v21.0',
      phoneNumberId: '100000000000001',
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 5_000,
    }).sendTemplate({ to, templateName: 'follow_up', languageCode: 'en', bodyValues: ['Asha'], callbackData });

  it('signs each POST over its raw bytes and carries several statuses in one batch, in order', async () => {
    const first = await send('+919876543210', 'drip-1:0');
    const second = await send('+919812345678', 'drip-2:0');

    const delivery = await emulator.emulator.state.deliverStatusBatch([
      { messageId: first.providerMessageId, status: 'sent' },
      { messageId: second.providerMessageId, status: 'sent' },
      { messageId: second.providerMessageId, status: 'failed', errorCode: 131050 },
      { messageId: first.providerMessageId, status: 'read' },
    ]);

    expect(delivery).toMatchObject({ responseStatus: 200, error: null });
    expect(received).toHaveLength(1);
    const [post] = received;
    expect(verifyMetaSignature(post!.rawBody, post!.signature, APP_SECRET)).toBe(true);
    const events = parseMetaWebhook(JSON.parse(post!.rawBody.toString('utf8')));
    expect(
      events.map(
        (event) =>
          event.kind === 'status' && [event.providerMessageId, event.status, event.callbackData, event.recipient],
      ),
    ).toEqual([
      [first.providerMessageId, 'sent', 'drip-1:0', '919876543210'],
      [second.providerMessageId, 'sent', 'drip-2:0', '919812345678'],
      [second.providerMessageId, 'failed', 'drip-2:0', '919812345678'],
      [first.providerMessageId, 'read', 'drip-1:0', '919876543210'],
    ]);
    expect(events[2]).toMatchObject({ errorCode: '131050' });
  });

  it('batches automatic statuses that fall due together into one POST', async () => {
    emulator.emulator.state.configureWebhooks({
      autoWebhooks: true,
      webhookDelaysMs: { sent: 0, delivered: 0, read: 0 },
    });
    const accepted = await send('+919876543210', 'drip-3:0');

    await expect
      .poll(() => emulator.emulator.state.webhookDeliveries().filter((delivery) => delivery.responseStatus !== null))
      .toHaveLength(1);
    expect(received).toHaveLength(1);
    const events = parseMetaWebhook(JSON.parse(received[0]!.rawBody.toString('utf8')));
    expect(events.map((event) => event.kind === 'status' && event.status)).toEqual(['sent', 'delivered', 'read']);
    expect(
      events.every((event) => event.kind === 'status' && event.providerMessageId === accepted.providerMessageId),
    ).toBe(true);
  });

  it('posts an inbound reply that parses to the sender, text and replied-to wamid', async () => {
    const sent = await send('+919876543210', 'drip-4:0');
    await emulator.emulator.state.deliverInboundMessage({
      from: '+919876543210',
      buttonText: 'Stop',
      replyTo: sent.providerMessageId,
    });

    const [post] = received;
    expect(verifyMetaSignature(post!.rawBody, post!.signature, APP_SECRET)).toBe(true);
    expect(parseMetaWebhook(JSON.parse(post!.rawBody.toString('utf8')))).toEqual([
      expect.objectContaining({
        kind: 'inbound',
        from: '919876543210',
        type: 'button',
        text: 'Stop',
        contextMessageId: sent.providerMessageId,
      }),
    ]);
  });
});
