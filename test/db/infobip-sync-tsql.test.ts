/**
 * The T-SQL of the Infobip sync queries where the dialects differ or the statement is unusual:
 * the batched lead update (CASE over ids, last contact guarded in SQL), the error count through
 * OPENJSON, and paging. Captured by the recording fake pool (see fake-mssql.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  applyInfobipContacts,
  listInfobipSyncRuns,
  sumInfobipSyncPages,
  type InfobipContact,
} from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const CONTACTED = new Date('2030-01-01T08:00:00.000Z');
const NOW = new Date('2030-01-01T09:00:00.000Z');
const contact = (phone: string, profileId: string): InfobipContact => ({
  phone,
  contactedAt: CONTACTED,
  channel: 'sms',
  profileId,
  firstName: 'Asha',
  lastName: null,
});

describe('T-SQL of the Infobip sync queries', () => {
  it('matches a page of contacts with one IN query, updates the matched leads in one CASE statement and inserts the rest in one', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select [Id], [Phone]') ? { recordset: [[7, '+919812345678', 'New', null, null]] } : undefined,
    );

    const outcome = await applyInfobipContacts(db, {
      contacts: [contact('+919812345678', 'p1'), contact('+919812345679', 'p2')],
      mode: 'create_update',
      dryRun: false,
      statusRule: { setStatus: 'Contacted', onlyIfStatusIn: ['New'] },
      now: NOW,
    });

    expect(outcome).toMatchObject({ matched: 1, updated: 1, created: 1, skipped: 0 });
    expect(queries).toHaveLength(3);
    expect(queries[0]).toEqual<RecordedQuery>({
      sql: 'select [Id], [Phone], [Status], [LastContactedAt], [InfobipProfileId] from [Clients] where [Clients].[Phone] in (@par0, @par1)',
      params: ['+919812345678', '+919812345679'],
    });
    expect(queries[1]!.sql).toBe(
      'update [Clients] set [Status] = case [Clients].[Id] when @par0 then @par1 else [Clients].[Status] end, ' +
        '[LastContactedAt] = case [Clients].[Id] when @par2 then case when [Clients].[LastContactedAt] is null or [Clients].[LastContactedAt] < @par3 then @par4 else [Clients].[LastContactedAt] end else [Clients].[LastContactedAt] end, ' +
        '[UpdatedAt] = case when [Clients].[Id] in (@par5) then @par6 else [Clients].[UpdatedAt] end, ' +
        '[LastChannel] = case [Clients].[Id] when @par7 then @par8 else [Clients].[LastChannel] end, ' +
        '[InfobipProfileId] = case [Clients].[Id] when @par9 then @par10 else [Clients].[InfobipProfileId] end, ' +
        '[LastSyncedAt] = @par11 where [Clients].[Id] in (@par12)',
    );
    expect(queries[1]!.params).toEqual([7, 'Contacted', 7, CONTACTED, CONTACTED, 7, NOW, 7, 'sms', 7, 'p1', NOW, 7]);
    expect(queries[2]!.sql).toMatch(
      /^insert into \[Clients\] \(\[Name\], .*\[Source\], \[LastChannel\], \[InfobipProfileId\], \[LastSyncedAt\]\) values \(@par0, /,
    );
    expect(queries[2]!.params).toContain('infobip');
  });

  it('a dry run only reads', async () => {
    const { db, queries } = createRecordingMssql();
    await applyInfobipContacts(db, {
      contacts: [contact('+919812345678', 'p1')],
      mode: 'create_update',
      dryRun: true,
      now: NOW,
    });
    expect(queries.map((q) => q.sql.split(' ')[0])).toEqual(['select']);
  });

  it('sums a run’s pages, counting the per-record errors through CROSS APPLY OPENJSON', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.includes('openjson')
        ? { recordset: [[4]] }
        : q.sql.startsWith('select coalesce')
          ? { recordset: [[20, 2, 15, 2, 1, 2]] }
          : undefined,
    );

    expect(await sumInfobipSyncPages(db, 3)).toEqual({
      fetched: 20,
      matched: 2,
      created: 15,
      updated: 2,
      skipped: 1,
      invalid: 2,
      errorCount: 4,
    });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select coalesce(sum([Fetched]), 0), coalesce(sum([Matched]), 0), coalesce(sum([Created]), 0), coalesce(sum([Updated]), 0), coalesce(sum([Skipped]), 0), coalesce(sum([Invalid]), 0) from [InfobipSyncPages] where [InfobipSyncPages].[RunId] = @par0',
        params: [3],
      },
      {
        sql: 'select count(*) from [InfobipSyncPages] cross apply openjson([InfobipSyncPages].[Errors]) where [InfobipSyncPages].[RunId] = @par0',
        params: [3],
      },
    ]);
  });

  it('lists runs newest first with OFFSET … FETCH paging', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[11]] } : undefined,
    );
    expect(await listInfobipSyncRuns(db, { page: 2, pageSize: 10, status: 'completed' })).toEqual({
      items: [],
      total: 11,
      page: 2,
      pageSize: 10,
    });
    expect(queries[1]!.sql).toMatch(
      / from \[InfobipSyncRuns\] where \[InfobipSyncRuns\]\.\[Status\] = @par0 order by \[InfobipSyncRuns\]\.\[Id\] desc offset @par1 rows fetch next @par2 rows only$/,
    );
    expect(queries[1]!.params).toEqual(['completed', 10, 10]);
  });
});
