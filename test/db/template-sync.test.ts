import { getTableColumns } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  applyTemplateStatusUpdate,
  createTemplateSyncRun,
  findRunningTemplateSyncRun,
  findTemplateSyncRunByStart,
  finishTemplateSyncRun,
  getTemplateSyncRun,
  listTemplateSyncRuns,
  markTemplatesRemovedUpstream,
  recordTemplateSyncProgress,
  upsertSyncedTemplate,
  type SyncedTemplateValues,
} from '../../src/db/queries';
import * as mssqlSchema from '../../src/db/schema/mssql';
import { createTestDb } from '../support/db';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const T1 = new Date('2030-01-01T01:00:00.000Z');
const T2 = new Date('2030-01-01T02:00:00.000Z');

function synced(name: string, overrides: Partial<SyncedTemplateValues> = {}): SyncedTemplateValues {
  return {
    name,
    language: 'en',
    category: 'UTILITY',
    approvalStatus: 'Approved',
    rejectionReason: null,
    headerType: 'none',
    headerText: null,
    headerMediaUrl: null,
    body: `Hi {{1}}, this is ${name}.`,
    footer: null,
    buttons: [],
    providerTemplateId: `wa-${name}`,
    ...overrides,
  };
}

describe('template sync queries (SQLite, or SQL Server with DATABASE_URL)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  const template = async (name: string, language = 'en') => {
    const t = db.schema.messageMaster;
    const rows = await db.orm.select().from(t);
    return rows.find((row) => row.name === name && row.language === language);
  };

  it('creates a template on first sight with its source, provider and sync time, and finds nothing to change the second time', async () => {
    const values = synced('sync_created', {
      buttons: [{ type: 'QUICK_REPLY', text: 'Stop' }],
      approvalStatus: 'Pending',
    });

    expect(await upsertSyncedTemplate(db, 'interakt', values, T0)).toBe('created');
    expect(await template('sync_created')).toMatchObject({
      approvalStatus: 'Pending',
      source: 'interakt',
      provider: 'interakt',
      providerTemplateId: 'wa-sync_created',
      buttons: '[{"type":"QUICK_REPLY","text":"Stop"}]',
      lastSyncedAt: T0,
      removedUpstreamAt: null,
      createdAt: T0,
    });

    expect(await upsertSyncedTemplate(db, 'interakt', values, T1)).toBe('unchanged');
    expect(await template('sync_created')).toMatchObject({ lastSyncedAt: T1, updatedAt: T0 });
  });

  it('updates a changed approval status and rejection reason, keyed by name + language', async () => {
    await upsertSyncedTemplate(db, 'interakt', synced('sync_status'), T0);
    await upsertSyncedTemplate(db, 'interakt', synced('sync_status', { language: 'hi', body: 'नमस्ते {{1}}' }), T0);

    const outcome = await upsertSyncedTemplate(
      db,
      'interakt',
      synced('sync_status', { approvalStatus: 'Rejected', rejectionReason: 'INVALID_FORMAT' }),
      T1,
    );

    expect(outcome).toBe('updated');
    expect(await template('sync_status')).toMatchObject({
      approvalStatus: 'Rejected',
      rejectionReason: 'INVALID_FORMAT',
      updatedAt: T1,
      lastSyncedAt: T1,
    });
    expect(await template('sync_status', 'hi')).toMatchObject({ approvalStatus: 'Approved', lastSyncedAt: T0 });
  });

  it('takes over a template the CRM created under the same key, leaving its archive flag alone', async () => {
    const t = db.schema.messageMaster;
    await db.orm
      .insert(t)
      .values({ name: 'sync_crm', language: 'en', body: 'old body', approvalStatus: 'Pending', archivedAt: T0 });

    expect(await upsertSyncedTemplate(db, 'interakt', synced('sync_crm'), T1)).toBe('updated');
    expect(await template('sync_crm')).toMatchObject({
      source: 'interakt',
      approvalStatus: 'Approved',
      body: 'Hi {{1}}, this is sync_crm.',
      archivedAt: T0,
    });
  });

  it('marks only unseen templates of that provider as removed, once, and clears the mark when one reappears', async () => {
    const t = db.schema.messageMaster;
    await db.orm.delete(t);
    for (const name of ['keep_a', 'keep_b', 'gone_c', 'gone_d'])
      await upsertSyncedTemplate(db, 'interakt', synced(name), T0);
    await db.orm.insert(t).values({ name: 'crm_only', language: 'en', body: 'made here' });
    await upsertSyncedTemplate(db, 'other-provider', synced('other_e'), T0);

    const seen = [
      { name: 'keep_a', language: 'en' },
      { name: 'keep_b', language: 'en' },
    ];
    expect(await markTemplatesRemovedUpstream(db, 'interakt', seen, T1)).toBe(2);
    expect(await markTemplatesRemovedUpstream(db, 'interakt', seen, T2)).toBe(0);

    expect((await template('gone_c'))?.removedUpstreamAt).toEqual(T1);
    expect((await template('gone_d'))?.removedUpstreamAt).toEqual(T1);
    for (const name of ['keep_a', 'keep_b', 'crm_only', 'other_e'])
      expect((await template(name))?.removedUpstreamAt).toBeNull();

    expect(await upsertSyncedTemplate(db, 'interakt', synced('gone_c'), T2)).toBe('updated');
    expect((await template('gone_c'))?.removedUpstreamAt).toBeNull();
  });

  it('records a run from running to completed with its counts and errors, and never reopens a finished run', async () => {
    const run = await createTemplateSyncRun(db, { provider: 'interakt', trigger: 'api', startedAt: T0 });
    expect(run).toMatchObject({ status: 'running', trigger: 'api', fetched: 0, errors: [], finishedAt: null });
    expect((await findRunningTemplateSyncRun(db, 'interakt'))?.id).toBe(run.id);

    expect(await recordTemplateSyncProgress(db, run.id, { counts: { fetched: 2, created: 2 }, errors: [] })).toBe(true);
    expect(await getTemplateSyncRun(db, run.id)).toMatchObject({ status: 'running', fetched: 2, created: 2 });

    const errors = [{ template: 'bad (en)', message: 'buttons is not valid JSON' }];
    const counts = { fetched: 5, created: 3, updated: 1, unchanged: 0, removed: 1, errorCount: 1 };
    expect(await finishTemplateSyncRun(db, run.id, { status: 'completed', counts, errors, finishedAt: T1 })).toBe(true);
    expect(
      await finishTemplateSyncRun(db, run.id, { status: 'failed', counts: {}, errors: [{ message: 'late' }] }),
    ).toBe(false);

    expect(await getTemplateSyncRun(db, run.id)).toMatchObject({
      status: 'completed',
      finishedAt: T1,
      ...counts,
      errors,
    });
    expect(await findRunningTemplateSyncRun(db, 'interakt')).toBeUndefined();
  });

  it('finds a scheduled run by provider, trigger and start time, and lists runs newest first', async () => {
    const scheduled = await createTemplateSyncRun(db, { provider: 'interakt', trigger: 'schedule', startedAt: T2 });
    expect(
      (await findTemplateSyncRunByStart(db, { provider: 'interakt', trigger: 'schedule', startedAt: T2 }))?.id,
    ).toBe(scheduled.id);
    expect(
      await findTemplateSyncRunByStart(db, { provider: 'interakt', trigger: 'api', startedAt: T2 }),
    ).toBeUndefined();

    const page = await listTemplateSyncRuns(db, { page: 1, pageSize: 1, provider: 'interakt' });
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect(page.items.map((run) => run.id)).toEqual([scheduled.id]);
    expect(await getTemplateSyncRun(db, 999_999)).toBeUndefined();
  });
});

