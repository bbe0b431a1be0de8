/**
 * The T-SQL the analytics queries send to SQL Server (recording fake pool, see fake-mssql.ts): the
 * outcome counts classify each send in a derived table and compare its FirstReplyAt with the send
 * time plus the reply window (DATEADD); the predicates the filtered and covering indexes of
 * migrations 0050 and 0051 match are literals, not parameters; a percentile is one row at an
 * OFFSET of the ordered response times; the per-day rollup is recomputed under an application lock
 * (DATEDIFF(day, '19700101', …) days, reply hours by DATEDIFF_BIG) and summed with the days changed
 * since its watermark left out; pages are OFFSET … FETCH.
 */
import { describe, expect, it } from 'vitest';
import {
  getPeriodSendOutcomes,
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

  it('getResponseTimes of a period holding a tenth or more of all answered inbound messages reads each rank through the ResponseMs index WITH (INDEX)', async () => {
    const { db, queries } = createRecordingMssql((q) => {
      if (q.sql.startsWith('select count(*) as [inbound]')) return { recordset: [{ inbound: 2500, answered: 2000 }] };
      if (q.sql.startsWith('select count(*) as [answered]')) return { recordset: [{ answered: 20000 }] };
      return { recordset: [{ ms: q.sql.includes('desc') ? 5000 : 1000 }] };
    });
    expect(await getResponseTimes(db, { from: NOW, to: LATER })).toEqual({
      inbound: 2500,
      answered: 2000,
      medianMs: 1000,
      p90Ms: 5000,
    });
    const period =
      "where [i].[Direction] = 'incoming' and [i].[CreatedAt] >= @par0 and [i].[CreatedAt] < @par1 and [i].[LeadId] is not null";
    const ordered = `from [WhatsAppMessages] [i] with (index([IX_WhatsAppMessages_Incoming_ResponseMs])) ${period} and [i].[ResponseMs] is not null`;
    expect(queries.slice(1)).toEqual<RecordedQuery[]>([
      {
        sql: "select count(*) as [answered] from [WhatsAppMessages] [i] where [i].[Direction] = 'incoming' and [i].[ResponseMs] is not null and [i].[LeadId] is not null",
        params: [],
      },
      {
        sql: `select [i].[ResponseMs] as [ms] ${ordered} order by [i].[ResponseMs] offset 999 rows fetch next 1 rows only`,
        params: [NOW, LATER],
      },
      {
        sql: `select [i].[ResponseMs] as [ms] ${ordered} order by [i].[ResponseMs] desc offset 200 rows fetch next 1 rows only`,
        params: [NOW, LATER],
      },
    ]);
  });

  it('getPeriodSendOutcomes lets the rollup catch up under an application lock, sums its whole days but those changed since, and reads the rest live', async () => {
    const DAY = 86_400_000;
    const day = (month: number, date: number) => Date.UTC(2030, month, date) / DAY;
    const now = new Date('2030-01-31T12:00:00.000Z');
    const { db, queries, transactionEvents } = createRecordingMssql((q) => {
      if (q.sql.includes('[Watermark] as')) return { recordset: [{ watermark: new Date('2030-01-31T11:50:00.000Z') }] };
      // Changed up to the new watermark: a late webhook for a send of January 30.
      if (q.sql.startsWith('select distinct') && q.params.length === 4) return { recordset: [{ day: day(0, 30) }] };
      // Changed after it: a send of January 15.
      if (q.sql.startsWith('select distinct')) return { recordset: [{ day: day(0, 15) }] };
      if (q.sql.includes('from [AnalyticsSendDays] where'))
        return { recordset: [{ total: 10, sent: 8, delivered: 6, read: 4, replied: 2, failed: 1, pending: 1 }] };
      if (q.sql.startsWith('select count(*) as [total]'))
        return { recordset: [{ total: 1, sent: 1, delivered: 1, read: 1, replied: 1, failed: 0, pending: 0 }] };
      return { rowsAffected: [1] };
    });
    const counts = await getPeriodSendOutcomes(db, {
      from: new Date('2030-01-01T12:00:00.000Z'),
      to: now,
      replyWindowSeconds: 86_400,
      now,
    });
    // The rollup's days plus three live ranges of one send each.
    expect(counts).toEqual({
      stepIndex: null,
      total: 13,
      sent: 11,
      delivered: 9,
      read: 7,
      replied: 5,
      failed: 1,
      pending: 1,
    });
    const sendTime = 'coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt])';
    const flags = `case when ${sendTime} is not null then 1 else 0 end as [sent], case when [m].[DeliveredAt] is not null or [m].[ReadAt] is not null then 1 else 0 end as [delivered], case when [m].[ReadAt] is not null then 1 else 0 end as [read]`;
    const failedPending = `case when [m].[Status] = 'failed' then 1 else 0 end as [failed], case when ${sendTime} is null and [m].[Status] <> 'failed' then 1 else 0 end as [pending]`;
    const period =
      "from [WhatsAppMessages] [m] where [m].[Direction] = 'outgoing' and [m].[CreatedAt] >= @par1 and [m].[CreatedAt] < @par2) [s]";
    const live = `select count(*) as [total], sum([s].[sent]) as [sent], sum([s].[delivered]) as [delivered], sum([s].[read]) as [read], sum([s].[replied]) as [replied], sum([s].[failed]) as [failed], sum([s].[pending]) as [pending] from (select ${flags}, case when ${sendTime} is not null and [m].[FirstReplyAt] > ${sendTime} and [m].[FirstReplyAt] <= dateadd(second, @par0, ${sendTime}) then 1 else 0 end as [replied], ${failedPending} ${period}`;
    const watermark = 'select [Watermark] as [watermark] from [AnalyticsRollupState]';
    // The days of the sends written since, and of the sends an incoming message stored since is the first reply to.
    const changedDays = (sends: string, inbound: string) =>
      `select distinct datediff(day, '19700101', [m].[CreatedAt]) as [day] from [WhatsAppMessages] [m] where ${sends} and [m].[Direction] = 'outgoing'` +
      ` union select distinct datediff(day, '19700101', [m].[CreatedAt]) from [WhatsAppMessages] [i] cross join [WhatsAppMessages] [m] where ${inbound} and [i].[Direction] = 'incoming' and [m].[Direction] = 'outgoing' and [m].[LeadId] = [i].[LeadId] and [m].[FirstReplyAt] = [i].[CreatedAt]`;
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: watermark, params: [] },
      {
        sql: "DECLARE @result int;\nEXEC @result = sp_getapplock @Resource = N'Dripline.analytics-days', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000;\nIF @result < 0 THROW 50000, N'Timed out waiting for the analytics rollup lock held by another process', 1;",
        params: [],
      },
      { sql: watermark, params: [] },
      {
        sql: changedDays(
          '[m].[UpdatedAt] > @par0 and [m].[UpdatedAt] <= @par1',
          '[i].[UpdatedAt] > @par2 and [i].[UpdatedAt] <= @par3',
        ),
        params: [
          new Date('2030-01-31T11:50:00.000Z'),
          new Date('2030-01-31T11:55:00.000Z'),
          new Date('2030-01-31T11:50:00.000Z'),
          new Date('2030-01-31T11:55:00.000Z'),
        ],
      },
      {
        sql: 'delete from [AnalyticsSendDays] where [Day] >= @par0 and [Day] < @par1',
        params: [day(0, 30), day(0, 31)],
      },
      {
        sql: `insert into [AnalyticsSendDays] ([Day], [ReplyHour], [Total], [Sent], [Delivered], [Read], [Failed], [Pending]) select [s].[d], [s].[h], count(*), sum([s].[sent]), sum([s].[delivered]), sum([s].[read]), sum([s].[failed]), sum([s].[pending]) from (select datediff(day, '19700101', [m].[CreatedAt]) as [d], case when ${sendTime} is not null and [m].[FirstReplyAt] > ${sendTime} and [m].[FirstReplyAt] <= dateadd(hour, 720, ${sendTime}) then (datediff_big(millisecond, ${sendTime}, [m].[FirstReplyAt]) + 3599999) / 3600000 else 0 end as [h], ${flags}, ${failedPending} ${period.replace('@par1', '@par0').replace('@par2', '@par1')} group by [s].[d], [s].[h]`,
        params: [new Date(Date.UTC(2030, 0, 30)), new Date(Date.UTC(2030, 0, 31))],
      },
      {
        sql: 'update [AnalyticsRollupState] set [Watermark] = @par0',
        params: [new Date('2030-01-31T11:55:00.000Z')],
      },
      {
        sql: changedDays('[m].[UpdatedAt] > @par0', '[i].[UpdatedAt] > @par1'),
        params: [new Date('2030-01-31T11:55:00.000Z'), new Date('2030-01-31T11:55:00.000Z')],
      },
      {
        sql: 'select sum([Total]) as [total], sum([Sent]) as [sent], sum([Delivered]) as [delivered], sum([Read]) as [read], sum(case when [ReplyHour] >= 1 and [ReplyHour] <= 24 then 1 else 0 end * [Total]) as [replied], sum([Failed]) as [failed], sum([Pending]) as [pending] from [AnalyticsSendDays] where [Day] >= @par0 and [Day] < @par1 and [Day] not in (21929)',
        params: [day(0, 2), day(0, 31)],
      },
      { sql: live, params: [86_400, new Date('2030-01-01T12:00:00.000Z'), new Date(Date.UTC(2030, 0, 2))] },
      { sql: live, params: [86_400, new Date(Date.UTC(2030, 0, 15)), new Date(Date.UTC(2030, 0, 16))] },
      { sql: live, params: [86_400, new Date(Date.UTC(2030, 0, 31)), now] },
    ]);
    expect(transactionEvents).toEqual(['begin', 'commit']);
    expect(day(0, 15)).toBe(21929);
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
