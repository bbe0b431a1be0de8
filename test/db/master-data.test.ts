import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/client';
import { getMasterDataCategory, setMasterDataValues } from '../../src/db/queries';
import { createTestDb } from '../support/db';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

describe('MasterData on SQLite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('inserts new keys, updates existing ones in place, and leaves other keys and categories alone', async () => {
    await setMasterDataValues(db, 'interakt', [
      { key: 'enabled', value: 'true', isSecret: false },
      { key: 'apiKey', value: 'v1:sealed-1', isSecret: true },
    ]);
    await setMasterDataValues(db, 'other', [{ key: 'apiKey', value: 'untouched', isSecret: false }]);
    const [before] = (await getMasterDataCategory(db, 'interakt')).filter((row) => row.key === 'apiKey');
    await new Promise((resolve) => setTimeout(resolve, 5));

    await setMasterDataValues(db, 'interakt', [{ key: 'apiKey', value: 'v1:sealed-2', isSecret: true }]);

    const rows = await getMasterDataCategory(db, 'interakt');
    expect(rows.map(({ key, value, isSecret }) => ({ key, value, isSecret }))).toEqual([
      { key: 'apiKey', value: 'v1:sealed-2', isSecret: true },
      { key: 'enabled', value: 'true', isSecret: false },
    ]);
    const after = rows.find((row) => row.key === 'apiKey')!;
    expect(after.id).toBe(before!.id);
    expect(after.updatedAt.getTime()).toBeGreaterThan(before!.updatedAt.getTime());
    expect((await getMasterDataCategory(db, 'other')).map((row) => row.value)).toEqual(['untouched']);
  });

  it('writes nothing for an empty list', async () => {
    await setMasterDataValues(db, 'empty', []);
    expect(await getMasterDataCategory(db, 'empty')).toEqual([]);
  });
});

describe('T-SQL of the MasterData queries', () => {
  const NOW = new Date('2030-01-01T00:00:00.000Z');
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('getMasterDataCategory selects the category by parameter, ordered by key', async () => {
    const { db, queries } = createRecordingMssql();
    await getMasterDataCategory(db, 'interakt');
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select [Id], [Category], [Key], [Value], [IsSecret], [UpdatedAt] from [MasterData] where [MasterData].[Category] = @par0 order by [MasterData].[Key] asc',
        params: ['interakt'],
      },
    ]);
  });

  it('setMasterDataValues updates each key and inserts only those that matched no row, in one transaction', async () => {
    const { db, queries, transactionEvents } = createRecordingMssql((q) =>
      q.sql.startsWith('update') ? { rowsAffected: [q.params[4] === 'enabled' ? 1 : 0] } : undefined,
    );

    await setMasterDataValues(db, 'interakt', [
      { key: 'enabled', value: 'false', isSecret: false },
      { key: 'apiKey', value: 'v1:x:y:z', isSecret: true },
    ]);

    expect(transactionEvents).toEqual(['begin', 'commit']);
    const update =
      'update [MasterData] set [Value] = @par0, [IsSecret] = @par1, [UpdatedAt] = @par2 where (([MasterData].[Category] = @par3) and ([MasterData].[Key] = @par4))';
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: update, params: ['false', false, NOW, 'interakt', 'enabled'] },
      { sql: update, params: ['v1:x:y:z', true, NOW, 'interakt', 'apiKey'] },
      {
        sql: 'insert into [MasterData] ([Category], [Key], [Value], [IsSecret], [UpdatedAt]) values (@par0, @par1, @par2, @par3, @par4)',
        params: ['interakt', 'apiKey', 'v1:x:y:z', true, NOW],
      },
    ]);
  });

  it('setMasterDataValues retries the whole write once when a concurrent writer inserted the same key first', async () => {
    let inserts = 0;
    const { db, transactionEvents } = createRecordingMssql((q) => {
      if (q.sql.startsWith('insert') && ++inserts === 1) {
        throw Object.assign(
          new Error(
            "Cannot insert duplicate key row in object 'dbo.MasterData' with unique index 'UX_MasterData_Category_Key'.",
          ),
          { number: 2601 },
        );
      }
      return undefined;
    });

    await setMasterDataValues(db, 'interakt', [{ key: 'apiKey', value: 'v1:x:y:z', isSecret: true }]);

    expect(transactionEvents).toEqual(['begin', 'rollback', 'begin', 'commit']);
  });
});
