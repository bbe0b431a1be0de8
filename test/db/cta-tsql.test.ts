/**
 * The T-SQL the CTA queries send to SQL Server (recording fake pool, see fake-mssql.ts): the
 * conditional updates that make the first click the only decision and keep a decided run from
 * being moved by a late activity, the lead's suppression stamped once, and the analytics
 * aggregate (a LEFT JOIN, so a flow with nothing sent still has its row).
 */
import { describe, expect, it } from 'vitest';
import {
  advanceCtaRun,
  applyCtaDecisionToLead,
  closeDecidedCtaRun,
  decideCtaRun,
  getCtaFlowCounts,
  hasLeadNote,
  listCtaRuns,
  listRecentCtaInteractions,
} from '../../src/db/queries';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const LATER = new Date('2030-01-31T00:00:00.000Z');

describe('T-SQL of the CTA queries', () => {
  it('decideCtaRun updates only a run with no decision yet, and reports whether it won', async () => {
    let affected = 1;
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [affected] }));

    expect(await decideCtaRun(db, { runId: 5, action: 'interested', at: NOW })).toBe(true);
    affected = 0;
    expect(await decideCtaRun(db, { runId: 5, action: 'not_interested', at: NOW })).toBe(false);

    expect(queries[0]).toEqual<RecordedQuery>({
      sql:
        'update [CtaFlowRuns] set [Decision] = @par0, [DecidedAt] = @par1, [UpdatedAt] = @par2' +
        ' where (([CtaFlowRuns].[Id] = @par3) and (([CtaFlowRuns].[Decision] is null)))',
      params: ['interested', NOW, NOW, 5],
    });
  });

  it('advanceCtaRun moves only an open, undecided run, stamping the time of its new status', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));
    await advanceCtaRun(db, { runId: 5, status: 'reminded', at: NOW });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'update [CtaFlowRuns] set [Status] = @par0, [RemindedAt] = @par1, [UpdatedAt] = @par2' +
          ' where (([CtaFlowRuns].[Id] = @par3) and (([CtaFlowRuns].[Decision] is null))' +
          ' and ([CtaFlowRuns].[Status] in (@par4, @par5, @par6)))',
        params: ['reminded', NOW, NOW, 5, 'pending', 'sent', 'reminded'],
      },
    ]);
  });

  it('closeDecidedCtaRun copies the decision into the status in the same statement', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));
    await closeDecidedCtaRun(db, { runId: 5, at: NOW });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'update [CtaFlowRuns] set [Status] = [CtaFlowRuns].[Decision], [ClosedAt] = @par0, [UpdatedAt] = @par1' +
          ' where (([CtaFlowRuns].[Id] = @par2) and ([CtaFlowRuns].[Decision] IS NOT NULL))',
        params: [NOW, NOW, 5],
      },
    ]);
  });

  it('applyCtaDecisionToLead sets status and stage, and stamps the suppression only if not already set', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));
    await applyCtaDecisionToLead(db, { leadId: 7, status: 'Not interested', stage: 'Cold', suppress: true, at: NOW });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'update [Clients] set [Status] = @par0, [Stage] = @par1, [UpdatedAt] = @par2 where [Clients].[Id] = @par3',
        params: ['Not interested', 'Cold', NOW, 7],
      },
      {
        sql:
          'update [Clients] set [MarketingSuppressedAt] = @par0' +
          ' where (([Clients].[Id] = @par1) and (([Clients].[MarketingSuppressedAt] is null)))',
        params: [NOW, 7],
      },
    ]);
  });

  it('getCtaFlowCounts aggregates runs sent in the period per flow, and a flow with none reads as zeros', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [[2, 'Palm Grove', 0, null, null, null]] }));

    const counts = await getCtaFlowCounts(db, { from: NOW, to: LATER, flowId: 2 });

    expect(counts).toEqual([
      {
        flowId: 2,
        flowName: 'Palm Grove',
        sent: 0,
        interested: 0,
        notInterested: 0,
        noResponse: 0,
        engagementRate: null,
        conversionRate: null,
      },
    ]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [CtaFlows].[Id], [CtaFlows].[Name], count([CtaFlowRuns].[Id]),' +
          " sum(case when [CtaFlowRuns].[Decision] = 'interested' then 1 else 0 end)," +
          " sum(case when [CtaFlowRuns].[Decision] = 'not_interested' then 1 else 0 end)," +
          " sum(case when [CtaFlowRuns].[Decision] IS NULL AND [CtaFlowRuns].[Status] = 'no_response' then 1 else 0 end)" +
          ' from [CtaFlows] left join [CtaFlowRuns] on (([CtaFlowRuns].[FlowId] = [CtaFlows].[Id])' +
          ' and ([CtaFlowRuns].[SentAt] >= @par0) and ([CtaFlowRuns].[SentAt] < @par1))' +
          ' where [CtaFlows].[Id] = @par2 group by [CtaFlows].[Id], [CtaFlows].[Name] order by [CtaFlows].[Id]',
        params: [NOW, LATER, 2],
      },
    ]);
  });

  it('hasLeadNote looks the note up by its unique dedupe key', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [{ id: 3 }] }));
    expect(await hasLeadNote(db, 'keyword:42')).toBe(true);
    expect(queries[0]).toEqual<RecordedQuery>({
      sql: 'select [Id] from [LeadNotes] where [LeadNotes].[DedupeKey] = @par0',
      params: ['keyword:42'],
    });
  });

  it('listCtaRuns pages with ORDER BY … OFFSET … ROWS FETCH NEXT … ROWS ONLY (SQL Server has no LIMIT)', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[0]] } : { recordset: [] },
    );
    await listCtaRuns(db, { page: 2, pageSize: 10, flowId: 3 });
    expect(queries[1]).toEqual<RecordedQuery>({
      sql:
        'select [Id], [FlowId], [LeadId], [WorkflowId], [Trigger], [IvrCallId], [Status], [Decision], [DecidedAt], [SentAt],' +
        ' [RemindedAt], [ClosedAt], [LastError], [CreatedAt], [UpdatedAt] from [CtaFlowRuns] where [CtaFlowRuns].[FlowId] = @par0' +
        ' order by [CtaFlowRuns].[Id] desc offset @par1 rows fetch next @par2 rows only',
      params: [3, 10, 10],
    });
  });

  it('listRecentCtaInteractions takes the newest clicks with OFFSET 0 ROWS FETCH NEXT n ROWS ONLY', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [] }));
    await listRecentCtaInteractions(db, { from: NOW, to: LATER, limit: 20 });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [CtaInteractions].[Id], [CtaInteractions].[RunId], [CtaInteractions].[FlowId], [CtaInteractions].[LeadId],' +
          ' [Clients].[Name], [CtaInteractions].[Action], [CtaInteractions].[Result], [CtaInteractions].[ClickedAt]' +
          ' from [CtaInteractions] left join [Clients] on [Clients].[Id] = [CtaInteractions].[LeadId]' +
          ' where (([CtaInteractions].[ClickedAt] >= @par0) and ([CtaInteractions].[ClickedAt] < @par1))' +
          ' order by [CtaInteractions].[ClickedAt] desc, [CtaInteractions].[Id] desc offset @par2 rows fetch next @par3 rows only',
        params: [NOW, LATER, 0, 20],
      },
    ]);
  });
});
