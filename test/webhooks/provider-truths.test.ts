import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { Db } from '../../src/db/client';
import { createLead, getMessageById, listMessages, listWebhookEvents } from '../../src/db/queries';
import { createSendActivities } from '../../src/messages/send';
import { createInteraktProvider } from '../../src/providers/interakt';
import { parseInfobipWebhook } from '../../src/providers/infobip-webhook';
import { createWebhookPipeline, type WebhookPipeline } from '../../src/webhooks/queue';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { captureLogs, silentLogger } from '../support/logs';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';
import { startInfobipEmulator, type StartedInfobipEmulator } from '../support/infobip-emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { seedTemplates } from '../support/templates';

const INTERAKT_SECRET = 'truths-interakt-secret';
const META_SECRET = 'truths-meta-app-secret';
const INFOBIP = { username: 'truths-infobip', password: 'truths infobip password' };
/** A business-scoped user id: how WhatsApp names a user who shares a username, not a number. */
const USER_ID = 'US.13491208655302741918';

/**
 * What the message log and the event ledger keep from each provider, through the real app over
 * HTTP, with the emulators posting exactly what their provider posts: the country code of every
 * number, Interakt's failure time (it writes no `failed_at_utc`), Infobip user ids kept as ids, and
 * Meta's account-level `value.errors`.
 */
