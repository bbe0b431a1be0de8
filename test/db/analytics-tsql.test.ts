/**
 * The T-SQL the analytics queries send to SQL Server (recording fake pool, see fake-mssql.ts): the
 * outcome counts classify each send in a derived table and compare its FirstReplyAt with the send
 * time plus the reply window (DATEADD); the predicates the filtered and covering indexes of
 * migrations 0050 and 0051 match are literals, not parameters; a percentile is one row at an
 * OFFSET of the ordered response times; pages are OFFSET … FETCH.
 */
import { describe, expect, it } from 'vitest';
import {
  getResponseTimes,
  getRunningCounts,
  getSendFailures,
  getSendOutcomes,
  listConversation,
} from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const LATER = new Date('2030-01-31T00:00:00.000Z');

describe('T-SQL of the analytics queries', () => {
  it('getSendOutcomes over a period counts the sends created in it, replies within DATEADD(second, window)', async () => {
    const { db, queries } = createRecordingMssql(() => ({
      recordset: [{ total: 4, sent: 3, delivered: 2, read: 1, replied: 1, failed: 1, pending: 0 }],
    }));
    const counts = await getSendOutcomes(db, {
      set: { kind: 'period', from: NOW, to: LATER },
      replyWindowSeconds: 86400,
    });
    expect(counts).toEqual([
      { stepIndex: null, total: 4, sent: 3, delivered: 2, read: 1, replied: 1, failed: 1, pending: 0 },
    ]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: "select count(*) as [total], sum([s].[sent]) as [sent], sum([s].[delivered]) as [delivered], sum([s].[read]) as [read], sum([s].[replied]) as [replied], sum([s].[failed]) as [failed], sum([s].[pending]) as [pending] from (select case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is not null then 1 else 0 end as [sent], case when [m].[DeliveredAt] is not null or [m].[ReadAt] is not null then 1 else 0 end as [delivered], case when [m].[ReadAt] is not null then 1 else 0 end as [read], case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is not null and [m].[FirstReplyAt] > coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) and [m].[FirstReplyAt] <= dateadd(second, @par0, coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt])) then 1 else 0 end as [replied], case when [m].[Status] = 'failed' then 1 else 0 end as [failed], case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is null and [m].[Status] <> 'failed' then 1 else 0 end as [pending] from [WhatsAppMessages] [m] where [m].[Direction] = 'outgoing' and [m].[CreatedAt] >= @par1 and [m].[CreatedAt] < @par2) [s]",
        params: [86400, NOW, LATER],
      },
    ]);
  });

  it('getSendOutcomes of a drip sequence joins its assignments to their sends by ReferenceId and groups by step', async () => {
    const { db, queries } = createRecordingMssql(() => ({
      recordset: [{ stepIndex: 1, total: 2, sent: 2, delivered: 1, read: 0, replied: 0, failed: 0, pending: 0 }],
    }));
    const counts = await getSendOutcomes(db, {
      set: { kind: 'dripSequence', sequenceId: 3 },
      replyWindowSeconds: 3600,
      steps: 2,
    });
    expect(counts.map((c) => [c.stepIndex, c.total])).toEqual([
      [0, 0],
      [1, 2],
    ]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: "select [s].[stepIndex] as [stepIndex], count(*) as [total], sum([s].[sent]) as [sent], sum([s].[delivered]) as [delivered], sum([s].[read]) as [read], sum([s].[replied]) as [replied], sum([s].[failed]) as [failed], sum([s].[pending]) as [pending] from (select [m].[StepIndex] as [stepIndex], case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is not null then 1 else 0 end as [sent], case when [m].[DeliveredAt] is not null or [m].[ReadAt] is not null then 1 else 0 end as [delivered], case when [m].[ReadAt] is not null then 1 else 0 end as [read], case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is not null and [m].[FirstReplyAt] > coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) and [m].[FirstReplyAt] <= dateadd(second, @par0, coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt])) then 1 else 0 end as [replied], case when [m].[Status] = 'failed' then 1 else 0 end as [failed], case when coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) is null and [m].[Status] <> 'failed' then 1 else 0 end as [pending] from [LeadDripAssignment] [a] inner join [WhatsAppMessages] [m] on [m].[ReferenceType] = 'drip' and [m].[ReferenceId] = cast([a].[Id] as nvarchar(100)) where [a].[SequenceId] = @par1 and [m].[StepIndex] >= 0 and [m].[StepIndex] < 2) [s] group by [s].[stepIndex]",
        params: [3600, 3],
      },
    ]);
  });

  it('getSendOutcomes of one reference seeks ReferenceType and ReferenceId', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await getSendOutcomes(db, {
      set: { kind: 'reference', referenceType: 'drip', referenceId: '7' },
      replyWindowSeconds: 60,
    });
    expect(queries[0]!.sql).toContain(
      'from [WhatsAppMessages] [m] where [m].[ReferenceType] = @par1 and [m].[ReferenceId] = @par2) [s]',
    );
    expect(queries[0]!.params).toEqual([60, 'drip', '7']);
  });

  it('getSendFailures takes the most frequent codes with TOP and orders by count(*)', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await getSendFailures(db, { set: { kind: 'dripSequence', sequenceId: 3 }, byStep: true });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: "select top (100) [m].[StepIndex] as [stepIndex], [m].[ErrorCode] as [errorCode], max([m].[ErrorMessage]) as [errorMessage], count(*) as [count] from [LeadDripAssignment] [a] inner join [WhatsAppMessages] [m] on [m].[ReferenceType] = 'drip' and [m].[ReferenceId] = cast([a].[Id] as nvarchar(100)) where [a].[SequenceId] = @par0 and [m].[Status] = 'failed' group by [m].[StepIndex], [m].[ErrorCode] order by count(*) desc, [m].[ErrorCode]",
        params: [3],
      },
    ]);
  });

  it('getResponseTimes counts the answered inbound messages, then takes each percentile as one row at its OFFSET in ResponseMs order', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count')
        ? { recordset: [{ inbound: 5, answered: 4 }] }
        : { recordset: [{ ms: q.sql.includes('desc') ? 5000 : 1000 }] },
    );
    // Nearest rank of 4: the median is the 2nd fastest, the p90 the 4th (the slowest).
    expect(await getResponseTimes(db, { from: NOW, to: LATER })).toEqual({
      inbound: 5,
      answered: 4,
      medianMs: 1000,
      p90Ms: 5000,
    });
    const inbound =
      "from [WhatsAppMessages] [i] where [i].[Direction] = 'incoming' and [i].[CreatedAt] >= @par0 and [i].[CreatedAt] < @par1 and [i].[LeadId] is not null";
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select count(*) as [inbound], count([i].[ResponseMs]) as [answered] ${inbound}`,
        params: [NOW, LATER],
      },
      {
        sql: `select [i].[ResponseMs] as [ms] ${inbound} and [i].[ResponseMs] is not null order by [i].[ResponseMs] offset 1 rows fetch next 1 rows only`,
        params: [NOW, LATER],
      },
      {
        sql: `select [i].[ResponseMs] as [ms] ${inbound} and [i].[ResponseMs] is not null order by [i].[ResponseMs] desc offset 0 rows fetch next 1 rows only`,
        params: [NOW, LATER],
      },
    ]);
  });

  it('getRunningCounts writes the live statuses as the literals the filtered unique index is defined with', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [[0]] }));
    await getRunningCounts(db);
    expect(queries.map((q) => q.sql)).toEqual([
      "select count(*) from [LeadDripAssignment] where [LeadDripAssignment].[Status] in ('pending', 'active', 'paused')",
      'select count(*) from [CtaFlows] where [CtaFlows].[ArchivedAt] is null',
      'select count(*) from [CtaFlowRuns] where [CtaFlowRuns].[Status] in (@par0, @par1, @par2)',
      'select count(*) from [Campaigns] where [Campaigns].[Status] in (@par0, @par1, @par2)',
    ]);
    expect(queries[3]?.params).toEqual(['scheduled', 'running', 'paused']);
  });

  it('listConversation pages by (CreatedAt, Id) from the cursor with OFFSET 0 ROWS FETCH NEXT n ROWS ONLY', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await listConversation(db, { leadId: 7, order: 'asc', limit: 50, after: { at: NOW, id: 9 } });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select [Id], [Direction], [Status], [TemplateName], [TemplateLanguage], [MessageContent], [MediaUrl], [ReferenceType], [ReferenceId], [StepIndex], [SentAt], [DeliveredAt], [ReadAt], [FailedAt], [ErrorCode], [ErrorMessage], [CreatedAt] from [WhatsAppMessages] where (([WhatsAppMessages].[LeadId] = @par0) and ([WhatsAppMessages].[CreatedAt] >= @par1) and ((([WhatsAppMessages].[CreatedAt] > @par2) or ([WhatsAppMessages].[Id] > @par3)))) order by [WhatsAppMessages].[CreatedAt] asc, [WhatsAppMessages].[Id] asc offset @par4 rows fetch next @par5 rows only',
        params: [7, NOW, NOW, 9, 0, 50],
      },
    ]);
  });
});
