/**
 * Keyword confirmations, on the Temporal dev server: the Interakt emulator posts a lead's STOP or
 * START to the API (signed webhook), the keyword is applied, and `keyword-reply-<inboundId>` sends
 * the template the delivery settings name, once, through the emulator.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import {
  createApiKey,
  createLead as createLeadRow,
  getLead,
  listLeadNotes,
  listMessages,
  updateLead,
} from '../../src/db/queries';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { createKeywordReplyActivities } from '../../src/keyword-replies/activities';
import { keywordReplyWorkflowId } from '../../src/keyword-replies/contract';
import type { keywordReplyWorkflow } from '../../src/keyword-replies/workflow';
import { createInteraktProvider } from '../../src/providers/interakt';
import { sendTaskQueue } from '../../src/shared';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { EMULATOR_KEY, nextPhone, startDripHarness, waitFor, type DripHarness } from '../support/drip-harness';
import { silentLogger } from '../support/logs';
import { createDevServerEnv, uniqueTaskQueue } from '../support/temporal';
import { seedTemplates } from '../support/templates';

const WEBHOOK_SECRET = 'test-webhook-secret';
/** No variable: the opt-out confirmation. The opt-in one is drip_day_1 (`Hi {{1}}, …`). */
const STOP_CONFIRMATION: EmulatorTemplate = {
  name: 'stop_confirmation',
  language: 'en',
  body: 'You will get no more messages from us. Reply START to hear from us again.',
};

