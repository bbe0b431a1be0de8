/**
 * Segments, custom-field definitions, lead search and the CSV import over HTTP on a real SQLite
 * file (no Temporal: nothing here starts a workflow).
 */
import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey, createLead, listLeads, updateLead } from '../../src/db/queries';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { createAppWithSettings } from '../support/settings-app';
import { silentLogger } from '../support/logs';

describe('segments, custom fields and CSV import', () => {
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  let agent: ReturnType<typeof apiClient>;
  let adminKey: string;

  beforeAll(async () => {
    db = await createTestDb();
    const app = createAppWithSettings({
      db,
      temporal: {} as Client,
      taskQueue: 'unused',
      sendTaskQueue: 'unused',
      defaultCountry: 'IN',
      secretBox: createSecretBox(generateSecretKey()),
      log: silentLogger(),
    });
    api = await listen(app);
    const admin = generateApiKey();
    await createApiKey(db, { name: 'admin', keyHash: admin.keyHash, keyPrefix: admin.keyPrefix });
    adminKey = admin.key;
    request = apiClient(api.url, admin.key);
    const agentKey = generateApiKey();
    await createApiKey(db, { name: 'agent', keyHash: agentKey.keyHash, keyPrefix: agentKey.keyPrefix, role: 'agent' });
    agent = apiClient(api.url, agentKey.key);
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  async function importCsv(csv: string, query = '') {
    const response = await fetch(`${api.url}/leads/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'text/csv' },
      body: csv,
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  it('custom-field definitions are admin-only to change, and refuse lead values that break them', async () => {
    const refused = await agent('POST', '/custom-fields', { name: 'tier', type: 'enum', allowedValues: ['gold'] });
    expect(refused.status).toBe(403);
    expect((await request('GET', '/custom-fields')).body.items).toEqual([]);

    const noValues = await request('POST', '/custom-fields', { name: 'tier', type: 'enum' });
    expect(noValues.status).toBe(400);
    const tier = await request('POST', '/custom-fields', {
      name: 'tier',
      type: 'enum',
      allowedValues: ['gold', 'silver'],
    });
    expect(tier.status).toBe(201);
    expect((await request('POST', '/custom-fields', { name: 'budget', type: 'number' })).status).toBe(201);
    expect((await agent('GET', '/custom-fields')).body.items.map((f: { name: string }) => f.name)).toEqual([
      'budget',
      'tier',
    ]);

    const bad = await request('POST', '/leads', {
      name: 'Bad Tier',
      phone: '+919800000001',
      customFields: { tier: 'bronze', budget: 'lots' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'customFields.budget',
      'customFields.tier',
    ]);
    expect((await listLeads(db, { page: 1, pageSize: 10 })).total).toBe(0);

    const good = await request('POST', '/leads', {
      name: 'Good Tier',
      phone: '+919800000001',
      customFields: { tier: 'gold', budget: 5000, city: 'Pune' },
    });
    expect(good.status).toBe(201);
  });

  it('imports the good rows of a CSV, merges duplicates by phone, and reports every bad row with its line', async () => {
    const csv = [
      'name,phone,email,status,custom.tier,custom.budget',
      'Asha Rao,098765 43210,asha@example.com,New,gold,100', // line 2
      'Ravi,call me 555,,New,,', // line 3: bad phone
      'Meera,+91 98765 43211,not-an-email,New,,', // line 4: bad email
      'Kiran,9876543212,,Hot,bronze,', // line 5: tier not allowed
      'Asha R.,+91-98765-43210,,Contacted,,', // line 6: same phone as line 2: merged
      ',9876543213,,,,', // line 7: new lead without a name
      'Dev,9876543214,,New,silver,abc', // line 8: budget not a number
      'Good Tier Updated,+919800000001,,Warm,silver,', // line 9: updates the existing lead
      'Too,Many,Fields,x,y,z,extra', // line 10: wrong field count
      'Nila,9876543215,,New,,7', // line 11
    ].join('\n');
    const { status, body } = await importCsv(csv);
    expect(status).toBe(200);
    expect(body).toMatchObject({ dryRun: false, rows: 10, created: 2, updated: 1, mergedDuplicates: 1, rejected: 6 });
    expect(body.rejections.map((r: { line: number }) => r.line)).toEqual([3, 4, 5, 7, 8, 10]);
    expect(body.rejections.find((r: { line: number }) => r.line === 5).reason).toMatch(
      /tier must be one of gold, silver/,
    );
    expect(JSON.stringify(body)).not.toContain('call me');

    const asha = (await request('GET', '/leads/search?phone=9876543210')).body.items;
    expect(asha).toHaveLength(1);
    expect(asha[0]).toMatchObject({
      name: 'Asha R.',
      phone: '+919876543210',
      status: 'Contacted',
      email: 'asha@example.com',
      source: 'import',
      customFields: { tier: 'gold', budget: 100 },
    });
    const updated = (await request('GET', '/leads/search?phone=%2B919800000001')).body.items[0];
    expect(updated).toMatchObject({
      name: 'Good Tier Updated',
      status: 'Warm',
      customFields: { tier: 'silver', budget: 5000, city: 'Pune' },
    });
    expect(
      (await request('GET', '/leads/search?email=ASHA@example.com')).body.items.map((l: { id: number }) => l.id),
    ).toEqual([asha[0].id]);
    expect((await request('GET', '/leads/search')).status).toBe(400);
  });

  it('refuses a malformed file whole and writes nothing', async () => {
    const before = (await listLeads(db, { page: 1, pageSize: 1 })).total;
    const unclosed = await importCsv('name,phone\nLeela,9876543220\n"Broken,9876543221\n');
    expect(unclosed.status).toBe(400);
    expect(unclosed.body.error.code).toBe('malformed_csv');
    const unknown = await importCsv('name,phone,favouriteColour\nLeela,9876543220,blue\n');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_column');
    const noPhone = await importCsv('name\nLeela\n');
    expect(noPhone.body.error.code).toBe('missing_column');
    const json = await request('POST', '/leads/import', { name: 'x' });
    expect(json.status).toBe(400);
    const dry = await importCsv('name,phone\nLeela,9876543220\n', '?dryRun=true');
    expect(dry.body).toMatchObject({ dryRun: true, created: 1 });
    expect((await listLeads(db, { page: 1, pageSize: 1 })).total).toBe(before);
  });

  it('a saved segment counts and previews its members live, leaving out opted-out and suppressed leads', async () => {
    const base = { status: 'SegTest', source: 'crm' };
    const a = await createLead(db, { name: 'Seg A', phone: '+919811111101', ...base, customFields: { city: 'Pune' } });
    const b = await createLead(db, { name: 'Seg B', phone: '+919811111102', ...base, customFields: { city: 'Goa' } });
    const c = await createLead(db, {
      name: 'Seg C',
      phone: '+919811111103',
      ...base,
      optedOut: true,
      customFields: { city: 'Pune' },
    });
    const d = await createLead(db, { name: 'Seg D', phone: '+919811111104', ...base, customFields: { city: 'Pune' } });
    await db.orm
      .update(db.schema.clients)
      .set({ marketingSuppressedAt: new Date() })
      .where(eq(db.schema.clients.id, d.id));

    const created = await agent('POST', '/segments', {
      name: 'Pune SegTest',
      filter: { statuses: ['SegTest'], customFields: [{ key: 'city', values: ['Pune'] }] },
    });
    expect(created.status).toBe(201);
    expect(created.body.count).toEqual({ members: 1, excludedOptedOut: 1, excludedSuppressed: 1 });
    const members = await agent('GET', `/segments/${created.body.id}/members`);
    expect(members.body.items.map((l: { id: number }) => l.id)).toEqual([a.id]);

    // Live: a lead moving into the filter is counted at once.
    await updateLead(db, b.id, { customFields: { city: 'Pune' } });
    expect((await agent('GET', `/segments/${created.body.id}`)).body.count.members).toBe(2);

    const withAll = await agent('POST', '/segments/preview', {
      filter: { statuses: ['SegTest'], includeOptedOut: true, includeSuppressed: true },
    });
    expect(withAll.body.count.members).toBe(4);
    expect(withAll.body.members.items.map((l: { id: number }) => l.id)).toEqual([a.id, b.id, c.id, d.id]);
    const byIds = await agent('POST', '/segments/preview', { filter: { leadIds: [a.id, c.id] } });
    expect(byIds.body.members.items.map((l: { id: number }) => l.id)).toEqual([a.id]);

    expect((await agent('POST', '/segments', { name: 'Pune SegTest', filter: {} })).status).toBe(409);
  });

  it('refuses bad segment filters with 400 and saves nothing', async () => {
    const before = (await agent('GET', '/segments')).body.total;
    for (const filter of [
      { statuses: [] },
      { createdFrom: '2026-02-01T00:00:00Z', createdTo: '2026-01-01T00:00:00Z' },
      { customFields: [{ key: '__proto__', values: ['x'] }] },
      { leadIds: [0] },
      { unknown: true },
      { neverContacted: true, lastContactedFrom: '2026-01-01T00:00:00Z' },
    ]) {
      const response = await agent('POST', '/segments', {
        name: `bad ${JSON.stringify(filter)}`.slice(0, 100),
        filter,
      });
      expect(response.status, JSON.stringify(filter)).toBe(400);
    }
    expect((await agent('GET', '/segments')).body.total).toBe(before);
  });
});
