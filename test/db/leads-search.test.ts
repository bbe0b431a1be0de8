/** Searching leads by custom field: behaviour on SQLite, and the T-SQL sent to SQL Server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeStatement, type Db } from '../../src/db/client';
import { createLead, listLeads } from '../../src/db/queries';
import { createTestDb } from '../support/db';
import { createRecordingMssql } from './fake-mssql';

describe('listLeads by custom field on SQLite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
    await createLead(db, {
      name: 'Asha',
      phone: '+919876500001',
      customFields: { city: 'Pune', gst: true, orders: 42 },
    });
    await createLead(db, { name: 'Ravi', phone: '+919876500002', customFields: { city: 'Pune', gst: false } });
    await createLead(db, { name: 'Meera', phone: '+919876500003', customFields: { city: 'Delhi' } });
    // Written by hand in the CRM: not JSON. It must match nothing, not break the search.
    await executeStatement(
      db,
      `INSERT INTO Clients (Name, Phone, CustomFields, CreatedAt, UpdatedAt) VALUES ('Bad', '+919876500004', 'not json', 0, 0)`,
    );
  });
  afterAll(async () => {
    await db?.close();
  });

  const names = async (customFields: { key: string; value: string }[], extra = {}) =>
    (await listLeads(db, { page: 1, pageSize: 50, customFields, ...extra })).items.map((lead) => lead.name).sort();

  it('matches string, boolean and number values as text, all filters together', async () => {
    expect(await names([{ key: 'city', value: 'Pune' }])).toEqual(['Asha', 'Ravi']);
    expect(await names([{ key: 'gst', value: 'true' }])).toEqual(['Asha']);
    expect(await names([{ key: 'orders', value: '42' }])).toEqual(['Asha']);
    expect(
      await names([
        { key: 'city', value: 'Pune' },
        { key: 'gst', value: 'false' },
      ]),
    ).toEqual(['Ravi']);
    expect(await names([{ key: 'missing', value: 'x' }])).toEqual([]);
  });

  it('keeps counting and paging over the matches', async () => {
    const page = await listLeads(db, { page: 2, pageSize: 1, customFields: [{ key: 'city', value: 'Pune' }] });
    expect(page).toMatchObject({ total: 2, page: 2, pageSize: 1 });
    expect(page.items.map((lead) => lead.name)).toEqual(['Asha']);
  });

  it('refuses a key that could break out of the JSON path', async () => {
    await expect(listLeads(db, { page: 1, pageSize: 1, customFields: [{ key: `a'"`, value: 'x' }] })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('listLeads by custom field on SQL Server', () => {
  it('uses JSON_VALUE behind an ISJSON guard, with the value as a parameter', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[0]] } : undefined,
    );
    await listLeads(db, { page: 1, pageSize: 10, customFields: [{ key: 'city', value: 'Pune' }] });
    expect(queries[0]).toEqual({
      sql: 'select count(*) from [Clients] where (case when isjson([Clients].[CustomFields]) = 1 then json_value([Clients].[CustomFields], \'$."city"\') end) = @par0',
      params: ['Pune'],
    });
  });
});
