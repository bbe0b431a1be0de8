/**
 * The T-SQL the segment and campaign queries send to SQL Server (recording fake pool, see
 * fake-mssql.ts): keyset pages with OFFSET/FETCH, custom fields through JSON_VALUE, the
 * conditional recipient updates that make a retried activity change nothing, and the report's
 * reply window with DATEADD.
 */
import { describe, expect, it } from 'vitest';
import {
  campaignReportCounts,
  countSegment,
  listCampaignRecipients,
  listPendingRecipients,
  listSegmentLeadIds,
  requeueTransientFailures,
  settleRecipient,
} from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const NOW = new Date('2030-01-01T00:00:00.000Z');

describe('T-SQL of the segment and campaign queries', () => {
  it('listSegmentLeadIds reads a keyset page of the filter with custom fields through JSON_VALUE', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await listSegmentLeadIds(
      db,
      {
        statuses: ['New'],
        customFields: [{ key: 'city', values: ['Pune', 'Goa'] }],
        lastContactedFrom: NOW.toISOString(),
      },
      { afterId: 10, limit: 500 },
    );
    expect(queries[0]!.sql).toBe(
      'select [Id] from [Clients] where (([Clients].[Id] > @par0) and ((([Clients].[Status] in (@par1))' +
        ` and ((((case when isjson([Clients].[CustomFields]) = 1 then json_value([Clients].[CustomFields], '$."city"') end) = @par2)` +
        ` or ((case when isjson([Clients].[CustomFields]) = 1 then json_value([Clients].[CustomFields], '$."city"') end) = @par3)))` +
        ' and ([Clients].[LastContactedAt] >= @par4) and ([Clients].[OptedOut] = @par5) and (([Clients].[MarketingSuppressedAt] is null)))))' +
        ' order by [Clients].[Id] asc offset @par6 rows fetch next @par7 rows only',
    );
    expect(queries[0]!.params).toEqual([10, 'New', 'Pune', 'Goa', NOW, false, 0, 500]);
  });

  it('countSegment counts members and the opted-out and suppressed it leaves out in one pass', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await countSegment(db, { stages: ['Hot'] });
    expect(queries[0]!.sql).toBe(
      'select sum(case when (([Clients].[OptedOut] = @par0) and (([Clients].[MarketingSuppressedAt] is null))) then 1 else 0 end),' +
        ' sum(case when [OptedOut] = 1 then 1 else 0 end),' +
        ' sum(case when [MarketingSuppressedAt] is not null and [OptedOut] = 0 then 1 else 0 end)' +
        ' from [Clients] where [Clients].[Stage] in (@par1)',
    );
  });

  it('the workflow cursor reads pending recipients after an id, and settling moves only a pending row', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [], rowsAffected: [1] }));
    await listPendingRecipients(db, { campaignId: 7, afterId: 100, limit: 50 });
    await settleRecipient(db, { id: 3, status: 'sent', messageId: 9, at: NOW });
    await requeueTransientFailures(db, 7);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [Id], [LeadId] from [CampaignRecipients] where (([CampaignRecipients].[CampaignId] = @par0)' +
          ' and ([CampaignRecipients].[Status] = @par1) and ([CampaignRecipients].[Id] > @par2))' +
          ' order by [CampaignRecipients].[Id] asc offset @par3 rows fetch next @par4 rows only',
        params: [7, 'pending', 100, 0, 50],
      },
      {
        sql:
          'update [CampaignRecipients] set [Status] = @par0, [Reason] = @par1, [ErrorCode] = @par2, [FailureKind] = @par3,' +
          ' [MessageId] = @par4, [ProcessedAt] = @par5 where (([CampaignRecipients].[Id] = @par6) and ([CampaignRecipients].[Status] = @par7))',
        params: ['sent', null, null, null, 9, NOW, 3, 'pending'],
      },
      {
        sql:
          'update [CampaignRecipients] set [Status] = @par0, [Reason] = @par1, [ErrorCode] = @par2, [FailureKind] = @par3,' +
          ' [ProcessedAt] = @par4 where (([CampaignRecipients].[CampaignId] = @par5) and ([CampaignRecipients].[Status] = @par6)' +
          ' and ([CampaignRecipients].[FailureKind] = @par7))',
        params: ['pending', null, null, null, null, 7, 'failed', 'transient'],
      },
    ]);
  });

  it('the report joins recipients to their messages and counts a reply within DATEADD of the send', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await campaignReportCounts(db, 7, 72 * 3600 * 1000);
    const [totals, failedBy, skippedBy] = queries;
    expect(totals!.sql).toContain(
      'from [CampaignRecipients] left join [WhatsAppMessages] on [WhatsAppMessages].[Id] = [CampaignRecipients].[MessageId] where [CampaignRecipients].[CampaignId] = @par1',
    );
    expect(totals!.sql).toContain(
      "exists (select 1 from WhatsAppMessages i where i.LeadId = [CampaignRecipients].[LeadId] and i.Direction = 'incoming'" +
        ' and i.CreatedAt >= [WhatsAppMessages].[SentAt] and i.CreatedAt < dateadd(second, @par0, [WhatsAppMessages].[SentAt]))',
    );
    expect(totals!.params).toEqual([259_200, 7]);
    expect(failedBy!.sql).toContain(
      'group by coalesce([WhatsAppMessages].[ErrorCode], [CampaignRecipients].[ErrorCode]), coalesce([WhatsAppMessages].[ErrorMessage], [CampaignRecipients].[Reason]) order by count(*) desc',
    );
    expect(skippedBy!.sql).toBe(
      'select [Reason], count(*) from [CampaignRecipients] where (([CampaignRecipients].[CampaignId] = @par0)' +
        ' and ([CampaignRecipients].[Status] = @par1)) group by [CampaignRecipients].[Reason] order by count(*) desc',
    );
  });

  it('the recipient list aliases the message columns that share a name and pages with OFFSET/FETCH', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await listCampaignRecipients(db, {
      campaignId: 7,
      page: 2,
      pageSize: 50,
      outcome: 'failed',
      replyWindowMs: 3_600_000,
    });
    const list = queries[1]!;
    expect(list.sql).toContain('[WhatsAppMessages].[Status] as [MessageStatus]');
    expect(list.sql).toContain('[WhatsAppMessages].[ErrorCode] as [MessageErrorCode]');
    expect(list.sql).toMatch(
      /order by \[CampaignRecipients\]\.\[Id\] asc offset @par\d+ rows fetch next @par\d+ rows only$/,
    );
    expect(list.params.slice(-2)).toEqual([50, 50]);
  });
});
