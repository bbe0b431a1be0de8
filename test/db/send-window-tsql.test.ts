/**
 * The T-SQL of the send-window ledger (recording fake pool, see fake-mssql.ts): a claim is one
 * batch that serialises the sender's claims on an application lock, reads SQL Server's clock only
 * once it holds the lock, and takes the oldest row only if it is a window old; on any error it
 * rolls back and rethrows. When the call has ended, the slot's time moves on to the server's now.
 */
import { describe, expect, it } from 'vitest';
import { claimSendWindowSlot, ensureSendWindow, stampSendWindowSlot } from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const WINDOW = { senderKey: 'meta:100000000000001', slots: 600, windowMs: 60_500 };
const NOW = 1_800_000_000_000;

const CLAIM_BATCH =
  'declare @lock int, @now bigint, @claimed int, @slot table ([Id] int); begin try begin transaction;' +
  " exec @lock = sp_getapplock @Resource = @par0, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 10000;" +
  " if @lock < 0 throw 51000, N'the send window lock was not granted', 1;" +
  " set @now = datediff_big(millisecond, '19700101', sysutcdatetime());" +
  ' with oldest as (select top (1) [Id], [ClaimedAtMs] from [SendWindowSlots] where [SenderKey] = @par1 and [SlotNo] < @par2 order by [ClaimedAtMs], [SlotNo])' +
  ' update oldest set [ClaimedAtMs] = @now output inserted.[Id] into @slot where [ClaimedAtMs] <= @now - @par3;' +
  ' set @claimed = @@rowcount;' +
  ' select @claimed as [claimed], @now as [nowMs], (select min([ClaimedAtMs]) from [SendWindowSlots] where [SenderKey] = @par4 and [SlotNo] < @par5) as [oldestMs], (select top (1) [Id] from @slot) as [slotId];' +
  ' commit transaction; end try begin catch if @@trancount > 0 rollback transaction; throw; end catch';

describe('T-SQL of the send-window ledger', () => {
  it('claimSendWindowSlot takes the oldest row under the sender’s application lock, by the server’s clock', async () => {
    const { db, queries } = createRecordingMssql(() => ({
      // bigint comes back from mssql as a string.
      recordset: [{ claimed: 1, nowMs: String(NOW), oldestMs: String(NOW - 30_000), slotId: 41 }],
    }));

    expect(await claimSendWindowSlot(db, WINDOW)).toEqual({ claimed: true, atMs: NOW, slotId: 41 });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: CLAIM_BATCH,
        params: ['dripline:send-window:meta:100000000000001', WINDOW.senderKey, 600, 60_500, WINDOW.senderKey, 600],
      },
    ]);
  });

  it('a full window answers when its oldest send leaves it', async () => {
    const { db } = createRecordingMssql(() => ({
      recordset: [{ claimed: 0, nowMs: String(NOW), oldestMs: String(NOW - 20_500), slotId: null }],
    }));
    expect(await claimSendWindowSlot(db, WINDOW)).toEqual({ claimed: false, waitMs: 40_000 });
  });

  it('stampSendWindowSlot moves the slot on to the server’s now, only while it holds this claim', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));
    await stampSendWindowSlot(db, { slotId: 41, claimedAtMs: NOW });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          "declare @now bigint = datediff_big(millisecond, '19700101', sysutcdatetime());" +
          ' update [SendWindowSlots] set [ClaimedAtMs] = case when @now > [ClaimedAtMs] then @now else [ClaimedAtMs] end' +
          ' where [Id] = @par0 and [ClaimedAtMs] = @par1;',
        params: [41, NOW],
      },
    ]);
  });

  it('ensureSendWindow inserts only the missing rows, in one transaction', async () => {
    const { db, queries, transactionEvents } = createRecordingMssql((query) =>
      query.sql.startsWith('select') ? { recordset: [[0], [2]] } : undefined,
    );
    await ensureSendWindow(db, { senderKey: 'interakt:default', slots: 4 });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [SlotNo] from [SendWindowSlots]' +
          ' where (([SendWindowSlots].[SenderKey] = @par0) and ([SendWindowSlots].[SlotNo] < @par1))',
        params: ['interakt:default', 4],
      },
      {
        sql: 'insert into [SendWindowSlots] ([SenderKey], [SlotNo], [ClaimedAtMs]) values (@par0, @par1, @par2), (@par3, @par4, @par5)',
        params: ['interakt:default', 1, 0, 'interakt:default', 3, 0],
      },
    ]);
    expect(transactionEvents).toEqual(['begin', 'commit']);
  });
});