describe('T-SQL of the template sync queries', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const TEMPLATE_COLUMNS =
    '[Id], [Name], [Language], [Category], [ApprovalStatus], [HeaderType], [HeaderText], [Body], [Footer], [Buttons], [Provider], [ProviderTemplateId], [CreatedAt], [UpdatedAt], [ArchivedAt], [HeaderMediaUrl], [RejectionReason], [Source], [LastSyncedAt], [RemovedUpstreamAt], [QualityScore]';
  const RUN_COLUMNS =
    '[Id], [Provider], [Trigger], [Status], [StartedAt], [FinishedAt], [Fetched], [Created], [Updated], [Unchanged], [Removed], [ErrorCount], [Errors]';

  function runRecord(overrides: Record<string, unknown> = {}): unknown[] {
    const row: Record<string, unknown> = {
      id: 4,
      provider: 'interakt',
      trigger: 'api',
      status: 'running',
      startedAt: T0,
      finishedAt: null,
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      removed: 0,
      errorCount: 0,
      errors: '[]',
      ...overrides,
    };
    return Object.keys(getTableColumns(mssqlSchema.templateSyncRuns)).map((key) => row[key]);
  }

  it('upsertSyncedTemplate looks the template up by name + language, then inserts it with bracketed columns', async () => {
    const { db, queries } = createRecordingMssql();

    expect(await upsertSyncedTemplate(db, 'interakt', synced('welcome'), T1)).toBe('created');

    expect(queries[0]).toEqual<RecordedQuery>({
      sql: `select ${TEMPLATE_COLUMNS} from [MessageMaster] where (([MessageMaster].[Name] = @par0) and ([MessageMaster].[Language] = @par1))`,
      params: ['welcome', 'en'],
    });
    expect(queries[1]?.sql).toBe(
      'insert into [MessageMaster] ([Name], [Language], [Category], [ApprovalStatus], [HeaderType], [HeaderText], [Body], [Footer], [Buttons], [Provider], [ProviderTemplateId], [CreatedAt], [UpdatedAt], [ArchivedAt], [HeaderMediaUrl], [RejectionReason], [Source], [LastSyncedAt], [RemovedUpstreamAt], [QualityScore]) values (@par0, @par1, @par2, @par3, @par4, @par5, @par6, @par7, @par8, @par9, @par10, @par11, @par12, default, @par13, @par14, @par15, @par16, @par17, @par18)',
    );
    expect(queries[1]?.params).toEqual(
      expect.arrayContaining(['welcome', 'en', 'Approved', '[]', 'interakt', 'wa-welcome', T1]),
    );
    expect(queries).toHaveLength(2);
  });

  it('applyTemplateStatusUpdate finds the template by the provider’s id, else by name and either language spelling, and sets what changed', async () => {
    const row = (overrides: Record<string, unknown>) => {
      const values: Record<string, unknown> = {
        id: 12,
        name: 'order_update',
        language: 'en_US',
        approvalStatus: 'Approved',
        headerType: 'none',
        body: 'Hi {{1}}',
        buttons: '[]',
        provider: 'meta',
        providerTemplateId: '5551',
        source: 'meta',
        createdAt: T0,
        updatedAt: T0,
        ...overrides,
      };
      return Object.keys(getTableColumns(mssqlSchema.messageMaster)).map((key) => values[key] ?? null);
    };
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select') ? { recordset: q.params.includes('5551') ? [] : [row({})] } : { rowsAffected: [1] },
    );

    const result = await applyTemplateStatusUpdate(db, {
      provider: 'meta',
      providerTemplateId: '5551',
      name: 'order_update',
      language: 'en-US',
      approvalStatus: 'Paused',
      rejectionReason: null,
      qualityScore: 'RED',
      at: T1,
    });

    expect(result).toEqual({ templateId: 12, changed: true });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select ${TEMPLATE_COLUMNS} from [MessageMaster] where (([MessageMaster].[Provider] = @par0) and ([MessageMaster].[ProviderTemplateId] = @par1))`,
        params: ['meta', '5551'],
      },
      {
        sql: `select ${TEMPLATE_COLUMNS} from [MessageMaster] where (([MessageMaster].[Name] = @par0) and ([MessageMaster].[Language] in (@par1, @par2)))`,
        params: ['order_update', 'en-US', 'en_US'],
      },
      {
        sql: 'update [MessageMaster] set [ApprovalStatus] = @par0, [UpdatedAt] = @par1, [QualityScore] = @par2 where [MessageMaster].[Id] = @par3',
        params: ['Paused', T1, 'RED', 12],
      },
    ]);
  });

  it('markTemplatesRemovedUpstream selects the provider’s unmarked templates, then marks the unseen ones by id', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select')
        ? {
            recordset: [
              [1, 'seen', 'en'],
              [2, 'gone', 'en'],
              [3, 'gone', 'hi'],
            ],
          }
        : { rowsAffected: [2] },
    );

    expect(await markTemplatesRemovedUpstream(db, 'interakt', [{ name: 'seen', language: 'en' }], T1)).toBe(2);

    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select [Id], [Name], [Language] from [MessageMaster] where (([MessageMaster].[Source] = @par0) and (([MessageMaster].[RemovedUpstreamAt] is null)))',
        params: ['interakt'],
      },
      {
        sql: 'update [MessageMaster] set [UpdatedAt] = @par0, [RemovedUpstreamAt] = @par1 where (([MessageMaster].[Id] in (@par2, @par3)) and (([MessageMaster].[RemovedUpstreamAt] is null)))',
        params: [T1, T1, 2, 3],
      },
    ]);
  });

  it('createTemplateSyncRun inserts with OUTPUT INSERTED to get the new run back', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [runRecord()] }));

    const run = await createTemplateSyncRun(db, { provider: 'interakt', trigger: 'api' });

    expect(run).toMatchObject({ id: 4, status: 'running', errors: [] });
    expect(queries).toHaveLength(1);
    expect(queries[0]?.sql).toMatch(
      /^insert into \[TemplateSyncRuns\] \(.*\) output INSERTED\.\[Id\], INSERTED\.\[Provider\], .* values \(/,
    );
    expect(queries[0]?.params).toEqual(expect.arrayContaining(['interakt', 'api', 'running', T0]));
  });

  it('finishTemplateSyncRun updates only a running run', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [1] }));

    await finishTemplateSyncRun(db, 4, {
      status: 'completed',
      counts: { fetched: 5, errorCount: 1 },
      errors: [{ message: 'bad' }],
      finishedAt: T1,
    });

    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'update [TemplateSyncRuns] set [Status] = @par0, [FinishedAt] = @par1, [Fetched] = @par2, [ErrorCount] = @par3, [Errors] = @par4 where (([TemplateSyncRuns].[Id] = @par5) and ([TemplateSyncRuns].[Status] = @par6))',
        params: ['completed', T1, 5, 1, '[{"message":"bad"}]', 4, 'running'],
      },
    ]);
  });

  it('listTemplateSyncRuns counts, then pages newest first with OFFSET … FETCH NEXT', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[30]] } : { recordset: [runRecord({ id: 12 })] },
    );

    const page = await listTemplateSyncRuns(db, { page: 2, pageSize: 10, provider: 'interakt' });

    expect(page).toMatchObject({ total: 30, page: 2, pageSize: 10 });
    expect(page.items.map((run) => run.id)).toEqual([12]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select count(*) from [TemplateSyncRuns] where [TemplateSyncRuns].[Provider] = @par0',
        params: ['interakt'],
      },
      {
        sql: `select ${RUN_COLUMNS} from [TemplateSyncRuns] where [TemplateSyncRuns].[Provider] = @par0 order by [TemplateSyncRuns].[Id] desc offset @par1 rows fetch next @par2 rows only`,
        params: ['interakt', 10, 10],
      },
    ]);
  });
});
