/**
 * Group commit and the pending-event processor (src/webhooks/queue.ts) on SQLite, no Temporal:
 * acknowledged means stored; applied exactly once, monotonically, in any order; nothing lost
 * when the process dies between storing and applying.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { claimOutgoingMessage, getMessageById, listWebhookEvents, markMessageAccepted } from '../../src/db/queries';
import type { DeliveryStatus, StatusEvent } from '../../src/webhooks/ingest';
import { createWebhookPipeline, StatusEventBatcher, WebhookEventProcessor } from '../../src/webhooks/queue';
import { createTestDb } from '../support/db';

const T = (second: number) => new Date(Date.UTC(2030, 0, 1, 9, 0, second));

describe('webhook group commit and processor', () => {
  let db: Db;
  let seq = 0;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function acceptedMessage() {
    seq += 1;
    const providerMessageId = `q-${seq}`;
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: `queue:${seq}`,
      leadId: null,
      phone: '+919812345678',
      provider: 'interakt',
      templateName: 'drip_day_1',
      templateLanguage: 'en',
      messageContent: {},
      referenceType: 'manual',
      referenceId: String(seq),
      workflowId: null,
      stepIndex: null,
      callbackData: `queue:${seq}`,
    });
    await markMessageAccepted(db, { id: row.id, providerMessageId, at: T(0) });
    return { id: row.id, providerMessageId };
  }

  const event = (
    providerMessageId: string,
    status: DeliveryStatus,
    at: Date,
    extra: Partial<StatusEvent> = {},
  ): StatusEvent => ({
    provider: 'interakt',
    eventType: `message_api_${status}`,
    providerMessageId,
    status,
    at,
    receivedAt: new Date(),
    payload: `{"${status}":"${providerMessageId}"}`,
    ...extra,
  });
  const outcomes = async (providerMessageId: string) =>
    (await listWebhookEvents(db, { providerMessageId, page: 1, pageSize: 20 })).items
      .map((e) => [e.eventType, e.outcome])
      .sort();

  it('batches concurrent events into one commit, answers duplicates (within and across batches) as such, and applies out-of-order reports monotonically', async () => {
    const pipeline = createWebhookPipeline(db, { batcher: { maxDelayMs: 5 } });
    const { id, providerMessageId } = await acceptedMessage();
    const first = await Promise.all([
      pipeline.batcher.submit(event(providerMessageId, 'read', T(30))),
      pipeline.batcher.submit(event(providerMessageId, 'delivered', T(20))),
      pipeline.batcher.submit(event(providerMessageId, 'read', T(30))),
      pipeline.batcher.submit(event(providerMessageId, 'sent', T(10))),
    ]);
    expect(first.map((r) => r.outcome)).toEqual(['queued', 'queued', 'duplicate', 'queued']);
    expect((await pipeline.batcher.submit(event(providerMessageId, 'delivered', T(20)))).outcome).toBe('duplicate');
    await pipeline.processor.idle();
    expect(await getMessageById(db, id)).toMatchObject({
      status: 'read',
      sentAt: T(0),
      deliveredAt: T(20),
      readAt: T(30),
      failedAt: null,
    });
    expect(await outcomes(providerMessageId)).toEqual([
      ['message_api_delivered', 'applied'],
      ['message_api_read', 'applied'],
      ['message_api_sent', 'unchanged'],
    ]);
    await pipeline.close();
  });

  it('keeps a failure with its reason; a late sent in the same batch does not undo it', async () => {
    const pipeline = createWebhookPipeline(db);
    const { id, providerMessageId } = await acceptedMessage();
    await Promise.all([
      pipeline.batcher.submit(
        event(providerMessageId, 'failed', T(4), { errorCode: '131026', errorMessage: 'Message undeliverable' }),
      ),
      pipeline.batcher.submit(event(providerMessageId, 'sent', T(1))),
    ]);
    await pipeline.processor.idle();
    expect(await getMessageById(db, id)).toMatchObject({
      status: 'failed',
      failedAt: T(4),
      errorCode: '131026',
      errorMessage: 'Message undeliverable',
    });
    await pipeline.close();
  });

  it('records an unknown message id as unknown_message, and applies the redelivery once the message exists', async () => {
    const pipeline = createWebhookPipeline(db);
    expect((await pipeline.batcher.submit(event('q-not-yet', 'delivered', T(5)))).outcome).toBe('queued');
    await pipeline.processor.idle();
    expect(await outcomes('q-not-yet')).toEqual([['message_api_delivered', 'unknown_message']]);

    const row = await claimOutgoingMessage(db, {
      idempotencyKey: 'queue:late',
      leadId: null,
      phone: '+919812345678',
      provider: 'interakt',
      templateName: 'drip_day_1',
      templateLanguage: 'en',
      messageContent: {},
      referenceType: null,
      referenceId: null,
      workflowId: null,
      stepIndex: null,
      callbackData: null,
    });
    await markMessageAccepted(db, { id: row.id, providerMessageId: 'q-not-yet', at: T(0) });
    expect((await pipeline.batcher.submit(event('q-not-yet', 'delivered', T(5)))).outcome).toBe('duplicate');
    await pipeline.processor.idle();
    expect(await getMessageById(db, row.id)).toMatchObject({ status: 'delivered', deliveredAt: T(5) });
    const events = await listWebhookEvents(db, { providerMessageId: 'q-not-yet', page: 1, pageSize: 10 });
    expect(events.items.map((e) => [e.outcome, e.messageId])).toEqual([['applied', row.id]]);
    await pipeline.close();
  });

  it('loses nothing when the process dies between storing and applying: a new processor applies every stored event once', async () => {
    const messages = await Promise.all([acceptedMessage(), acceptedMessage(), acceptedMessage()]);
    // The "crashed" process: events stored and acknowledged, its processor never ran.
    const batcher = new StatusEventBatcher(db);
    const stored = await Promise.all(
      messages.flatMap(({ providerMessageId }) => [
        batcher.submit(event(providerMessageId, 'delivered', T(20))),
        batcher.submit(event(providerMessageId, 'read', T(30))),
      ]),
    );
    expect(stored.every((r) => r.outcome === 'queued')).toBe(true);
    for (const { id, providerMessageId } of messages) {
      expect(await getMessageById(db, id)).toMatchObject({ status: 'sent', deliveredAt: null, readAt: null });
      expect(await outcomes(providerMessageId)).toEqual([
        ['message_api_delivered', 'pending'],
        ['message_api_read', 'pending'],
      ]);
    }

    // The next process: its processor picks the pending rows up at start, in batches.
    const processor = new WebhookEventProcessor(db, { batchSize: 2 });
    processor.start();
    await processor.idle();
    for (const { id, providerMessageId } of messages) {
      expect(await getMessageById(db, id)).toMatchObject({ status: 'read', deliveredAt: T(20), readAt: T(30) });
      expect(await outcomes(providerMessageId)).toEqual([
        ['message_api_delivered', 'applied'],
        ['message_api_read', 'applied'],
      ]);
    }
    // A second processor finds nothing left to apply.
    expect(await processor.applyPending()).toBe(0);
    await processor.stop();
  });
});
