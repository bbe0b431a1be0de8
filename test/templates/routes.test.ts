import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { seedTemplates } from '../support/templates';
import { silentLogger } from '../support/logs';

/** Nothing here starts or signals a workflow: any use of the Temporal client fails the test. */
const unusedTemporal = new Proxy({} as Client, {
  get(_target, property) {
    throw new Error(`the Temporal client was used (${String(property)})`);
  },
});

/**
 * Message Master through the admin API, and templates checked where sequences name them. No
 * Temporal server: defining a sequence does not start anything.
 */
describe('templates API and template checks on sequences', () => {
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    db = await createTestDb();
    await seedTemplates(db);
    api = await listen(
      createApp({
        db,
        temporal: unusedTemporal,
        taskQueue: 'unused',
        sendTaskQueue: 'unused-sends',
        defaultCountry: 'IN',
        log: silentLogger(),
      }),
    );
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  const issuePaths = (body: { error: { issues: { path: string }[] } }) => body.error.issues.map((issue) => issue.path);
  const countSequences = async () => (await request('GET', '/sequences?includeArchived=true')).body.total as number;

  describe('templates', () => {
    const orderUpdate = {
      name: 'order_update',
      language: 'en',
      category: 'UTILITY',
      headerType: 'text',
      headerText: 'Order {{1}}',
      body: 'Hi {{1}}, your order {{2}} ships today.',
      footer: 'Reply STOP to opt out',
      buttons: [
        { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}', example: 'A1' },
        { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+919876543210' },
      ],
    };

    it('creates a template as Pending (201), reads it back, and answers 409 for the same name and language', async () => {
      const created = await request('POST', '/templates', orderUpdate);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        ...orderUpdate,
        id: expect.any(Number),
        approvalStatus: 'Pending',
        source: 'crm',
        archivedAt: null,
      });

      expect((await request('GET', `/templates/${created.body.id}`)).body).toEqual(created.body);
      expect((await request('GET', '/templates/999999')).status).toBe(404);

      const again = await request('POST', '/templates', orderUpdate);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('template_exists');
      expect((await request('POST', '/templates', { ...orderUpdate, language: 'hi' })).status).toBe(201);
    });

    it('refuses a malformed template with 400 naming each bad field, and writes nothing', async () => {
      const before = (await request('GET', '/templates?includeArchived=true')).body.total;

      const response = await request('POST', '/templates', {
        name: 'Bad Name',
        category: 'PROMO',
        headerType: 'text',
        body: 'Hi {{1}} and {{3}}',
        buttons: [
          { type: 'URL', text: 'A', url: 'https://a.example/{{1}}/x' },
          { type: 'URL', text: 'B', url: 'https://b.example/' },
          { type: 'URL', text: 'C', url: 'https://c.example/' },
        ],
      });

      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(issuePaths(response.body)).toEqual(expect.arrayContaining(['name', 'category', 'body']));
      expect((await request('GET', '/templates?includeArchived=true')).body.total).toBe(before);

      const crossField = await request('POST', '/templates', {
        name: 'cross_field',
        category: 'UTILITY',
        headerType: 'text',
        body: 'Hi {{1}}',
        buttons: [
          { type: 'URL', text: 'A', url: 'https://a.example/{{1}}/x' },
          { type: 'URL', text: 'B', url: 'https://b.example/' },
          { type: 'URL', text: 'C', url: 'https://c.example/' },
        ],
      });
      expect(crossField.status).toBe(400);
      expect(issuePaths(crossField.body)).toEqual(['headerText', 'buttons', 'buttons.0.url']);
      expect((await request('GET', '/templates?includeArchived=true')).body.total).toBe(before);
    });

    it('lists templates with their approval status, filtered by status (provider spelling accepted), language, category and search', async () => {
      const approved = (await request('GET', '/templates?approvalStatus=Approved&pageSize=100')).body;
      expect(approved.items.map((t: { name: string }) => t.name)).toEqual([
        'drip_day_1',
        'drip_day_2',
        'drip_day_3',
        'follow_up',
        'seller_registration',
        'welcome_message',
      ]);
      expect(approved.items.every((t: { approvalStatus: string }) => t.approvalStatus === 'Approved')).toBe(true);
      expect((await request('GET', '/templates?approvalStatus=APPROVED&pageSize=100')).body.total).toBe(approved.total);

      const pending = (await request('GET', '/templates?approvalStatus=Pending')).body;
      expect(pending.items.length).toBeGreaterThan(0);
      expect(pending.items.every((t: { approvalStatus: string }) => t.approvalStatus === 'Pending')).toBe(true);

      expect((await request('GET', '/templates?search=drip_day&category=MARKETING')).body.total).toBe(3);
      expect((await request('GET', '/templates?language=hi')).body.items.map((t: { name: string }) => t.name)).toEqual([
        'order_update',
      ]);
      const paged = (await request('GET', '/templates?approvalStatus=Approved&page=2&pageSize=4')).body;
      expect(paged).toMatchObject({ total: 6, page: 2, pageSize: 4 });
      expect(paged.items).toHaveLength(2);
      expect((await request('GET', '/templates?pageSize=0')).status).toBe(400);
    });

    it('edits a template: a status from the provider is normalised, a content change needs approval again', async () => {
      const { id } = (await request('POST', '/templates', { name: 'edit_me', category: 'MARKETING', body: 'Hi {{1}}' }))
        .body;

      const approved = await request('PATCH', `/templates/${id}`, { approvalStatus: 'APPROVED' });
      expect(approved.status).toBe(200);
      expect(approved.body.approvalStatus).toBe('Approved');

      const edited = await request('PATCH', `/templates/${id}`, { body: 'Hi {{1}}, new text.' });
      expect(edited.body).toMatchObject({ body: 'Hi {{1}}, new text.', approvalStatus: 'Pending' });

      const badEdit = await request('PATCH', `/templates/${id}`, { headerType: 'text' });
      expect(badEdit.status).toBe(400);
      expect(issuePaths(badEdit.body)).toEqual(['headerText']);

      const renamedOntoAnother = await request('PATCH', `/templates/${id}`, { name: 'drip_day_1' });
      expect(renamedOntoAnother.status).toBe(409);
      expect((await request('PATCH', '/templates/999999', { footer: 'x' })).status).toBe(404);
    });

    it('archives a template: hidden from the default list, kept with includeArchived, no longer editable', async () => {
      const { id } = (await request('POST', '/templates', { name: 'archive_me', category: 'MARKETING', body: 'Bye' }))
        .body;

      const archived = await request('POST', `/templates/${id}/archive`);
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toEqual(expect.any(String));

      const visible = (await request('GET', '/templates?search=archive_me')).body;
      expect(visible.total).toBe(0);
      expect((await request('GET', '/templates?search=archive_me&includeArchived=true')).body.total).toBe(1);
      expect((await request('PATCH', `/templates/${id}`, { footer: 'x' })).status).toBe(409);
      expect((await request('POST', '/templates/999999/archive')).status).toBe(404);
    });
  });

  describe('sequences name templates that exist, are approved and get the right variables', () => {
    const step = (
      templateName: string,
      body: unknown[] = [{ field: 'name' }],
      extra: Record<string, unknown> = {},
    ) => ({
      templateName,
      templateLanguage: 'en',
      delaySeconds: 0,
      variables: { body, ...extra },
    });

    it('refuses a step with the wrong number of body variables, with 400 at the step, and writes nothing', async () => {
      const before = await countSequences();

      const response = await request('POST', '/sequences', {
        name: 'wrong count',
        steps: [step('drip_day_1'), step('drip_day_2', [{ field: 'name' }, { value: 'extra' }])],
      });

      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({
        code: 'validation_failed',
        issues: [
          {
            location: 'body',
            path: 'steps.1.variables.body',
            message: 'template drip_day_2 (en) has 1 body variable; 2 given',
          },
        ],
      });
      expect(await countSequences()).toBe(before);
    });

    it('refuses a template Message Master does not have, and one that is still Pending', async () => {
      const before = await countSequences();
      await request('POST', '/templates', { name: 'not_yet_approved', category: 'MARKETING', body: 'Hi {{1}}' });

      const response = await request('POST', '/sequences', {
        name: 'unknown and pending',
        steps: [step('no_such_template'), step('not_yet_approved'), step('drip_day_1')],
      });

      expect(response.status).toBe(400);
      expect(response.body.error.issues).toEqual([
        {
          location: 'body',
          path: 'steps.0.templateName',
          message: 'no template no_such_template (en) in Message Master',
        },
        {
          location: 'body',
          path: 'steps.1.templateName',
          message: 'template not_yet_approved (en) is Pending; only approved templates can be sent',
        },
      ]);
      expect(await countSequences()).toBe(before);
    });

    it('refuses header, media and button values that do not fit the template', async () => {
      await request('POST', '/templates', {
        name: 'policy_pdf',
        category: 'UTILITY',
        headerType: 'document',
        body: 'Hi {{1}}, our policies are attached.',
        buttons: [{ type: 'URL', text: 'Read online', url: 'https://example.com/policies/{{1}}' }],
        approvalStatus: 'APPROVED',
      });

      const response = await request('POST', '/sequences', {
        name: 'bad header and buttons',
        steps: [
          step('policy_pdf', [{ field: 'name' }], { buttons: { '0': [{ value: 'a' }], '1': [{ value: 'b' }] } }),
          step('drip_day_1', [{ field: 'name' }], { header: [{ value: 'x' }] }),
        ],
      });

      expect(response.status).toBe(400);
      expect(issuePaths(response.body)).toEqual([
        'steps.0.variables.header',
        'steps.0.variables.buttons.1',
        'steps.1.variables.header',
      ]);

      const fixed = await request('POST', '/sequences', {
        name: 'policy drip',
        steps: [
          step('policy_pdf', [{ field: 'name' }], {
            header: [{ value: 'https://example.com/policies.pdf' }],
            fileName: 'policies.pdf',
            buttons: { '0': [{ field: 'custom.policyId' }] },
          }),
          step('seller_registration'),
        ],
      });
      expect(fixed.status).toBe(201);
    });

    it('checks the new steps of an edit the same way and leaves the sequence as it was on 400', async () => {
      const created = await request('POST', '/sequences', { name: 'edit me', steps: [step('drip_day_1')] });
      expect(created.status).toBe(201);

      const edit = await request('PATCH', `/sequences/${created.body.id}`, { steps: [step('welcome_message')] });
      expect(edit.status).toBe(400);
      expect(edit.body.error.issues).toEqual([
        {
          location: 'body',
          path: 'steps.0.variables.body',
          message: 'template welcome_message (en) has 2 body variables; 1 given',
        },
      ]);
      const unchanged = (await request('GET', `/sequences/${created.body.id}`)).body;
      expect(unchanged).toMatchObject({ version: 1, steps: [{ templateName: 'drip_day_1' }] });

      const renamed = await request('PATCH', `/sequences/${created.body.id}`, { name: 'renamed only' });
      expect(renamed.body.version).toBe(2);
      const fixed = await request('PATCH', `/sequences/${created.body.id}`, {
        steps: [step('welcome_message', [{ field: 'name' }, { value: 'Acme' }])],
      });
      expect(fixed.status).toBe(200);
    });
  });
});
