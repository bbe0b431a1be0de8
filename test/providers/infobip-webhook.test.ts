import { describe, expect, it } from 'vitest';
import {
  infobipBasicAuthHeader,
  infobipDeliveryStatus,
  parseInfobipWebhook,
  verifyInfobipBasicAuth,
} from '../../src/providers/infobip-webhook';

const RECEIVED = new Date('2025-03-10T12:00:00.000Z');

function dlr(overrides: Record<string, unknown> = {}) {
  return {
    bulkId: 'bulk-1',
    messageId: 'dl-abc',
    to: '919876543210',
    sentAt: '2025-03-10T11:59:00.000+0000',
    doneAt: '2025-03-10T14:30:05.123+0530',
    messageCount: 1,
    price: { pricePerMessage: 0, currency: 'EUR' },
    status: {
      groupId: 3,
      groupName: 'DELIVERED',
      id: 5,
      name: 'DELIVERED_TO_HANDSET',
      description: 'Message delivered to handset',
    },
    error: { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false },
    contact: { name: 'Asha', phoneNumber: '919876543210' },
    ...overrides,
  };
}

describe('parseInfobipWebhook', () => {
  it('reads a delivery report: our messageId, delivered, the done time with its offset, the recipient', () => {
    const [event] = parseInfobipWebhook({ results: [dlr()] }, RECEIVED);
    expect(event).toEqual({
      kind: 'status',
      eventType: 'delivered_to_handset',
      providerMessageId: 'dl-abc',
      callbackData: null,
      status: 'delivered',
      at: new Date('2025-03-10T09:00:05.123Z'),
      errorCode: null,
      errorMessage: null,
      recipient: '919876543210',
      recipientUserId: null,
      raw: JSON.stringify(dlr()),
    });
  });

  it('maps every status group: pending and delivered-to-operator are sent; undeliverable, expired and rejected fail', () => {
    const status = (groupName: string, name = '') => infobipDeliveryStatus({ groupName, name });
    expect(status('PENDING', 'PENDING_ENROUTE')).toBe('sent');
    expect(status('ACCEPTED')).toBe('sent');
    expect(status('DELIVERED', 'DELIVERED_TO_OPERATOR')).toBe('sent');
    expect(status('DELIVERED', 'DELIVERED_TO_HANDSET')).toBe('delivered');
    expect(status('UNDELIVERABLE', 'UNDELIVERABLE_NOT_DELIVERED')).toBe('failed');
    expect(status('EXPIRED', 'EXPIRED_EXPIRED')).toBe('failed');
    expect(status('REJECTED', 'REJECTED_NETWORK')).toBe('failed');
    expect(status('SOMETHING_NEW')).toBeNull();
  });

  it('carries the error id and description of a failed report', () => {
    const [event] = parseInfobipWebhook(
      {
        results: [
          dlr({
            status: {
              groupId: 2,
              groupName: 'UNDELIVERABLE',
              id: 9,
              name: 'UNDELIVERABLE_NOT_DELIVERED',
              description: 'Message sent not delivered',
            },
            error: {
              groupId: 1,
              groupName: 'HANDSET_ERRORS',
              id: 7006,
              name: 'EC_UNKNOWN_SUBSCRIBER',
              description: 'The number is not a WhatsApp user',
              permanent: true,
            },
            callbackData: 'drip-4:1',
          }),
        ],
      },
      RECEIVED,
    );
    expect(event).toMatchObject({
      kind: 'status',
      eventType: 'undeliverable_not_delivered',
      status: 'failed',
      errorCode: '7006',
      errorMessage: 'The number is not a WhatsApp user',
      callbackData: 'drip-4:1',
    });
  });

  it('reads a seen report as read, at the seen time, with the user in `from`', () => {
    const seen = {
      messageId: 'dl-abc',
      from: '919876543210',
      to: '447860099299',
      sentAt: '2025-03-10T11:59:00.000+0000',
      seenAt: '2025-03-10T12:01:00.000+0000',
    };
    expect(parseInfobipWebhook({ results: [seen] }, RECEIVED)).toEqual([
      {
        kind: 'status',
        eventType: 'seen',
        providerMessageId: 'dl-abc',
        callbackData: null,
        status: 'read',
        at: new Date('2025-03-10T12:01:00.000Z'),
        errorCode: null,
        errorMessage: null,
        recipient: '919876543210',
        recipientUserId: null,
        raw: JSON.stringify(seen),
      },
    ]);
  });

  it('reads inbound text, quick-reply taps and interactive replies, with the message they answer', () => {
    const inbound = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      from: '919876543210',
      to: '447860099299',
      integrationType: 'WHATSAPP',
      receivedAt: '2025-03-10T12:02:00.000+0000',
      messageId: `in-${String(message.type)}`,
      message,
      contact: { name: 'Asha' },
      ...extra,
    });
    const events = parseInfobipWebhook(
      {
        results: [
          inbound({ type: 'TEXT', text: 'stop' }),
          inbound({ type: 'BUTTON', text: 'Interested', payload: 'yes', context: { id: 'dl-abc' } }),
          inbound({ type: 'INTERACTIVE_BUTTON_REPLY', id: 'b1', title: 'Call me' }, { pairedMessageId: 'dl-xyz' }),
          inbound({ type: 'IMAGE', url: 'https://media.example/1.jpg', caption: 'here' }),
        ],
        messageCount: 4,
        pendingMessageCount: 0,
      },
      RECEIVED,
    );
    expect(
      events.map(
        (event) => event.kind === 'inbound' && [event.type, event.text, event.contextMessageId, event.mediaUrl],
      ),
    ).toEqual([
      ['TEXT', 'stop', null, null],
      ['BUTTON', 'Interested', 'dl-abc', null],
      ['INTERACTIVE_BUTTON_REPLY', 'Call me', 'dl-xyz', null],
      ['IMAGE', 'here', null, 'https://media.example/1.jpg'],
    ]);
    expect(events[0]).toMatchObject({
      kind: 'inbound',
      from: '919876543210',
      profileName: 'Asha',
      at: new Date('2025-03-10T12:02:00.000Z'),
    });
  });

  it('keeps payload order across a mixed batch and skips what it cannot read, never throwing', () => {
    const events = parseInfobipWebhook(
      {
        results: [
          dlr({ messageId: 'one' }),
          null,
          'junk',
          { messageId: 'two', status: { groupName: 'MYSTERY' } },
          dlr({ messageId: undefined }),
          { messageId: 'three', seenAt: 'not a time', from: '91 98765 43210' },
        ],
      },
      RECEIVED,
    );
    expect(
      events.map((event) => [event.providerMessageId, event.kind === 'status' ? event.status : event.kind]),
    ).toEqual([
      ['one', 'delivered'],
      ['three', 'read'],
    ]);
    // An unreadable time falls back to when we received it.
    expect(events[1]!.at).toEqual(RECEIVED);
    expect(parseInfobipWebhook(undefined)).toEqual([]);
    expect(parseInfobipWebhook({ results: 'nope' })).toEqual([]);
  });
});

