import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSendActivities,
  PERMANENT_SEND_ERROR,
  TEMPLATE_NOT_USABLE,
  type SendDripStepInput,
} from '../../src/messages/send';
import type { Db } from '../../src/db/client';
import {
  archiveTemplate,
  createLead,
  getTemplateByNameLanguage,
  listMessages,
  updateTemplate,
} from '../../src/db/queries';
import type { MessagingProvider, TemplateSend } from '../../src/providers/types';
import type { DripStepSnapshot } from '../../src/drips/contract';
import { createTestDb } from '../support/db';
import { seedTemplates } from '../support/templates';

/** The send activity against a real database and a provider that records what reaches it. */
describe('sendDripStep checks the template in Message Master before sending', () => {
  let db: Db;
  let sent: TemplateSend[];
  let activities: ReturnType<typeof createSendActivities>;

  beforeEach(async () => {
    db = await createTestDb();
    await seedTemplates(db);
    sent = [];
    const provider: MessagingProvider = {
      name: 'interakt',
      async sendTemplate(message) {
        sent.push(message);
        return { provider: 'interakt', providerMessageId: `p-${sent.length}` };
      },
    };
    activities = createSendActivities({ db, provider, reconcileWindowMs: 60_000, configRetryDelayMs: 1_000 });
  });
  afterEach(async () => {
    await db.close();
  });

  let assignmentId = 0;
  async function input(step: Partial<DripStepSnapshot> = {}): Promise<SendDripStepInput> {
    const lead = await createLead(db, { name: 'Asha Rao', phone: `+91981234${String(5000 + ++assignmentId)}` });
    return {
      assignmentId,
      workflowId: `drip-${assignmentId}`,
      leadId: lead.id,
      stepIndex: 0,
      step: {
        templateName: 'drip_day_1',
        templateLanguage: 'en',
        delaySeconds: 0,
        variables: { body: [{ field: 'name' }] },
        ...step,
      },
    };
  }
  const log = async (id: number) =>
    (await listMessages(db, { referenceType: 'drip', referenceId: String(id), page: 1, pageSize: 10 })).items;

  it('refuses an archived template once, on record as template_not_usable, and fails every retry the same way without the provider', async () => {
    const request = await input();
    const template = await getTemplateByNameLanguage(db, 'drip_day_1', 'en');
    await archiveTemplate(db, template!.id);

    const first = await activities.sendDripStep(request).catch((error: unknown) => error);
    const retry = await activities.sendDripStep(request).catch((error: unknown) => error);

    for (const failure of [first, retry]) {
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({
        type: PERMANENT_SEND_ERROR,
        nonRetryable: true,
        message: 'template drip_day_1 (en) is archived; archived templates cannot be sent',
      });
    }
    expect(sent).toEqual([]);
    const rows = await log(request.assignmentId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', errorCode: TEMPLATE_NOT_USABLE, attempts: 0 });
  });

  it('refuses a template whose approval was revoked, and a step whose variables no longer match it', async () => {
    const template = await getTemplateByNameLanguage(db, 'drip_day_2', 'en');
    await updateTemplate(db, template!.id, { approvalStatus: 'Paused' });
    const paused = await input({ templateName: 'drip_day_2' });
    await expect(activities.sendDripStep(paused)).rejects.toThrow(
      'template drip_day_2 (en) is Paused; only approved templates can be sent',
    );

    const tooMany = await input({ variables: { body: [{ field: 'name' }, { value: 'extra' }] } });
    await expect(activities.sendDripStep(tooMany)).rejects.toThrow(
      'template drip_day_1 (en) has 1 body variable; 2 given',
    );
    expect(sent).toEqual([]);
  });

  it('returns the recorded result when a step already sent is retried after its template was archived', async () => {
    const request = await input();
    const outcome = await activities.sendDripStep(request);
    const template = await getTemplateByNameLanguage(db, 'drip_day_1', 'en');
    await archiveTemplate(db, template!.id);

    expect(await activities.sendDripStep(request)).toEqual(outcome);
    expect(sent).toHaveLength(1);
  });

  it("sends a document header's default media when the step gives none, labelled with the header format", async () => {
    const request = await input({ templateName: 'seller_registration' });
    await activities.sendDripStep(request);
    expect(sent[0]).toMatchObject({
      templateName: 'seller_registration',
      headerValues: ['https://example.com/seller-registration.pdf'],
      headerFormat: 'document',
      bodyValues: ['Asha Rao'],
    });
  });
});
