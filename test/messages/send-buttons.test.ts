import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { createLead } from '../../src/db/queries';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { createSendActivities } from '../../src/messages/send';
import { createInfobipProvider } from '../../src/providers/infobip';
import { createMetaProvider } from '../../src/providers/meta';
import type { MessagingProvider } from '../../src/providers/types';
import { createTestDb } from '../support/db';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';
import { seedTemplates } from '../support/templates';

/** One template in Message Master and at both providers: a quick reply, a dynamic URL, a phone button. */
const ORDER_UPDATE: EmulatorTemplate = {
  name: 'order_update',
  language: 'en',
  body: 'Hi {{1}}, your order shipped.',
  buttons: [
    { type: 'QUICK_REPLY', text: 'Thanks' },
    { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
    { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919800000000' },
  ],
};

/**
 * A drip step with button values, sent through the real send activity: Message Master supplies the
 * template's buttons, so each provider gets every button it binds, in the shape it takes, and its
 * emulator (which checks them against the registered template) accepts the message.
 */
describe('a drip step whose template has buttons', () => {
  let db: Db;
  let infobip: StartedInfobipEmulator;
  let meta: StartedMetaEmulator;
  let assignment = 0;

  beforeAll(async () => {
    db = await createTestDb();
    await seedTemplates(db, [ORDER_UPDATE]);
    infobip = await startInfobipEmulator({ autoReports: false, templates: [ORDER_UPDATE] });
    meta = await startMetaEmulator({ templates: [ORDER_UPDATE], autoWebhooks: false });
  });
  afterAll(async () => {
    await infobip?.close();
    await meta?.close();
    await db?.close();
  });

  async function sendStep(provider: MessagingProvider, buttons: Record<string, Array<{ value: string }>>) {
    const lead = await createLead(db, { name: 'Asha Rao', phone: `+9198765${String(10_000 + ++assignment)}` });
    const activities = createSendActivities({ db, provider, reconcileWindowMs: 60_000, configRetryDelayMs: 1_000 });
    return activities.sendDripStep({
      assignmentId: assignment,
      workflowId: `drip-${assignment}`,
      leadId: lead.id,
      stepIndex: 0,
      step: {
        templateName: 'order_update',
        templateLanguage: 'en',
        delaySeconds: 0,
        variables: { body: [{ field: 'firstName' }], buttons },
      },
    });
  }

  it('reaches Infobip with the quick reply (its text as payload) and the URL suffix, in template order', async () => {
    const provider = createInfobipProvider({
      baseUrl: infobip.url,
      getApiKey: () => TEST_INFOBIP_API_KEY,
      timeoutMs: 10_000,
      whatsappSender: '447860099299',
    });
    expect(await sendStep(provider, { '1': [{ value: 'A1' }] })).toMatchObject({ kind: 'sent' });
    const [message] = infobip.emulator.state.acceptedMessages();
    expect((message!.message.content as any).templateData.buttons).toEqual([
      { type: 'QUICK_REPLY', parameter: 'Thanks' },
      { type: 'URL', parameter: 'A1' },
    ]);
  });

  it('reaches Meta with a given quick-reply payload as a quick_reply component and the suffix as a url one', async () => {
    const provider = createMetaProvider({
      graphBaseUrl: meta.url,
      apiVersion: 'v21.0',
      phoneNumberId: '100000000000001',
      getAccessToken: () => 'test-meta-token',
      timeoutMs: 10_000,
    });
    expect(await sendStep(provider, { '0': [{ value: 'thanks-7' }], '1': [{ value: 'A1' }] })).toMatchObject({
      kind: 'sent',
    });
    const [message] = meta.emulator.state.acceptedMessages();
    expect(message!.components.filter((component: any) => component.type === 'button')).toEqual([
      { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'thanks-7' }] },
      { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'A1' }] },
    ]);
    expect(message!.buttonValues).toEqual({ '0': ['thanks-7'], '1': ['A1'] });
  });
});