describe('verifyInfobipBasicAuth', () => {
  it('accepts exactly the configured username and password', () => {
    expect(
      verifyInfobipBasicAuth(infobipBasicAuthHeader('infobip', 's3cret:with:colons'), 'infobip', 's3cret:with:colons'),
    ).toBe(true);
    expect(verifyInfobipBasicAuth(`  basic ${Buffer.from('infobip:pw').toString('base64')}  `, 'infobip', 'pw')).toBe(
      true,
    );
  });

  it('refuses a wrong or missing credential, another scheme, and unconfigured credentials', () => {
    expect(verifyInfobipBasicAuth(infobipBasicAuthHeader('infobip', 'wrong'), 'infobip', 'pw')).toBe(false);
    expect(verifyInfobipBasicAuth(infobipBasicAuthHeader('other', 'pw'), 'infobip', 'pw')).toBe(false);
    expect(verifyInfobipBasicAuth(undefined, 'infobip', 'pw')).toBe(false);
    expect(verifyInfobipBasicAuth('App pw', 'infobip', 'pw')).toBe(false);
    expect(verifyInfobipBasicAuth('Basic !!!', 'infobip', 'pw')).toBe(false);
    expect(verifyInfobipBasicAuth(infobipBasicAuthHeader('', ''), '', '')).toBe(false);
  });
});
