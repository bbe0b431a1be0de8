/**
 * Lead creation and search over HTTP, without Temporal (welcome-on-create is off here): phone
 * formats, the default country from settings, and custom-field search.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { createAppWithSettings } from '../support/settings-app';
import { silentLogger } from '../support/logs';

describe('leads API', () => {
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    db = await createTestDb();
    const app = createAppWithSettings({
      db,
      // Never reached: nothing here signals a drip or starts a welcome.
      temporal: {} as Client,
      taskQueue: 'unused',
      sendTaskQueue: 'unused',
      defaultCountry: 'IN',
      secretBox: createSecretBox(generateSecretKey()),
      log: silentLogger(),
    });
    api = await listen(app);
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  // Seed 001 "Test 2", then reference/providers.md §5.
  const FORMATS = [
    '+919876543210',
    '9876543210',
    '+91 98765 43210',
    '+91-9876-543-210',
    '09876543210',
    '+91-98765-43210',
    '919876543210',
    '91 98765 43210',
    '00919876543210',
    '(+91) 98765-43210',
    '+91 098765 43210',
  ];

  it('reads every listed phone format as the same E.164 lead: the first creates it, each other finds it (409)', async () => {
    const [first, ...others] = FORMATS;
    const created = await request('POST', '/leads', { name: 'Asha Rao', phone: first });
    expect(created.status).toBe(201);
    expect(created.body.phone).toBe('+919876543210');
    for (const phone of others) {
      const again = await request('POST', '/leads', { name: 'Asha Rao', phone });
      expect({ phone, status: again.status, error: again.body.error }).toEqual({
        phone,
        status: 409,
        // The lead is named by its id; the error never repeats the number.
        error: { code: 'lead_exists', leadId: created.body.id, message: 'a lead with this phone already exists' },
      });
    }
    expect((await request('GET', '/leads?search=9876543210')).body.total).toBe(1);
  });

  it.each([
    ['12345', /too short/],
    ['N/A', /not a phone number/],
    ['98765abc43210', /not a phone number/],
    ['987654321012345678', /too long/],
    ['0919876543210', /not a valid IN phone number/],
    ['1234567890', /not a mobile number \(fixed line\)/],
  ])('refuses %j with 400 saying why, and writes nothing', async (phone, reason) => {
    const before = (await request('GET', '/leads')).body.total;
    const response = await request('POST', '/leads', { name: 'Nobody', phone });
    expect(response.status).toBe(400);
    expect(response.body.error.issues).toEqual([
      { location: 'body', path: 'phone', message: expect.stringMatching(reason) },
    ]);
    expect((await request('GET', '/leads')).body.total).toBe(before);
  });

  it('reads numbers typed without a country code in the settings’ default country', async () => {
    expect((await request('POST', '/leads', { name: 'UK lead', phone: '07911 123456' })).status).toBe(400);

    expect((await request('PUT', '/settings/interakt', { defaultCountryCode: '+44' })).body.defaultCountry).toBe('GB');
    const created = await request('POST', '/leads', { name: 'UK lead', phone: '07911 123456' });
    expect(created.status).toBe(201);
    expect(created.body.phone).toBe('+447911123456');

    await request('PUT', '/settings/interakt', { defaultCountryCode: null });
    const indian = await request('POST', '/leads', { name: 'Back to IN', phone: '98765 43211' });
    expect(indian.body.phone).toBe('+919876543211');
  });

  it('searches by custom field (field.<key>= or customField=key:value), with paging', async () => {
    const phones = ['+919812300001', '+919812300002', '+919812300003'];
    await request('POST', '/leads', {
      name: 'Seller A',
      phone: phones[0],
      customFields: { city: 'Pune', gstRegistered: true },
    });
    await request('POST', '/leads', {
      name: 'Seller B',
      phone: phones[1],
      customFields: { city: 'Pune', gstRegistered: false },
    });
    await request('POST', '/leads', { name: 'Seller C', phone: phones[2], customFields: { city: 'Nagpur' } });

    const pune = await request('GET', '/leads?field.city=Pune');
    expect(pune.body.items.map((lead: { name: string }) => lead.name)).toEqual(['Seller B', 'Seller A']);
    const both = await request('GET', '/leads?field.city=Pune&customField=gstRegistered:true');
    expect(both.body).toMatchObject({ total: 1, items: [{ name: 'Seller A' }] });
    const paged = await request('GET', '/leads?customField=city:Pune&page=2&pageSize=1');
    expect(paged.body).toMatchObject({ total: 2, page: 2, pageSize: 1, items: [{ name: 'Seller A' }] });

    const bad = await request('GET', '/leads?field.bad-key=x&customField=novalue');
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual([
      'field.bad-key',
      'customField',
    ]);
  });
});