describe('what the message log records from each provider', () => {
  let db: Db;
  let pipeline: WebhookPipeline;
  let api: RunningApp;
  let interakt: StartedInteraktEmulator;
  let meta: StartedMetaEmulator;
  let infobip: StartedInfobipEmulator;
  const logs = captureLogs();
  let logMark = 0;

  beforeAll(async () => {
    db = await createTestDb();
    await seedTemplates(db);
    pipeline = createWebhookPipeline(db, { log: silentLogger() });
    api = await listen(
      createApp({
        db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
        taskQueue: 'truths',
        sendTaskQueue: 'truths-sends-interakt',
        defaultCountry: 'IN',
        interaktWebhookSecret: INTERAKT_SECRET,
        metaAppSecret: META_SECRET,
        metaVerifyToken: 'truths-verify',
        infobipWebhookUsername: INFOBIP.username,
        infobipWebhookPassword: INFOBIP.password,
        log: logs.logger,
        webhookPipeline: pipeline,
      }),
    );
    interakt = await startInteraktEmulator({
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: INTERAKT_SECRET,
      autoWebhooks: false,
    });
    meta = await startMetaEmulator({
      appSecret: META_SECRET,
      webhookUrl: `${api.url}/webhooks/meta`,
      autoWebhooks: false,
    });
    infobip = await startInfobipEmulator({
      webhookUrl: `${api.url}/webhooks/infobip`,
      webhookAuth: INFOBIP,
      autoReports: false,
    });
  });
  afterAll(async () => {
    await Promise.all([interakt?.close(), meta?.close(), infobip?.close()]);
    await api?.close();
    await pipeline?.close();
    await db?.close();
  });
  beforeEach(() => {
    logMark = logs.mark();
  });

  const sends = () =>
    createSendActivities({
      db,
      provider: createInteraktProvider({
        baseUrl: interakt.baseUrl,
        getApiKey: () => 'test-interakt-key',
        timeoutMs: 10_000,
      }),
      reconcileWindowMs: 60_000,
      configRetryDelayMs: 1_000,
    });

  async function sendDrip(phone: string, assignmentId: number) {
    const lead = await createLead(db, { name: 'Asha Rao', phone });
    const result = await sends().sendDripStep({
      assignmentId,
      workflowId: `drip-${assignmentId}`,
      leadId: lead.id,
      stepIndex: 0,
      step: {
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        delaySeconds: 0,
        variables: { body: [{ field: 'name' }] },
      },
    });
    if (result.kind !== 'sent') throw new Error(`not sent: ${JSON.stringify(result)}`);
    return { lead, result };
  }

  it('fills the country code of every outgoing and incoming message, whatever the country', async () => {
    const india = await sendDrip('+919876500001', 801);
    const uk = await sendDrip('+447911123456', 802);
    expect(await getMessageById(db, india.result.messageId)).toMatchObject({
      phone: '+919876500001',
      countryCode: '+91',
    });
    expect(await getMessageById(db, uk.result.messageId)).toMatchObject({ phone: '+447911123456', countryCode: '+44' });

    const reply = await interakt.emulator.state.deliverInbound('+447911123456', 'Yes please');
    expect(reply.responseStatus).toBe(200);
    const incoming = await listMessages(db, { leadId: uk.lead.id, direction: 'incoming', page: 1, pageSize: 5 });
    expect(incoming.items).toEqual([expect.objectContaining({ phone: '+447911123456', countryCode: '+44' })]);
  });

  it('dates an Interakt failure by the webhook’s own timestamp: Interakt writes no failed_at_utc', async () => {
    const { result } = await sendDrip('+919876500003', 803);
    const delivery = await interakt.emulator.state.deliverWebhook(result.providerMessageId, 'message_api_failed', {
      failureReason: 'Recipient is not a valid WhatsApp user',
    });
    expect(delivery.responseStatus).toBe(200);
    const body = JSON.parse(delivery.rawBody) as { timestamp: string; data: { message: Record<string, unknown> } };
    expect(Object.keys(body.data.message)).not.toContain('failed_at_utc');
    await pipeline.processor.idle();
    expect(await getMessageById(db, result.messageId)).toMatchObject({
      status: 'failed',
      failedAt: new Date(`${body.timestamp}Z`),
      errorMessage: 'Recipient is not a valid WhatsApp user',
    });
  });

  it('keeps an Infobip business-scoped user id as the id it is, never as a made-up phone number', async () => {
    const delivery = await infobip.emulator.state.deliverInboundMessage({ from: USER_ID, text: 'Hi, is this open?' });
    expect(delivery.responseStatus).toBe(200);
    const [event] = parseInfobipWebhook(JSON.parse(delivery.rawBody));
    expect(event).toMatchObject({ kind: 'inbound', from: null, fromUserId: USER_ID });

    const { items } = await listMessages(db, { direction: 'incoming', page: 1, pageSize: 50 });
    const stored = items.find((message) => message.providerMessageId === delivery.messageIds[0]);
    // Before, the id's digits became "+13491208655302741918", a number nobody has.
    expect(stored).toMatchObject({ provider: 'infobip', phone: USER_ID, countryCode: null, leadId: null });
    expect(items.some((message) => message.phone === '+13491208655302741918')).toBe(false);
  });

  it('reads a delivery report to a user id as that user id, and one to a number as the number', () => {
    const report = (to: string, contact: Record<string, string>) => ({
      results: [{ messageId: 'm-1', to, status: { groupName: 'DELIVERED', name: 'DELIVERED_TO_HANDSET' }, contact }],
    });
    expect(parseInfobipWebhook(report(USER_ID, { userId: USER_ID }))[0]).toMatchObject({
      recipient: null,
      recipientUserId: USER_ID,
    });
    expect(parseInfobipWebhook(report('919876543210', { phoneNumber: '919876543210' }))[0]).toMatchObject({
      recipient: '919876543210',
      recipientUserId: null,
    });
  });

  it('records Meta’s account-level value.errors once, and logs their code', async () => {
    const delivery = await meta.emulator.state.deliverAccountErrors([
      { code: 131000, details: 'Something went wrong while building this webhook' },
    ]);
    expect(delivery.responseStatus).toBe(200);
    const answer = await fetch(`${api.url}/webhooks/meta`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': delivery.signature! },
      body: delivery.rawBody,
    });
    expect(await answer.json()).toEqual({ received: true, statuses: 0, inbound: 0, errors: 1 });

    const { items } = await listWebhookEvents(db, { provider: 'meta', page: 1, pageSize: 50 });
    const errors = items.filter((event) => event.eventType === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ outcome: 'recorded', providerMessageId: null, messageId: null });
    expect(JSON.parse(errors[0]!.payload)).toMatchObject({
      error: { code: 131000, error_data: { details: 'Something went wrong while building this webhook' } },
    });
    expect(logs.since(logMark).filter((line) => line.code === '131000' || line.code === 131000)).toHaveLength(1);
  });
});
