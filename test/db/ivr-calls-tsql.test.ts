/**
 * The T-SQL the IVR call-log queries send to SQL Server (recording fake pool, see fake-mssql.ts):
 * the literal status that matches the filtered index, OFFSET … FETCH paging, OUTPUT INSERTED.…,
 * and the guarded status update.
 */
import { getTableColumns } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  listIvrCalls,
  listReceivedIvrCalls,
  logIvrCall,
  markIvrCallProcessed,
  markIvrCallSkipped,
} from '../../src/db/queries';
import * as mssqlSchema from '../../src/db/schema/mssql';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const NOW = new Date('2030-01-01T00:00:00.000Z');
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

const COLUMNS =
  '[Id], [CallId], [CallerNumber], [CallerPhone], [CalledNumber], [CalledAt], [LeadId], [LeadCreated], [Status], [FlowRunId], [ProcessedAt], [Note], [CreatedAt]';

const NEW_CALL = {
  callId: 'c-1',
  callerNumber: '098765 43210',
  callerPhone: '+919876543210',
  calledNumber: '+918044556677',
  calledAt: NOW,
  leadId: 7,
  leadCreated: true,
};

/** An IVRCallLog row as the driver returns it in array-row mode (columns in schema order). */
function callRecord(overrides: Record<string, unknown> = {}): unknown[] {
  const row: Record<string, unknown> = {
    id: 3,
    ...NEW_CALL,
    status: 'received',
    flowRunId: null,
    processedAt: null,
    note: null,
    createdAt: NOW,
    ...overrides,
  };
  return Object.keys(getTableColumns(mssqlSchema.ivrCallLog)).map((key) => row[key]);
}

describe('T-SQL of the IVR call log', () => {
  it('logIvrCall inserts with OUTPUT INSERTED.* and returns the new row', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('insert') ? { recordset: [callRecord()] } : undefined,
    );

    const logged = await logIvrCall(db, NEW_CALL);

    expect(logged).toMatchObject({ duplicate: false, call: { id: 3, callId: 'c-1', status: 'received' } });
    const output = COLUMNS.split(', ')
      .map((c) => `INSERTED.${c}`)
      .join(', ');
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          `insert into [IVRCallLog] (${COLUMNS.replace('[Id], ', '')}) output ${output}` +
          ' values (@par0, @par1, @par2, @par3, @par4, @par5, @par6, @par7, default, default, default, @par8)',
        params: ['c-1', '098765 43210', '+919876543210', '+918044556677', NOW, 7, true, 'received', NOW],
      },
    ]);
  });

  it('logIvrCall answers a unique-index refusal (error 2601) with the stored row, marked duplicate', async () => {
    const { db, queries } = createRecordingMssql((q) => {
      if (q.sql.startsWith('insert'))
        throw Object.assign(new Error("Cannot insert duplicate key row in object 'dbo.IVRCallLog'"), { number: 2601 });
      return { recordset: [callRecord({ id: 1, status: 'processed', flowRunId: 9 })] };
    });

    const logged = await logIvrCall(db, NEW_CALL);

    expect(logged).toMatchObject({ duplicate: true, call: { id: 1, status: 'processed', flowRunId: 9 } });
    expect(queries.at(-1)).toEqual<RecordedQuery>({
      sql: `select ${COLUMNS} from [IVRCallLog] where [IVRCallLog].[CallId] = @par0`,
      params: ['c-1'],
    });
  });

  it("listReceivedIvrCalls writes the status as the literal N'received' of the filtered index, oldest first, OFFSET 0 FETCH limit", async () => {
    const { db, queries } = createRecordingMssql();

    await listReceivedIvrCalls(db, 25);

    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select ${COLUMNS} from [IVRCallLog] where [IVRCallLog].[Status] = N'received' order by [IVRCallLog].[Id] asc offset @par0 rows fetch next @par1 rows only`,
        params: [0, 25],
      },
    ]);
  });

  it('listIvrCalls counts the matches, then pages newest first with OFFSET … FETCH', async () => {
    const from = new Date('2029-12-01T00:00:00.000Z');
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[31]] } : undefined,
    );

    const page = await listIvrCalls(db, { page: 3, pageSize: 10, status: 'skipped', from, to: NOW });

    expect(page).toEqual({ items: [], total: 31, page: 3, pageSize: 10 });
    const where =
      'where (([IVRCallLog].[Status] = @par0) and ([IVRCallLog].[CalledAt] >= @par1) and ([IVRCallLog].[CalledAt] < @par2))';
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: `select count(*) from [IVRCallLog] ${where}`, params: ['skipped', from, NOW] },
      {
        sql: `select ${COLUMNS} from [IVRCallLog] ${where} order by [IVRCallLog].[Id] desc offset @par3 rows fetch next @par4 rows only`,
        params: ['skipped', from, NOW, 20, 10],
      },
    ]);
  });

  it('marking a call updates it only while it is still received, and says whether it moved', async () => {
    const { db, queries } = createRecordingMssql((q) => ({ rowsAffected: [q.params[0] === 'processed' ? 1 : 0] }));

    expect(await markIvrCallProcessed(db, { id: 3, flowRunId: 9, at: NOW })).toBe(true);
    expect(await markIvrCallSkipped(db, { id: 3, note: 'already_in_flow', at: NOW })).toBe(false);

    const update =
      'update [IVRCallLog] set [Status] = @par0, [FlowRunId] = @par1, [ProcessedAt] = @par2, [Note] = @par3' +
      ' where (([IVRCallLog].[Id] = @par4) and ([IVRCallLog].[Status] = @par5))';
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: update, params: ['processed', 9, NOW, null, 3, 'received'] },
      { sql: update, params: ['skipped', null, NOW, 'already_in_flow', 3, 'received'] },
    ]);
  });
});
