import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  applyMessageStatus,
  beginSendAttempt,
  claimOutgoingMessage,
  getMessageById,
  getMessageByKey,
  listMessages,
  markMessageAccepted,
  markMessageFailed,
  releaseSendAttempt,
  type ClaimOutgoingMessageParams,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

const claimParams = (key: string, overrides: Partial<ClaimOutgoingMessageParams> = {}): ClaimOutgoingMessageParams => ({
  idempotencyKey: key,
  leadId: 1,
  phone: '+919812345678',
  provider: 'interakt',
  templateName: 'welcome',
  templateLanguage: 'en',
  messageContent: { bodyValues: ['Asha'] },
  referenceType: 'drip',
  referenceId: '7',
  workflowId: 'drip-7',
  stepIndex: 0,
  callbackData: key,
  ...overrides,
});

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

/** A claimed message already through beginSendAttempt, i.e. a provider call in flight. */
async function sendingMessage(key = 'drip-7:0') {
  const row = await claimOutgoingMessage(db, claimParams(key));
  await beginSendAttempt(db, { id: row.id, now: at(0) });
  return row;
}

describe('claimOutgoingMessage', () => {
  it('creates a pending row for a new key and returns the same row, untouched, for the same key', async () => {
    const first = await claimOutgoingMessage(db, claimParams('drip-7:0'));
    expect(first).toMatchObject({
      status: 'pending',
      attempts: 0,
      direction: 'outgoing',
      messageContent: { bodyValues: ['Asha'] },
    });

    await beginSendAttempt(db, { id: first.id, now: at(1) });
    const again = await claimOutgoingMessage(db, claimParams('drip-7:0', { templateName: 'changed' }));

    expect(again.id).toBe(first.id);
    expect(again).toMatchObject({ status: 'sending', attempts: 1, templateName: 'welcome' });
  });

  it('concurrent claims of one key all get the single row', async () => {
    const rows = await Promise.all(Array.from({ length: 8 }, () => claimOutgoingMessage(db, claimParams('race:1'))));
    expect(new Set(rows.map((row) => row.id)).size).toBe(1);
    expect((await listMessages(db, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('rows without an idempotency key (incoming messages) do not collide with each other', async () => {
    const t = db.schema.whatsAppMessages;
    const incoming = {
      direction: 'incoming' as const,
      provider: 'interakt',
      phone: '+911',
      status: 'delivered' as const,
    };
    await db.orm.insert(t).values(incoming);
    await db.orm.insert(t).values(incoming);
    expect((await listMessages(db, { page: 1, pageSize: 10 })).total).toBe(2);
  });
});

describe('send attempts', () => {
  it('beginSendAttempt claims pending and sending rows, counting attempts, and refuses rows that moved on', async () => {
    const row = await claimOutgoingMessage(db, claimParams('k'));

    expect(await beginSendAttempt(db, { id: row.id, now: at(1) })).toBe(true);
    expect(await beginSendAttempt(db, { id: row.id, now: at(2) })).toBe(true);
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'sending', attempts: 2, attemptStartedAt: at(2) });

    await markMessageAccepted(db, { id: row.id, providerMessageId: 'p1', at: at(3) });
    expect(await beginSendAttempt(db, { id: row.id, now: at(4) })).toBe(false);
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('releaseSendAttempt puts a sending row back to pending and leaves other statuses alone', async () => {
    const row = await sendingMessage();
    expect(await releaseSendAttempt(db, { id: row.id })).toBe(true);
    expect((await getMessageById(db, row.id))?.status).toBe('pending');
    expect(await releaseSendAttempt(db, { id: row.id })).toBe(false);
  });

  it('markMessageAccepted records the provider id and SentAt', async () => {
    const row = await sendingMessage();
    expect(await markMessageAccepted(db, { id: row.id, providerMessageId: 'p1', at: at(5) })).toBe(true);
    expect(await getMessageByKey(db, 'drip-7:0')).toMatchObject({
      status: 'sent',
      providerMessageId: 'p1',
      sentAt: at(5),
    });
  });

  it('markMessageAccepted never downgrades a row a webhook already moved to delivered, but fills the missing provider id', async () => {
    const row = await sendingMessage();
    await applyMessageStatus(db, { callbackData: 'drip-7:0', status: 'delivered', at: at(2) });

    expect(await markMessageAccepted(db, { id: row.id, providerMessageId: 'p1', at: at(3) })).toBe(false);
    expect(await getMessageById(db, row.id)).toMatchObject({
      status: 'delivered',
      providerMessageId: 'p1',
      deliveredAt: at(2),
      sentAt: at(3),
    });
  });

  it('markMessageFailed records the error and does not override a delivered message', async () => {
    const row = await sendingMessage();
    expect(await markMessageFailed(db, { id: row.id, errorCode: 'E1', errorMessage: 'bad template', at: at(1) })).toBe(
      true,
    );
    expect(await getMessageById(db, row.id)).toMatchObject({
      status: 'failed',
      errorCode: 'E1',
      errorMessage: 'bad template',
      failedAt: at(1),
    });

    const other = await sendingMessage('k2');
    await markMessageAccepted(db, { id: other.id, providerMessageId: 'p2', at: at(1) });
    await applyMessageStatus(db, { providerMessageId: 'p2', status: 'delivered', at: at(2) });
    expect(await markMessageFailed(db, { id: other.id, errorCode: 'E', errorMessage: 'late', at: at(3) })).toBe(false);
    expect((await getMessageById(db, other.id))?.status).toBe('delivered');
  });
});

describe('applyMessageStatus', () => {
  it('moves status forward and stamps each status’s own timestamp once', async () => {
    const row = await sendingMessage();
    await markMessageAccepted(db, { id: row.id, providerMessageId: 'p1', at: at(1) });

    expect(await applyMessageStatus(db, { providerMessageId: 'p1', status: 'delivered', at: at(2) })).toEqual({
      matched: true,
      changed: true,
      messageId: row.id,
    });
    expect(await applyMessageStatus(db, { providerMessageId: 'p1', status: 'delivered', at: at(9) })).toEqual({
      matched: true,
      changed: false,
      messageId: row.id,
    });
    await applyMessageStatus(db, { providerMessageId: 'p1', status: 'read', at: at(3) });

    expect(await getMessageById(db, row.id)).toMatchObject({
      status: 'read',
      sentAt: at(1),
      deliveredAt: at(2),
      readAt: at(3),
    });
  });

  it('never moves status backwards: a late delivered report after read keeps read and fills DeliveredAt only', async () => {
    const row = await sendingMessage();
    await markMessageAccepted(db, { id: row.id, providerMessageId: 'p1', at: at(1) });
    await applyMessageStatus(db, { providerMessageId: 'p1', status: 'read', at: at(3) });

    const late = await applyMessageStatus(db, { providerMessageId: 'p1', status: 'delivered', at: at(2) });

    expect(late.changed).toBe(true);
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'read', deliveredAt: at(2), readAt: at(3) });
    await applyMessageStatus(db, { providerMessageId: 'p1', status: 'sent', at: at(4) });
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'read', sentAt: at(1) });
  });

  it('failed overrides sent but not delivered or read', async () => {
    const a = await sendingMessage('a');
    await markMessageAccepted(db, { id: a.id, providerMessageId: 'pa', at: at(1) });
    await applyMessageStatus(db, {
      providerMessageId: 'pa',
      status: 'failed',
      at: at(2),
      errorCode: '131026',
      errorMessage: 'undeliverable',
    });
    expect(await getMessageById(db, a.id)).toMatchObject({ status: 'failed', failedAt: at(2), errorCode: '131026' });

    const b = await sendingMessage('b');
    await markMessageAccepted(db, { id: b.id, providerMessageId: 'pb', at: at(1) });
    await applyMessageStatus(db, { providerMessageId: 'pb', status: 'read', at: at(2) });
    const result = await applyMessageStatus(db, {
      providerMessageId: 'pb',
      status: 'failed',
      at: at(3),
      errorCode: 'x',
    });
    expect(result).toMatchObject({ matched: true, changed: false });
    expect(await getMessageById(db, b.id)).toMatchObject({ status: 'read', failedAt: null, errorCode: null });
  });

  it('reconciles an ambiguous send: found by callbackData, a sending row gets its provider id and becomes sent', async () => {
    const row = await sendingMessage('drip-7:1');

    const result = await applyMessageStatus(db, {
      providerMessageId: 'p-late',
      callbackData: 'drip-7:1',
      status: 'sent',
      at: at(4),
    });

    expect(result).toEqual({ matched: true, changed: true, messageId: row.id });
    expect(await getMessageById(db, row.id)).toMatchObject({
      status: 'sent',
      providerMessageId: 'p-late',
      sentAt: at(4),
    });
    // Later reports now find it by provider id.
    await applyMessageStatus(db, { providerMessageId: 'p-late', status: 'delivered', at: at(5) });
    expect((await getMessageById(db, row.id))?.status).toBe('delivered');
  });

  it('a delivered report by callbackData on a sending row fills the provider id and moves it to delivered', async () => {
    const row = await sendingMessage('drip-7:2');
    await applyMessageStatus(db, {
      callbackData: 'drip-7:2',
      providerMessageIdToSet: 'p9',
      status: 'delivered',
      at: at(6),
    });
    expect(await getMessageById(db, row.id)).toMatchObject({
      status: 'delivered',
      providerMessageId: 'p9',
      deliveredAt: at(6),
    });
  });

  it('reports for unknown messages match nothing', async () => {
    expect(
      await applyMessageStatus(db, { providerMessageId: 'nope', callbackData: 'nope', status: 'read', at: at(1) }),
    ).toEqual({
      matched: false,
      changed: false,
    });
  });
});

describe('listMessages', () => {
  it('filters by lead, reference and status and pages newest first', async () => {
    for (let i = 0; i < 5; i++) {
      await claimOutgoingMessage(db, claimParams(`k${i}`, { leadId: i % 2, referenceId: i < 3 ? '7' : '8' }));
    }
    const ofRef = await listMessages(db, { referenceType: 'drip', referenceId: '7', page: 1, pageSize: 2 });
    expect(ofRef.total).toBe(3);
    expect(ofRef.items.map((m) => m.idempotencyKey)).toEqual(['k2', 'k1']);

    const ofLead = await listMessages(db, { leadId: 1, page: 1, pageSize: 10 });
    expect(ofLead.items.map((m) => m.idempotencyKey)).toEqual(['k3', 'k1']);
    expect((await listMessages(db, { status: 'sent', page: 1, pageSize: 10 })).total).toBe(0);
  });
});