describe('keyword confirmations', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let harness: DripHarness;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const taskQueue = uniqueTaskQueue('keyword-reply');

  beforeAll(async () => {
    env = await createDevServerEnv();
    db = await createTestDb();
    api = await listen(
      createApp({
        db,
        temporal: env.client,
        taskQueue,
        sendTaskQueue: sendTaskQueue(taskQueue, 'interakt'),
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        log: silentLogger(),
      }),
    );
    harness = await startDripHarness({
      db,
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      webhookUrl: `${api.url}/webhooks/interakt`,
      webhookSecret: WEBHOOK_SECRET,
    });
    harness.emulator.emulator.state.upsertTemplate(STOP_CONFIRMATION);
    await seedTemplates(db, [STOP_CONFIRMATION]);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await harness?.stop();
    await api?.close();
    await env?.teardown();
    await db?.close();
  });

  const setReplies = async (keywordReplies: Record<string, unknown>) => {
    const response = await request('PUT', '/settings/delivery', { keywordReplies });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };

  const createLead = async () => {
    const response = await request('POST', '/leads', { name: 'Asha Rao', phone: nextPhone() });
    expect(response.status).toBe(201);
    return response.body as { id: number; phone: string };
  };

  /** Our id of the lead's stored inbound message (the workflow id's key). */
  const inboundId = async (leadId: number, text: string) =>
    waitFor(async () => {
      const log = await listMessages(db, { page: 1, pageSize: 50, leadId, direction: 'incoming' });
      return log.items.find((row) => (row.messageContent as { text?: string } | null)?.text === text)?.id;
    }, `the inbound ${text}`);

  const result = (id: number) =>
    env.client.workflow.getHandle<typeof keywordReplyWorkflow>(keywordReplyWorkflowId(id)).result();

  const acceptedFor = (phone: string) => harness.accepted().filter((message) => message.phone === phone);

  it('keeps no confirmation by default, and refuses a template Message Master does not have', async () => {
    const settings = await request('GET', '/settings/delivery');
    expect(settings.body.keywordReplies).toEqual({ optOut: null, optIn: null });

    const refused = await request('PUT', '/settings/delivery', {
      keywordReplies: { optOut: { templateName: 'no_such_template', templateLanguage: 'en' } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('keywordReplies.optOut.templateName');

    // Two body variables: a confirmation only knows the lead's name.
    const twoVariables = await request('PUT', '/settings/delivery', {
      keywordReplies: { optIn: { templateName: 'welcome_message', templateLanguage: 'en' } },
    });
    expect(twoVariables.status).toBe(400);
    expect((await request('GET', '/settings/delivery')).body.keywordReplies).toEqual({ optOut: null, optIn: null });
  });

  it('sends nothing back to a STOP while no confirmation template is set', async () => {
    await setReplies({ optOut: null, optIn: null });
    const lead = await createLead();
    await harness.emulator.emulator.state.deliverInbound(lead.phone, 'STOP');
    await waitFor(async () => (await getLead(db, lead.id))?.optedOut === true, 'opted out');
    const id = await inboundId(lead.id, 'STOP');

    await expect(env.client.workflow.getHandle(keywordReplyWorkflowId(id)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
    expect(acceptedFor(lead.phone)).toEqual([]);
  });

  it('confirms a STOP once to the lead now opted out, however often the webhook is delivered', async () => {
    const settings = await setReplies({ optOut: { templateName: 'stop_confirmation', templateLanguage: 'en' } });
    expect(settings.keywordReplies).toEqual({
      optOut: { templateName: 'stop_confirmation', templateLanguage: 'en' },
      optIn: null,
    });
    const lead = await createLead();
    const state = harness.emulator.emulator.state;

    // The same inbound message delivered twice at once, then again after the reply went.
    const first = await state.deliverInbound(lead.phone, 'Stop!', { messageId: `stop-${lead.id}` });
    const again = await state.deliverInbound(lead.phone, 'Stop!', { messageId: `stop-${lead.id}` });
    expect([first.responseStatus, again.responseStatus]).toEqual([200, 200]);
    const id = await inboundId(lead.id, 'Stop!');
    expect(await result(id)).toMatchObject({ kind: 'sent' });
    const late = await state.deliverInbound(lead.phone, 'Stop!', { messageId: `stop-${lead.id}` });
    expect(late.responseStatus).toBe(200);
    // The late delivery started a new run, which found the send in the message log.
    expect(await result(id)).toMatchObject({ kind: 'sent' });

    expect((await getLead(db, lead.id))?.optedOut).toBe(true);
    expect(acceptedFor(lead.phone)).toEqual([
      expect.objectContaining({
        template: { name: 'stop_confirmation', languageCode: 'en' },
        callbackData: `keyword-reply-${id}:0`,
      }),
    ]);
    const log = await listMessages(db, { page: 1, pageSize: 10, leadId: lead.id, direction: 'outgoing' });
    expect(log.items.map(({ referenceType, referenceId, status }) => ({ referenceType, referenceId, status }))).toEqual(
      [
        {
          referenceType: 'keyword_reply',
          referenceId: String(id),
          status: expect.stringMatching(/sent|delivered|read/),
        },
      ],
    );
  });

  it('confirms a START with the lead’s name, keeping the opt-out template when only optIn is given', async () => {
    const settings = await setReplies({ optIn: { templateName: 'drip_day_1' } });
    expect(settings.keywordReplies).toEqual({
      optOut: { templateName: 'stop_confirmation', templateLanguage: 'en' },
      optIn: { templateName: 'drip_day_1', templateLanguage: 'en' },
    });
    const lead = await createLead();
    const state = harness.emulator.emulator.state;
    await state.deliverInbound(lead.phone, 'STOP');
    const stopId = await inboundId(lead.id, 'STOP');
    expect(await result(stopId)).toMatchObject({ kind: 'sent' });

    await state.deliverInbound(lead.phone, 'start');
    const startId = await inboundId(lead.id, 'start');
    expect(await result(startId)).toMatchObject({ kind: 'sent' });
    expect((await getLead(db, lead.id))?.optedOut).toBe(false);

    expect(acceptedFor(lead.phone).map((message) => [message.template.name, message.bodyValues])).toEqual([
      ['stop_confirmation', []],
      ['drip_day_1', ['Asha Rao']],
    ]);
  });

  it('confirms a keyword only when it changes the lead: a second STOP, or START while opted in, gets nothing', async () => {
    await setReplies({
      optOut: { templateName: 'stop_confirmation', templateLanguage: 'en' },
      optIn: { templateName: 'drip_day_1', templateLanguage: 'en' },
    });
    const lead = await createLead();
    const state = harness.emulator.emulator.state;
    // Inbound messages are applied before the webhook is answered, confirmation start included.
    expect((await state.deliverInbound(lead.phone, 'START')).responseStatus).toBe(200);
    await state.deliverInbound(lead.phone, 'STOP');
    expect(await result(await inboundId(lead.id, 'STOP'))).toMatchObject({ kind: 'sent' });
    expect((await state.deliverInbound(lead.phone, 'stop')).responseStatus).toBe(200);

    for (const text of ['START', 'stop']) {
      const id = await inboundId(lead.id, text);
      await expect(env.client.workflow.getHandle(keywordReplyWorkflowId(id)).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
    expect((await getLead(db, lead.id))?.optedOut).toBe(true);
    expect(acceptedFor(lead.phone).map((message) => message.template.name)).toEqual(['stop_confirmation']);
    // The timeline notes the one change, not the keywords that changed nothing.
    const notes = await listLeadNotes(db, lead.id);
    expect(notes.filter((note) => note.source === 'keyword').map((note) => note.body)).toEqual([
      'Opted out by keyword: every drip and CTA flow stopped, no more messages',
    ]);
  });

  it('sends the opt-out confirmation to an opted-out lead, but no opt-in confirmation to one', async () => {
    const provider = createInteraktProvider({
      baseUrl: harness.emulator.baseUrl,
      getApiKey: () => EMULATOR_KEY,
      timeoutMs: 2_000,
    });
    const { sendKeywordReply } = createKeywordReplyActivities({
      db,
      provider,
      reconcileWindowMs: 1_000,
      configRetryDelayMs: 1_000,
    });
    const lead = await createLeadRow(db, { name: 'Asha Rao', phone: nextPhone() });
    await updateLead(db, lead.id, { optedOut: true });

    // A START whose reply ran only after the lead had written STOP again: nothing goes.
    expect(
      await sendKeywordReply({
        leadId: lead.id,
        inboundMessageId: 900_001,
        keyword: 'opt_in',
        templateName: 'drip_day_1',
        templateLanguage: 'en',
      }),
    ).toEqual({ kind: 'skipped', reason: 'opted_out' });
    expect(
      await sendKeywordReply({
        leadId: lead.id,
        inboundMessageId: 900_002,
        keyword: 'opt_out',
        templateName: 'stop_confirmation',
        templateLanguage: 'en',
      }),
    ).toMatchObject({ kind: 'sent' });
    expect(acceptedFor(lead.phone).map((message) => message.callbackData)).toEqual(['keyword-reply-900002:0']);
  });
});
