import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { mssqlConfigFromUrl, openDb, withTransaction, type Db } from '../../src/db/client';
import { createLead, getLead, listLeads } from '../../src/db/queries';
import { createTestDb, tempSqliteUrl } from '../support/db';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('mssqlConfigFromUrl', () => {
  it('reads user, password, host, port, database and the TLS flags from the URL', () => {
    expect(
      mssqlConfigFromUrl('mssql://sa:p%40ss%3Aword@db.example:14330/Crm?encrypt=false&trustServerCertificate=true'),
    ).toEqual({
      server: 'db.example',
      port: 14330,
      user: 'sa',
      password: 'p@ss:word',
      database: 'Crm',
      options: { encrypt: false, trustServerCertificate: true },
    });
  });

  it('accepts sqlserver://, defaults to port 1433 and encrypts unless told otherwise', () => {
    expect(mssqlConfigFromUrl('sqlserver://app:secret@localhost/Dripline')).toMatchObject({
      server: 'localhost',
      port: 1433,
      database: 'Dripline',
      options: { encrypt: true, trustServerCertificate: false },
    });
  });
});

describe('openDb on SQLite', () => {
  async function open(): Promise<Db> {
    const { url, cleanup } = tempSqliteUrl();
    cleanups.push(cleanup);
    const db = await openDb(url);
    cleanups.push(() => db.close());
    return db;
  }

  it('creates the parent directory and puts the file in WAL mode', async () => {
    const { url, cleanup } = tempSqliteUrl();
    cleanups.push(cleanup);
    const db = await openDb(url.replace(/test\.db$/, 'nested/deeper/test.db'));
    cleanups.push(() => db.close());
    const [row] = await db.orm.all<{ journal_mode: string }>(sql`PRAGMA journal_mode`);
    expect(row?.journal_mode).toBe('wal');
  });

  it('enforces foreign keys on every pooled connection, including inside transactions', async () => {
    const db = await open();
    const checks = await Promise.all(
      Array.from({ length: 5 }, () => db.orm.all<{ foreign_keys: number }>(sql`PRAGMA foreign_keys`)),
    );
    const inTx = await withTransaction(db, (tx) => tx.orm.all<{ foreign_keys: number }>(sql`PRAGMA foreign_keys`));
    expect([...checks.flat(), ...inTx].map((row) => row.foreign_keys)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('sets a busy timeout so a writer waits for another process’s lock instead of failing', async () => {
    const db = await open();
    const [row] = await db.orm.all<{ timeout: number }>(sql`PRAGMA busy_timeout`);
    expect(row?.timeout).toBeGreaterThanOrEqual(5_000);
  });
});

describe('SQLite writers of one process', () => {
  it('queue instead of blocking each other into SQLITE_BUSY: concurrent transactions and plain writes all commit', async () => {
    const db = await createTestDb();
    cleanups.push(() => db.close());

    // Blocked writers would wait out the busy timeout and reject with SQLITE_BUSY.
    await Promise.all([
      ...[1, 2, 3].map((i) =>
        withTransaction(db, async (tx) => {
          await createLead(tx, { name: `tx${i}a`, phone: `+91100${i}` });
          await createLead(tx, { name: `tx${i}b`, phone: `+91200${i}` });
        }),
      ),
      createLead(db, { name: 'plain', phone: '+913000' }),
    ]);

    expect((await listLeads(db, { page: 1, pageSize: 1 })).total).toBe(7);
  });
});

describe('withTransaction', () => {
  it('rolls back every write when the function throws', async () => {
    const db = await createTestDb();
    cleanups.push(() => db.close());
    let leadId = 0;
    await expect(
      withTransaction(db, async (tx) => {
        leadId = (await createLead(tx, { name: 'A', phone: '+911' })).id;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await getLead(db, leadId)).toBeUndefined();
  });
});
