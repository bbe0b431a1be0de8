import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { isUniqueViolation } from '../../src/db/errors';
import {
  archiveTemplate,
  createTemplate,
  getTemplate,
  getTemplateByNameLanguage,
  listTemplates,
  updateTemplate,
  type CreateTemplateParams,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

const template = (name: string, overrides: Partial<CreateTemplateParams> = {}): CreateTemplateParams => ({
  name,
  language: 'en',
  category: 'MARKETING',
  body: 'Hi {{1}}',
  ...overrides,
});

describe('templates', () => {
  it('createTemplate stores a CRM template as Pending with its buttons, readable by id and by name + language', async () => {
    const buttons = [
      { type: 'QUICK_REPLY' as const, text: 'Yes' },
      { type: 'URL' as const, text: 'Track', url: 'https://shop.example/t/{{1}}', example: 'A1' },
    ];
    const created = await createTemplate(
      db,
      template('order_update', { headerType: 'text', headerText: 'Order {{1}}', buttons }),
    );

    expect(created).toMatchObject({
      name: 'order_update',
      language: 'en',
      approvalStatus: 'Pending',
      source: 'crm',
      headerType: 'text',
      headerText: 'Order {{1}}',
      buttons,
      archivedAt: null,
      removedUpstreamAt: null,
    });
    expect(await getTemplate(db, created.id)).toEqual(created);
    expect(await getTemplateByNameLanguage(db, 'order_update', 'en')).toEqual(created);
    expect(await getTemplateByNameLanguage(db, 'order_update', 'hi')).toBeUndefined();
  });

  it('refuses a second template with the same name and language, but allows another language', async () => {
    await createTemplate(db, template('welcome'));
    const error = await createTemplate(db, template('welcome')).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    await expect(createTemplate(db, template('welcome', { language: 'hi' }))).resolves.toMatchObject({
      language: 'hi',
    });
  });

  it('updateTemplate applies the patch, re-encodes buttons, and returns undefined for an unknown id', async () => {
    const created = await createTemplate(db, template('promo'));
    const updated = await updateTemplate(db, created.id, {
      approvalStatus: 'Approved',
      buttons: [{ type: 'QUICK_REPLY', text: 'Stop' }],
    });
    expect(updated).toMatchObject({
      approvalStatus: 'Approved',
      buttons: [{ type: 'QUICK_REPLY', text: 'Stop' }],
      body: 'Hi {{1}}',
    });
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await updateTemplate(db, 999, { body: 'x' })).toBeUndefined();
  });

  it('archiveTemplate keeps the first archive time and hides the template from the default list', async () => {
    const created = await createTemplate(db, template('old_offer'));
    const archived = await archiveTemplate(db, created.id);
    const again = await archiveTemplate(db, created.id);
    expect(archived?.archivedAt).toBeInstanceOf(Date);
    expect(again?.archivedAt).toEqual(archived?.archivedAt);
    expect(await archiveTemplate(db, 999)).toBeUndefined();

    expect((await listTemplates(db, { page: 1, pageSize: 10 })).total).toBe(0);
    expect(
      (await listTemplates(db, { page: 1, pageSize: 10, includeArchived: true })).items.map((t) => t.name),
    ).toEqual(['old_offer']);
  });

  it('listTemplates filters by approval status, language, category and search, ordered by name, paged', async () => {
    await createTemplate(db, template('b_approved', { approvalStatus: 'Approved' }));
    await createTemplate(
      db,
      template('a_approved', { approvalStatus: 'Approved', language: 'hi', category: 'UTILITY' }),
    );
    await createTemplate(db, template('c_pending', { body: 'Your 50% discount, {{1}}' }));
    await createTemplate(
      db,
      template('d_rejected', { approvalStatus: 'Rejected', rejectionReason: 'too promotional' }),
    );

    const names = async (params: Parameters<typeof listTemplates>[1]) =>
      (await listTemplates(db, params)).items.map((t) => t.name);
    expect(await names({ page: 1, pageSize: 10, approvalStatus: 'Approved' })).toEqual(['a_approved', 'b_approved']);
    expect(await names({ page: 1, pageSize: 10, language: 'hi' })).toEqual(['a_approved']);
    expect(await names({ page: 1, pageSize: 10, category: 'UTILITY' })).toEqual(['a_approved']);
    expect(await names({ page: 1, pageSize: 10, search: 'PEND' })).toEqual(['c_pending']);
    expect(await names({ page: 1, pageSize: 10, search: '50%' })).toEqual(['c_pending']);

    const page2 = await listTemplates(db, { page: 2, pageSize: 3 });
    expect(page2).toMatchObject({ total: 4, page: 2, pageSize: 3 });
    expect(page2.items.map((t) => t.name)).toEqual(['d_rejected']);
  });

  it('listTemplates takes a search term literally: _ and [ are not wildcards', async () => {
    await createTemplate(db, template('drip_day_1'));
    await createTemplate(db, template('dripxday', { body: 'see [docs]' }));
    const names = async (search: string) =>
      (await listTemplates(db, { page: 1, pageSize: 10, search })).items.map((t) => t.name);
    expect(await names('p_d')).toEqual(['drip_day_1']);
    expect(await names('[docs]')).toEqual(['dripxday']);
  });

  it('listTemplates hides templates removed upstream unless asked for', async () => {
    const gone = await createTemplate(
      db,
      template('gone_upstream', { source: 'interakt', approvalStatus: 'Approved' }),
    );
    await updateTemplate(db, gone.id, { removedUpstreamAt: new Date() });
    expect((await listTemplates(db, { page: 1, pageSize: 10 })).total).toBe(0);
    expect((await listTemplates(db, { page: 1, pageSize: 10, includeRemoved: true })).items.map((t) => t.name)).toEqual(
      ['gone_upstream'],
    );
  });
});
