/**
 * The T-SQL of the frequency cap's slot claim (recording fake pool, see fake-mssql.ts): the slot
 * is taken by one conditional UPDATE whose WHERE re-checks that it is free or a period old, which
 * SQL Server evaluates under the row's update lock, so two racing claims cannot both change it.
 */
import { describe, expect, it } from 'vitest';
import { claimMarketingSlot, releaseMarketingSlot } from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const AT = new Date('2030-01-02T00:00:00.000Z');
const EXPIRED = new Date('2030-01-01T00:00:00.000Z');

describe('T-SQL of the frequency cap', () => {
  it('claimMarketingSlot takes a free or expired slot with one guarded UPDATE', async () => {
    const { db, queries } = createRecordingMssql((query) => {
      if (query.sql.startsWith('select')) return { recordset: [[0, null, null]] };
      if (query.sql.startsWith('update')) return { rowsAffected: [1] };
      return undefined;
    });

    expect(
      await claimMarketingSlot(db, { leadId: 7, claimKey: 'drip-3:1', at: AT, cap: { max: 1, periodSeconds: 86_400 } }),
    ).toEqual({
      claimed: true,
      slotNo: 0,
      repeat: false,
    });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [SlotNo], [ClaimedAt], [ClaimKey] from [LeadMarketingSlots]' +
          ' where (([LeadMarketingSlots].[LeadId] = @par0) and ([LeadMarketingSlots].[SlotNo] < @par1))' +
          ' order by [LeadMarketingSlots].[SlotNo] asc',
        params: [7, 1],
      },
      {
        sql:
          'update [LeadMarketingSlots] set [ClaimedAt] = @par0, [ClaimKey] = @par1' +
          ' where (([LeadMarketingSlots].[LeadId] = @par2) and ([LeadMarketingSlots].[SlotNo] = @par3)' +
          ' and (((([LeadMarketingSlots].[ClaimedAt] is null)) or ([LeadMarketingSlots].[ClaimedAt] <= @par4))))',
        params: [AT, 'drip-3:1', 7, 0, EXPIRED],
      },
    ]);
  });

  it('releaseMarketingSlot clears only the slot the send took', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));
    await releaseMarketingSlot(db, { leadId: 7, claimKey: 'drip-3:1' });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'update [LeadMarketingSlots] set [ClaimedAt] = @par0, [ClaimKey] = @par1' +
          ' where (([LeadMarketingSlots].[LeadId] = @par2) and ([LeadMarketingSlots].[ClaimKey] = @par3))',
        params: [null, null, 7, 'drip-3:1'],
      },
    ]);
  });
});
