import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  createLead,
  findLeadByPhone,
  getLead,
  getLeadsByIds,
  listLeads,
  touchLeadLastContact,
  updateLead,
} from '../../src/db/queries';
import { withTransaction } from '../../src/db/client';
import { createTestDb } from '../support/db';

let db: Db;
beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => {
  await db.close();
});

describe('leads', () => {
  it('touchLeadLastContact moves the last contact time forward, never backwards', async () => {
    const lead = await createLead(db, { name: 'Asha Rao', phone: '+919812345670' });
    const noon = new Date('2026-11-20T12:00:00Z');

    expect(await touchLeadLastContact(db, lead.id, noon)).toBe(true);
    expect(await touchLeadLastContact(db, lead.id, new Date('2026-11-20T09:00:00Z'))).toBe(false);
    expect((await getLead(db, lead.id))?.lastContactedAt).toEqual(noon);

    const later = new Date('2026-11-21T08:00:00Z');
    expect(await touchLeadLastContact(db, lead.id, later)).toBe(true);
    expect((await getLead(db, lead.id))?.lastContactedAt).toEqual(later);
  });

  it('createLead fills the CRM defaults and round-trips custom fields as an object', async () => {
    const lead = await createLead(db, {
      name: 'Asha Rao',
      phone: '+919812345678',
      customFields: { city: 'Pune', score: 7 },
    });

    expect(lead).toMatchObject({ name: 'Asha Rao', status: 'New', stage: 'New', optedOut: false, optedOutAt: null });
    expect(lead.customFields).toEqual({ city: 'Pune', score: 7 });
    expect(lead.createdAt).toBeInstanceOf(Date);
    expect(await getLead(db, lead.id)).toEqual(lead);
  });

  it('refuses a second lead with the same phone number', async () => {
    await createLead(db, { name: 'A', phone: '+911111111111' });
    await expect(createLead(db, { name: 'B', phone: '+911111111111' })).rejects.toThrow();
  });

  it('findLeadByPhone finds by exact E.164 number and returns undefined otherwise', async () => {
    const lead = await createLead(db, { name: 'A', phone: '+911111111111' });
    expect((await findLeadByPhone(db, '+911111111111'))?.id).toBe(lead.id);
    expect(await findLeadByPhone(db, '+912222222222')).toBeUndefined();
  });

  it('updateLead stamps optedOutAt when the lead opts out, keeps it while opted out, clears it on opt-in', async () => {
    const lead = await createLead(db, { name: 'A', phone: '+911111111111' });

    const optedOut = await updateLead(db, lead.id, { optedOut: true });
    expect(optedOut?.optedOut).toBe(true);
    expect(optedOut?.optedOutAt).toBeInstanceOf(Date);
    expect(optedOut!.updatedAt.getTime()).toBeGreaterThanOrEqual(lead.updatedAt.getTime());

    const again = await updateLead(db, lead.id, { optedOut: true, stage: 'Lost' });
    expect(again?.optedOutAt).toEqual(optedOut?.optedOutAt);
    expect(again?.stage).toBe('Lost');

    const optedIn = await updateLead(db, lead.id, { optedOut: false });
    expect(optedIn).toMatchObject({ optedOut: false, optedOutAt: null });
  });

  it('updateLead returns undefined for a lead that does not exist', async () => {
    expect(await updateLead(db, 424242, { name: 'x' })).toBeUndefined();
  });

  it('getLeadsByIds returns every existing lead among 10,000 ids (more than SQL Server takes in one statement)', async () => {
    const created = await withTransaction(db, async (tx) => {
      const ids: number[] = [];
      for (let i = 0; i < 50; i++)
        ids.push((await createLead(tx, { name: `L${i}`, phone: `+9190000${String(i).padStart(5, '0')}` })).id);
      return ids;
    });
    const ids = [...created, ...Array.from({ length: 9_950 }, (_, i) => 1_000_000 + i)];

    const leads = await getLeadsByIds(db, ids);

    expect(leads.map((lead) => lead.id).sort((a, b) => a - b)).toEqual(created);
  });

  it('listLeads pages newest first with the total of all matches, and filters by search and status', async () => {
    for (let i = 0; i < 7; i++) {
      await createLead(db, {
        name: i % 2 ? `Odd ${i}` : `Even ${i}`,
        phone: `+91800000000${i}`,
        status: i < 3 ? 'Hot' : 'New',
      });
    }

    const page1 = await listLeads(db, { page: 1, pageSize: 3 });
    const page3 = await listLeads(db, { page: 3, pageSize: 3 });
    expect(page1.total).toBe(7);
    expect(page1.items.map((lead) => lead.name)).toEqual(['Even 6', 'Odd 5', 'Even 4']);
    expect(page3).toMatchObject({ total: 7, page: 3, pageSize: 3 });
    expect(page3.items.map((lead) => lead.name)).toEqual(['Even 0']);

    const odd = await listLeads(db, { page: 1, pageSize: 10, search: 'Odd' });
    expect(odd.total).toBe(3);
    const byPhone = await listLeads(db, { page: 1, pageSize: 10, search: '8000000005' });
    expect(byPhone.items.map((lead) => lead.name)).toEqual(['Odd 5']);
    const hot = await listLeads(db, { page: 1, pageSize: 10, status: 'Hot', search: 'Even' });
    expect(hot.items.map((lead) => lead.name)).toEqual(['Even 2', 'Even 0']);
  });
});
