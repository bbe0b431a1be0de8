import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  claimOutgoingMessage,
  createAssignments,
  createLead,
  createSequence,
  getLead,
  getMessageById,
  listMessages,
  listWebhookEvents,
  markMessageAccepted,
  updateAssignment,
} from '../../src/db/queries';
import { applyInboundMessage, applyStatusEvent, type DeliveryStatus, type StatusEvent } from '../../src/webhooks/ingest';
import { createTestDb } from '../support/db';
import { nextPhone, step } from '../support/drip-harness';

const T = (second: number) => new Date(Date.UTC(2030, 0, 1, 9, 0, second));
const TYPE_OF: Record<DeliveryStatus, string> = {
  sent: 'message_api_sent',
  delivered: 'message_api_delivered',
  read: 'message_api_read',
  failed: 'message_api_failed',
};

describe('webhook ingestion (no Temporal)', () => {
  let db: Db;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  /** An outgoing message the provider accepted at T(0) as `providerMessageId`. */
  async function acceptedMessage() {
    seq += 1;
    const providerMessageId = `pm-${seq}`;
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: `test:${seq}`, leadId: null, phone: '+919812345678', provider: 'interakt', templateName: 'drip_day_1',
      templateLanguage: 'en', messageContent: {}, referenceType: 'manual', referenceId: String(seq), workflowId: null,
      stepIndex: null, callbackData: `test:${seq}`,
    });
    await markMessageAccepted(db, { id: row.id, providerMessageId, at: T(0) });
    return { id: row.id, providerMessageId };
  }

  const event = (providerMessageId: string, status: DeliveryStatus, at: Date, extra: Partial<StatusEvent> = {}): StatusEvent => ({
    provider: 'interakt', eventType: TYPE_OF[status], providerMessageId, status, at, receivedAt: new Date(), payload: '{}', ...extra,
  });

  it('applies each status once: a duplicate is acknowledged as such and changes nothing', async () => {
    const { id, providerMessageId } = await acceptedMessage();
    expect(await applyStatusEvent({ db }, event(providerMessageId, 'delivered', T(5)))).toEqual({ outcome: 'applied', messageId: id });
    const before = await getMessageById(db, id);

    expect(await applyStatusEvent({ db }, event(providerMessageId, 'delivered', T(9)))).toEqual({ outcome: 'duplicate', messageId: id });

    expect(await getMessageById(db, id)).toEqual(before);
    expect(before).toMatchObject({ status: 'delivered', sentAt: T(0), deliveredAt: T(5), readAt: null });
    const events = await listWebhookEvents(db, { providerMessageId, page: 1, pageSize: 10 });
    expect(events.items.map((e) => [e.dedupeKey, e.outcome, e.messageId])).toEqual([[`message_api_delivered:${providerMessageId}`, 'applied', id]]);
  });

  it('ends at read with every timestamp when read, delivered and sent arrive in reverse order, twice', async () => {
    const { id, providerMessageId } = await acceptedMessage();
    const outcomes = [];
    for (const [status, at] of [['read', T(30)], ['delivered', T(20)], ['sent', T(10)], ['read', T(30)], ['delivered', T(20)]] as const) {
      outcomes.push((await applyStatusEvent({ db }, event(providerMessageId, status, at))).outcome);
    }
    // 'sent' is already recorded (accepted at T(0)), so it changes nothing but is still logged.
    expect(outcomes).toEqual(['applied', 'applied', 'unchanged', 'duplicate', 'duplicate']);
    expect(await getMessageById(db, id)).toMatchObject({ status: 'read', sentAt: T(0), deliveredAt: T(20), readAt: T(30), failedAt: null });
    expect((await listWebhookEvents(db, { providerMessageId, page: 1, pageSize: 10 })).total).toBe(3);
  });

  it('keeps a failure with its reason and code, and a late delivered (proof of delivery) overrides it; a late sent does not', async () => {
    const { id, providerMessageId } = await acceptedMessage();
    await applyStatusEvent({ db }, event(providerMessageId, 'failed', T(4), { errorCode: '131026', errorMessage: 'Message undeliverable' }));
    await applyStatusEvent({ db }, event(providerMessageId, 'sent', T(1)));
    expect(await getMessageById(db, id)).toMatchObject({ status: 'failed', failedAt: T(4), errorCode: '131026', errorMessage: 'Message undeliverable' });

    await applyStatusEvent({ db }, event(providerMessageId, 'delivered', T(6)));
    await applyStatusEvent({ db }, event(providerMessageId, 'failed', T(4), { eventType: 'message_campaign_failed' }));
    expect(await getMessageById(db, id)).toMatchObject({ status: 'delivered', deliveredAt: T(6), failedAt: T(4), errorCode: '131026' });
  });

  it('records an event for an unknown message as unknown_message, and applies it when it is redelivered after the message is logged', async () => {
    const first = await applyStatusEvent({ db }, event('pm-not-yet', 'delivered', T(5)));
    expect(first).toEqual({ outcome: 'unknown_message', messageId: null });
    expect(await applyStatusEvent({ db }, event('pm-not-yet', 'delivered', T(5)))).toEqual({ outcome: 'duplicate', messageId: null });

    // The message turns up under that provider id (e.g. the worker recorded the acceptance late).
    seq += 1;
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: `late:${seq}`, leadId: null, phone: '+919812345678', provider: 'interakt', templateName: 'drip_day_1',
      templateLanguage: 'en', messageContent: {}, referenceType: null, referenceId: null, workflowId: null, stepIndex: null, callbackData: null,
    });
    await markMessageAccepted(db, { id: row.id, providerMessageId: 'pm-not-yet', at: T(0) });

    expect(await applyStatusEvent({ db }, event('pm-not-yet', 'delivered', T(5)))).toEqual({ outcome: 'applied', messageId: row.id });
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'delivered', deliveredAt: T(5) });
    const events = await listWebhookEvents(db, { providerMessageId: 'pm-not-yet', page: 1, pageSize: 10 });
    expect(events.items.map((e) => [e.outcome, e.messageId])).toEqual([['applied', row.id]]);
  });

  it('stores an inbound message once, matched to its lead, moves the lead\'s last contact, and names the stop-on-reply drips', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    const stopping = await createSequence(db, { name: `stop ${seq++}`, stopOnReply: true, steps: [step('drip_day_1', 60)] });
    const continuing = await createSequence(db, { name: `go ${seq++}`, steps: [step('drip_day_1', 60)] });
    const ended = await createSequence(db, { name: `ended ${seq++}`, stopOnReply: true, steps: [step('drip_day_1', 60)] });
    const snapshot = (s: typeof stopping) => s.steps.map(({ templateName, templateLanguage, delaySeconds, variables }) => ({ templateName, templateLanguage, delaySeconds, variables }));
    const { created } = await createAssignments(db, [stopping, continuing, ended].map((s) => ({ leadId: lead.id, sequenceId: s.id, sequenceVersion: s.version, steps: snapshot(s) })));
    const [stopId, , endedId] = created.map((a) => a.id);
    await updateAssignment(db, endedId!, { status: 'completed' });

    const receivedAt = new Date(Date.now() + 1_000);
    const inbound = { provider: 'interakt', providerMessageId: 'in-1', fromPhoneE164: lead.phone, text: 'STOP please', contentType: 'Text', receivedAt, raw: '{"type":"message_received"}' };
    const result = await applyInboundMessage({ db }, inbound);

    expect(result).toMatchObject({ outcome: 'stored', leadId: lead.id });
    expect(result.dripsToStop.map((d) => d.id)).toEqual([stopId]);
    const stored = await getMessageById(db, result.messageId);
    expect(stored).toMatchObject({
      direction: 'incoming', status: 'delivered', deliveredAt: receivedAt, leadId: lead.id, phone: lead.phone, providerMessageId: 'in-1',
      messageContent: { text: 'STOP please', contentType: 'Text' }, templateName: null,
    });
    expect((await getLead(db, lead.id))?.lastContactedAt).toEqual(receivedAt);

    const again = await applyInboundMessage({ db }, inbound);
    expect(again).toMatchObject({ outcome: 'duplicate', messageId: result.messageId, leadId: lead.id });
    expect((await listMessages(db, { leadId: lead.id, direction: 'incoming', page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('stores a message from an unknown number with no lead', async () => {
    const result = await applyInboundMessage({ db }, { provider: 'interakt', providerMessageId: 'in-stranger', fromPhoneE164: '+919000000001', text: 'hi', receivedAt: T(3), raw: '{}' });
    expect(result).toMatchObject({ outcome: 'stored', leadId: null, dripsToStop: [] });
    expect(await getMessageById(db, result.messageId)).toMatchObject({ leadId: null, direction: 'incoming', phone: '+919000000001' });
  });
});
