import { dripWorkflowId } from '../../src/drips/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  createAssignments,
  createLead,
  createSequence,
  getLead,
  getMessageById,
  listMessages,
  updateAssignment,
} from '../../src/db/queries';
import { applyInboundMessage } from '../../src/webhooks/ingest';
import { createTestDb } from '../support/db';
import { nextPhone, step } from '../support/drip-harness';

const T = (second: number) => new Date(Date.UTC(2030, 0, 1, 9, 0, second));
describe('inbound message ingestion (no Temporal)', () => {
  let db: Db;
  let seq = 0;

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("stores an inbound message once, matched to its lead, moves the lead's last contact, and names the stop-on-reply drips", async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    const stopping = await createSequence(db, {
      name: `stop ${seq++}`,
      stopOnReply: true,
      steps: [step('drip_day_1', 60)],
    });
    const continuing = await createSequence(db, { name: `go ${seq++}`, steps: [step('drip_day_1', 60)] });
    const ended = await createSequence(db, {
      name: `ended ${seq++}`,
      stopOnReply: true,
      steps: [step('drip_day_1', 60)],
    });
    const snapshot = (s: typeof stopping) =>
      s.steps.map(({ templateName, templateLanguage, delaySeconds, variables }) => ({
        templateName,
        templateLanguage,
        delaySeconds,
        variables,
      }));
    const { created } = await createAssignments(
      db,
      [stopping, continuing, ended].map((s) => ({
        leadId: lead.id,
        sequenceId: s.id,
        sequenceVersion: s.version,
        steps: snapshot(s),
      })),
      dripWorkflowId,
    );
    const [stopId, , endedId] = created.map((a) => a.id);
    await updateAssignment(db, endedId!, { status: 'completed' });

    const receivedAt = new Date(Date.now() + 1_000);
    const inbound = {
      provider: 'interakt',
      providerMessageId: 'in-1',
      fromPhoneE164: lead.phone,
      text: 'STOP please',
      contentType: 'Text',
      receivedAt,
      raw: '{"type":"message_received"}',
    };
    const result = await applyInboundMessage({ db }, inbound);

    expect(result).toMatchObject({ outcome: 'stored', leadId: lead.id });
    expect(result.dripsToStop.map((d) => d.id)).toEqual([stopId]);
    const stored = await getMessageById(db, result.messageId);
    expect(stored).toMatchObject({
      direction: 'incoming',
      status: 'delivered',
      deliveredAt: receivedAt,
      leadId: lead.id,
      phone: lead.phone,
      providerMessageId: 'in-1',
      messageContent: { text: 'STOP please', contentType: 'Text' },
      templateName: null,
    });
    expect((await getLead(db, lead.id))?.lastContactedAt).toEqual(receivedAt);

    const again = await applyInboundMessage({ db }, inbound);
    expect(again).toMatchObject({ outcome: 'duplicate', messageId: result.messageId, leadId: lead.id });
    expect((await listMessages(db, { leadId: lead.id, direction: 'incoming', page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('stores a message from an unknown number with no lead', async () => {
    const result = await applyInboundMessage(
      { db },
      {
        provider: 'interakt',
        providerMessageId: 'in-stranger',
        fromPhoneE164: '+919000000001',
        text: 'hi',
        receivedAt: T(3),
        raw: '{}',
      },
    );
    expect(result).toMatchObject({ outcome: 'stored', leadId: null, dripsToStop: [] });
    expect(await getMessageById(db, result.messageId)).toMatchObject({
      leadId: null,
      direction: 'incoming',
      phone: '+919000000001',
    });
  });
});
