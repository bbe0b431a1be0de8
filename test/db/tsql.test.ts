import { dripWorkflowId } from '../../src/drips/contract';
/**
 * The T-SQL the shared query functions send to SQL Server, captured by a recording fake pool
 * (see fake-mssql.ts). Proves the one-set-of-functions design renders real T-SQL: bracketed
 * identifiers, @parN parameters, OFFSET … FETCH paging, OUTPUT INSERTED.… for new ids.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getTableColumns } from 'drizzle-orm';
import {
  applyMessageStatus,
  applyMessageStatusBatch,
  claimOutgoingMessage,
  insertIncomingMessage,
  createAssignments,
  findActiveAssignments,
  getLead,
  getTemplateByNameLanguage,
  listAssignments,
  listLeads,
  listTemplates,
  markMessageAccepted,
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

const CLIENT_COLUMNS =
  '[Id], [Name], [FirstName], [LastName], [Phone], [Email], [Status], [Stage], [OptedOut], [OptedOutAt], [TimeZone], [LastContactedAt], [CustomFields], [CreatedAt], [UpdatedAt], [MarketingSuppressedAt], [Source], [LastChannel], [InfobipProfileId], [LastSyncedAt]';
const ASSIGNMENT_COLUMNS =
  '[Id], [LeadId], [SequenceId], [SequenceVersion], [StepsSnapshot], [Status], [NextStep], [TotalSteps], [NextSendAt], [StopReason], [LastError], [WorkflowId], [StartedAt], [CompletedAt], [UpdatedAt]';
const TEMPLATE_COLUMNS =
  '[Id], [Name], [Language], [Category], [ApprovalStatus], [HeaderType], [HeaderText], [Body], [Footer], [Buttons], [Provider], [ProviderTemplateId], [CreatedAt], [UpdatedAt], [ArchivedAt], [HeaderMediaUrl], [RejectionReason], [Source], [LastSyncedAt], [RemovedUpstreamAt], [QualityScore]';
const MESSAGE_COLUMNS =
  '[Id], [IdempotencyKey], [LeadId], [Direction], [Provider], [ProviderMessageId], [Phone], [CountryCode], [TemplateName], [TemplateLanguage], [MessageContent], [MediaUrl], [ReferenceType], [ReferenceId], [WorkflowId], [StepIndex], [CallbackData], [CampaignId], [Status], [Attempts], [AttemptStartedAt], [SentAt], [DeliveredAt], [ReadAt], [FailedAt], [ErrorCode], [ErrorMessage], [CreatedAt], [UpdatedAt], [Sender], [FirstReplyAt], [ResponseMs]';

/** A WhatsAppMessages row as the driver returns it in array-row mode (columns in schema order). */
function messageRecord(overrides: Record<string, unknown>): unknown[] {
  const row: Record<string, unknown> = {
    id: 9,
    idempotencyKey: 'drip-7:0',
    leadId: 7,
    direction: 'outgoing',
    provider: 'interakt',
    providerMessageId: null,
    phone: '+919812345678',
    countryCode: null,
    templateName: 'welcome',
    templateLanguage: 'en',
    messageContent: '{}',
    mediaUrl: null,
    referenceType: 'drip',
    referenceId: '7',
    workflowId: 'drip-7',
    stepIndex: 0,
    callbackData: 'drip-7:0',
    campaignId: null,
    status: 'pending',
    attempts: 0,
    attemptStartedAt: null,
    sentAt: null,
    deliveredAt: null,
    readAt: null,
    failedAt: null,
    errorCode: null,
    errorMessage: null,
    createdAt: NOW,
    updatedAt: NOW,
    sender: null,
    firstReplyAt: null,
    responseMs: null,
    ...overrides,
  };
  return Object.keys(getTableColumns(mssqlSchema.whatsAppMessages)).map((key) => row[key]);
}

const uniqueIndexViolation = () =>
  Object.assign(
    new Error(
      "Cannot insert duplicate key row in object 'dbo.LeadDripAssignment' with unique index 'UX_LeadDripAssignment_Active'.",
    ),
    {
      number: 2601,
    },
  );

describe('T-SQL of the lead queries', () => {
  it('getLead selects one row by a @par0 parameter with bracketed identifiers', async () => {
    const { db, queries } = createRecordingMssql();
    expect(await getLead(db, 5)).toBeUndefined();
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: `select ${CLIENT_COLUMNS} from [Clients] where [Clients].[Id] = @par0`, params: [5] },
    ]);
  });

  it('listLeads counts the matches, then pages with ORDER BY … OFFSET … ROWS FETCH NEXT … ROWS ONLY', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[45]] } : undefined,
    );

    const page = await listLeads(db, { page: 3, pageSize: 20, search: 'asha', status: 'New' });

    expect(page).toEqual({ items: [], total: 45, page: 3, pageSize: 20 });
    const where =
      'where (((([Clients].[Name] like @par0) or ([Clients].[Phone] like @par1) or ([Clients].[Email] like @par2))) and ([Clients].[Status] = @par3))';
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: `select count(*) from [Clients] ${where}`, params: ['%asha%', '%asha%', '%asha%', 'New'] },
      {
        sql: `select ${CLIENT_COLUMNS} from [Clients] ${where} order by [Clients].[Id] desc offset @par4 rows fetch next @par5 rows only`,
        params: ['%asha%', '%asha%', '%asha%', 'New', 40, 20],
      },
    ]);
  });
});

describe('T-SQL of the assignment queries', () => {
  it('findActiveAssignments filters the live statuses with IN lists of parameters', async () => {
    const { db, queries } = createRecordingMssql();
    await findActiveAssignments(db, { sequenceId: 3, leadIds: [7, 8] });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'select [Id], [LeadId], [Status], [WorkflowId] from [LeadDripAssignment] where (([LeadDripAssignment].[SequenceId] = @par0)' +
          ' and ([LeadDripAssignment].[LeadId] in (@par1, @par2)) and ([LeadDripAssignment].[Status] in (@par3, @par4, @par5)))',
        params: [3, 7, 8, 'pending', 'active', 'paused'],
      },
    ]);
  });

  it('createAssignments inserts with OUTPUT INSERTED.[Id] and sets the workflow ids in the same transaction', async () => {
    const { db, queries, transactionEvents } = createRecordingMssql((q) =>
      q.sql.startsWith('insert')
        ? {
            recordset: [
              [101, 7],
              [102, 8],
            ],
          }
        : undefined,
    );
    const rows = [7, 8].map((leadId) => ({ leadId, sequenceId: 3, sequenceVersion: 2, steps: [] }));

    const result = await createAssignments(db, rows, dripWorkflowId);

    expect(result).toEqual({
      created: [
        { id: 101, leadId: 7 },
        { id: 102, leadId: 8 },
      ],
      conflicts: [],
    });
    expect(transactionEvents).toEqual(['begin', 'commit']);
    const valueList = (n: number) =>
      `(@par${n}, @par${n + 1}, @par${n + 2}, @par${n + 3}, @par${n + 4}, default, @par${n + 5}, default, default, default, default, @par${n + 6}, default, @par${n + 7})`;
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'insert into [LeadDripAssignment] ([LeadId], [SequenceId], [SequenceVersion], [StepsSnapshot], [Status], [NextStep], [TotalSteps],' +
          ' [NextSendAt], [StopReason], [LastError], [WorkflowId], [StartedAt], [CompletedAt], [UpdatedAt])' +
          ` output INSERTED.[Id], INSERTED.[LeadId] values ${valueList(0)}, ${valueList(8)}`,
        params: [7, 3, 2, '[]', 'pending', 0, NOW, NOW, 8, 3, 2, '[]', 'pending', 0, NOW, NOW],
      },
      {
        sql:
          'update [LeadDripAssignment] set [WorkflowId] = case [LeadDripAssignment].[Id] when @par0 then @par1 when @par2 then @par3 end' +
          ' where [LeadDripAssignment].[Id] in (@par4, @par5)',
        params: [101, 'drip-101', 102, 'drip-102', 101, 102],
      },
    ]);
  });

  it('createAssignments on SQL Server retries a chunk refused by the filtered unique index (error 2601) row by row', async () => {
    let inserts = 0;
    const { db, transactionEvents } = createRecordingMssql((q) => {
      if (!q.sql.startsWith('insert')) return undefined;
      inserts++;
      if (inserts === 1 || q.params[0] === 8) throw uniqueIndexViolation();
      return { recordset: [[201, q.params[0]]] };
    });
    const rows = [7, 8].map((leadId) => ({ leadId, sequenceId: 3, sequenceVersion: 2, steps: [] }));

    expect(await createAssignments(db, rows, dripWorkflowId)).toEqual({
      created: [{ id: 201, leadId: 7 }],
      conflicts: [8],
    });
    expect(transactionEvents).toEqual(['begin', 'rollback', 'begin', 'commit', 'begin', 'rollback']);
  });

  it('listAssignments pages with OFFSET/FETCH after counting with the same filter', async () => {
    const { db, queries } = createRecordingMssql();
    await listAssignments(db, { sequenceId: 3, status: 'active', page: 2, pageSize: 10 });
    const where = 'where (([LeadDripAssignment].[SequenceId] = @par0) and ([LeadDripAssignment].[Status] = @par1))';
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: `select count(*) from [LeadDripAssignment] ${where}`, params: [3, 'active'] },
      {
        sql: `select ${ASSIGNMENT_COLUMNS} from [LeadDripAssignment] ${where} order by [LeadDripAssignment].[Id] desc offset @par2 rows fetch next @par3 rows only`,
        params: [3, 'active', 10, 10],
      },
    ]);
  });
});

describe('T-SQL of the message ledger', () => {
  it('claimOutgoingMessage looks the key up, inserts with OUTPUT INSERTED.* and answers the lead’s earlier inbound messages in one transaction', async () => {
    const { db, queries, transactionEvents } = createRecordingMssql((q) =>
      q.sql.startsWith('insert') ? { recordset: [messageRecord({})] } : undefined,
    );

    const row = await claimOutgoingMessage(db, {
      idempotencyKey: 'drip-7:0',
      leadId: 7,
      phone: '+919812345678',
      provider: 'interakt',
      templateName: 'welcome',
      templateLanguage: 'en',
      messageContent: { bodyValues: ['Asha'] },
      referenceType: 'drip',
      referenceId: '7',
      workflowId: 'drip-7',
      stepIndex: 0,
      callbackData: 'drip-7:0',
      sender: '100000000000002',
    });

    expect(row).toMatchObject({ id: 9, status: 'pending', messageContent: {} });
    const insertColumns = MESSAGE_COLUMNS.replace('[Id], ', '');
    const output = MESSAGE_COLUMNS.split(', ')
      .map((c) => `INSERTED.${c}`)
      .join(', ');
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select ${MESSAGE_COLUMNS} from [WhatsAppMessages] where [WhatsAppMessages].[IdempotencyKey] = @par0`,
        params: ['drip-7:0'],
      },
      {
        sql:
          `insert into [WhatsAppMessages] (${insertColumns}) output ${output} values (@par0, @par1, @par2, @par3, default, @par4, @par5,` +
          ' @par6, @par7, @par8, @par9, @par10, @par11, @par12, @par13, @par14, @par15, @par16, default, default, default, default,' +
          ' default, default, default, default, @par17, @par18, @par19, default, default)',
        params: [
          'drip-7:0',
          7,
          'outgoing',
          'interakt',
          '+919812345678',
          null,
          'welcome',
          'en',
          '{"bodyValues":["Asha"]}',
          null,
          'drip',
          '7',
          'drip-7',
          0,
          'drip-7:0',
          null,
          'pending',
          NOW,
          NOW,
          '100000000000002',
        ],
      },
      {
        // ResponseMs of the lead's inbound messages before it that nothing answered yet (or answered later).
        sql:
          'update [WhatsAppMessages] set [ResponseMs] = datediff_big(millisecond, [WhatsAppMessages].[CreatedAt], @par0)' +
          " where (([WhatsAppMessages].[Direction] = 'incoming') and ([WhatsAppMessages].[LeadId] = @par1) and ([WhatsAppMessages].[CreatedAt] < @par2)" +
          ' and (((([WhatsAppMessages].[ResponseMs] is null)) or ([WhatsAppMessages].[ResponseMs] > datediff_big(millisecond, [WhatsAppMessages].[CreatedAt], @par3)))))',
        params: [NOW, 7, NOW, NOW],
      },
    ]);
    expect(transactionEvents).toEqual(['begin', 'commit']);
  });

  it('insertIncomingMessage is, in its transaction, the first reply to the lead’s sends before it that had none, and takes its own response time', async () => {
    const { db, queries, transactionEvents } = createRecordingMssql((q) =>
      q.sql.startsWith('insert')
        ? {
            recordset: [
              messageRecord({ id: 12, direction: 'incoming', status: 'delivered', idempotencyKey: 'interakt:in:w1' }),
            ],
          }
        : undefined,
    );
    await insertIncomingMessage(db, {
      provider: 'interakt',
      providerMessageId: 'w1',
      phone: '+919812345678',
      leadId: 7,
      messageContent: { text: 'Hi' },
      receivedAt: NOW,
    });
    expect(queries.slice(1)).toEqual<RecordedQuery[]>([
      {
        sql:
          'update [WhatsAppMessages] set [FirstReplyAt] = @par0' +
          " where (([WhatsAppMessages].[Direction] = 'outgoing') and ([WhatsAppMessages].[LeadId] = @par1)" +
          ' and (coalesce([WhatsAppMessages].[SentAt], [WhatsAppMessages].[DeliveredAt], [WhatsAppMessages].[ReadAt]) < @par2)' +
          ' and (((([WhatsAppMessages].[FirstReplyAt] is null)) or ([WhatsAppMessages].[FirstReplyAt] > @par3))))',
        params: [NOW, 7, NOW, NOW],
      },
      {
        sql:
          "update [WhatsAppMessages] set [ResponseMs] = datediff_big(millisecond, [WhatsAppMessages].[CreatedAt], (select min([o].[CreatedAt]) from [WhatsAppMessages] [o] where [o].[Direction] = 'outgoing' and [o].[LeadId] = [WhatsAppMessages].[LeadId] and [o].[CreatedAt] > [WhatsAppMessages].[CreatedAt]))" +
          ' where [WhatsAppMessages].[Id] = @par0',
        params: [12],
      },
    ]);
    expect(transactionEvents).toEqual(['begin', 'commit']);
  });

  it('claimOutgoingMessage re-reads the winner when its insert loses the race on the unique index', async () => {
    let selects = 0;
    const { db } = createRecordingMssql((q) => {
      if (q.sql.startsWith('insert')) throw Object.assign(new Error('duplicate key'), { number: 2601 });
      selects++;
      return selects === 2 ? { recordset: [messageRecord({ id: 77, status: 'sending' })] } : undefined;
    });
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: 'drip-7:0',
      leadId: 7,
      phone: '+91',
      provider: 'interakt',
      templateName: 'welcome',
      templateLanguage: 'en',
      messageContent: {},
      referenceType: 'drip',
      referenceId: '7',
      workflowId: 'drip-7',
      stepIndex: 0,
      callbackData: 'drip-7:0',
    });
    expect(row).toMatchObject({ id: 77, status: 'sending' });
  });

  it('markMessageAccepted moves only pending/sending rows to sent, else fills a missing provider id without touching the status; both recompute FirstReplyAt from the new sent time', async () => {
    const { db, queries } = createRecordingMssql(() => ({ rowsAffected: [0] }));

    expect(await markMessageAccepted(db, { id: 9, providerMessageId: 'p1', at: NOW })).toBe(false);

    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          'update [WhatsAppMessages] set [ProviderMessageId] = @par0, [Status] = @par1, [SentAt] = @par2, [UpdatedAt] = @par3,' +
          " [FirstReplyAt] = (select min([r].[CreatedAt]) from [WhatsAppMessages] [r] where [r].[Direction] = 'incoming' and [r].[LeadId] = [WhatsAppMessages].[LeadId] and [r].[CreatedAt] > @par4)" +
          ' where (([WhatsAppMessages].[Id] = @par5) and ([WhatsAppMessages].[Status] in (@par6, @par7)))',
        params: ['p1', 'sent', NOW, NOW, NOW, 9, 'pending', 'sending'],
      },
      {
        sql:
          'update [WhatsAppMessages] set [ProviderMessageId] = coalesce([WhatsAppMessages].[ProviderMessageId], @par0),' +
          ' [SentAt] = coalesce([WhatsAppMessages].[SentAt], @par1), [UpdatedAt] = @par2,' +
          " [FirstReplyAt] = (select min([r].[CreatedAt]) from [WhatsAppMessages] [r] where [r].[Direction] = 'incoming' and [r].[LeadId] = [WhatsAppMessages].[LeadId] and [r].[CreatedAt] > coalesce([WhatsAppMessages].[SentAt], @par3))" +
          ' where (([WhatsAppMessages].[Id] = @par4) and ([WhatsAppMessages].[Status] in (@par5, @par6)) and (([WhatsAppMessages].[ProviderMessageId] is null)))',
        params: ['p1', NOW, NOW, NOW, 9, 'delivered', 'read'],
      },
    ]);
  });

  it("applyMessageStatusBatch reads the batch's messages with one IN list, folds two reports of one message into one guarded update", async () => {
    const { db, queries } = createRecordingMssql((q) => {
      if (q.sql.startsWith('select')) return { recordset: [[9, 'sent', 'p1', NOW, null, null, null]] };
      if (q.sql.startsWith('update')) return { rowsAffected: [1] };
      return undefined;
    });
    const later = new Date(NOW.getTime() + 5_000);

    const results = await applyMessageStatusBatch(db, [
      { providerMessageId: 'p1', status: 'read', at: later },
      { providerMessageId: 'p1', status: 'delivered', at: NOW },
      { providerMessageId: 'p1', status: 'sent', at: NOW },
    ]);

    expect(results).toEqual([
      { matched: true, changed: true, messageId: 9 },
      { matched: true, changed: true, messageId: 9 },
      { matched: true, changed: false, messageId: 9 },
    ]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'select [Id], [Status], [ProviderMessageId], [SentAt], [DeliveredAt], [ReadAt], [FailedAt] from [WhatsAppMessages] where [WhatsAppMessages].[ProviderMessageId] in (@par0)',
        params: ['p1'],
      },
      {
        sql:
          'update [WhatsAppMessages] set [Status] = @par0, [DeliveredAt] = @par1, [ReadAt] = @par2, [UpdatedAt] = @par3,' +
          // The sent time after the update: SentAt as it is, else the new DeliveredAt, else the new ReadAt.
          " [FirstReplyAt] = (select min([r].[CreatedAt]) from [WhatsAppMessages] [r] where [r].[Direction] = 'incoming' and [r].[LeadId] = [WhatsAppMessages].[LeadId] and [r].[CreatedAt] > coalesce([WhatsAppMessages].[SentAt], @par4, @par5))" +
          ' where (([WhatsAppMessages].[Id] = @par6) and ([WhatsAppMessages].[Status] = @par7) and (([WhatsAppMessages].[DeliveredAt] is null)) and (([WhatsAppMessages].[ReadAt] is null)))',
        params: ['read', NOW, later, NOW, NOW, later, 9, 'sent'],
      },
    ]);
  });

  it('applyMessageStatus falls back to CallbackData and updates only if the row is still as read (optimistic guard)', async () => {
    const { db, queries } = createRecordingMssql((q) => {
      // Only the columns the decision needs: Id, Status, ProviderMessageId, SentAt, DeliveredAt, ReadAt, FailedAt.
      if (q.sql.includes('[CallbackData] = @par0'))
        return { recordset: [[9, 'sending', null, null, null, null, null]] };
      if (q.sql.startsWith('update')) return { rowsAffected: [1] };
      return undefined;
    });

    const result = await applyMessageStatus(db, {
      providerMessageId: 'p1',
      callbackData: 'drip-7:0',
      status: 'delivered',
      at: NOW,
    });

    expect(result).toEqual({ matched: true, changed: true, messageId: 9 });
    const STATUS_COLUMNS = '[Id], [Status], [ProviderMessageId], [SentAt], [DeliveredAt], [ReadAt], [FailedAt]';
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select ${STATUS_COLUMNS} from [WhatsAppMessages] where [WhatsAppMessages].[ProviderMessageId] = @par0`,
        params: ['p1'],
      },
      {
        sql: `select ${STATUS_COLUMNS} from [WhatsAppMessages] where (([WhatsAppMessages].[CallbackData] = @par0) and ([WhatsAppMessages].[Direction] = @par1))`,
        params: ['drip-7:0', 'outgoing'],
      },
      {
        sql:
          'update [WhatsAppMessages] set [ProviderMessageId] = @par0, [Status] = @par1, [DeliveredAt] = @par2, [UpdatedAt] = @par3,' +
          " [FirstReplyAt] = (select min([r].[CreatedAt]) from [WhatsAppMessages] [r] where [r].[Direction] = 'incoming' and [r].[LeadId] = [WhatsAppMessages].[LeadId] and [r].[CreatedAt] > coalesce([WhatsAppMessages].[SentAt], @par4, [WhatsAppMessages].[ReadAt]))" +
          ' where (([WhatsAppMessages].[Id] = @par5) and ([WhatsAppMessages].[Status] = @par6)' +
          ' and (([WhatsAppMessages].[DeliveredAt] is null)) and (([WhatsAppMessages].[ProviderMessageId] is null)))',
        params: ['p1', 'delivered', NOW, NOW, NOW, 9, 'sending'],
      },
    ]);
  });
});

describe('T-SQL of the Message Master queries', () => {
  it('getTemplateByNameLanguage selects by both key columns and parses the Buttons JSON of the row', async () => {
    const row: Record<string, unknown> = {
      id: 4,
      name: 'drip_day_1',
      language: 'en',
      category: 'MARKETING',
      approvalStatus: 'Approved',
      headerType: 'none',
      headerText: null,
      body: 'Hi {{1}}',
      footer: null,
      buttons: '[{"type":"QUICK_REPLY","text":"Yes"}]',
      provider: 'interakt',
      providerTemplateId: '77',
      createdAt: NOW,
      updatedAt: NOW,
      archivedAt: null,
      headerMediaUrl: null,
      rejectionReason: null,
      source: 'interakt',
      lastSyncedAt: NOW,
      removedUpstreamAt: null,
    };
    const { db, queries } = createRecordingMssql(() => ({
      recordset: [Object.keys(getTableColumns(mssqlSchema.messageMaster)).map((key) => row[key])],
    }));

    const template = await getTemplateByNameLanguage(db, 'drip_day_1', 'en');

    expect(template).toMatchObject({
      id: 4,
      approvalStatus: 'Approved',
      buttons: [{ type: 'QUICK_REPLY', text: 'Yes' }],
    });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: `select ${TEMPLATE_COLUMNS} from [MessageMaster] where (([MessageMaster].[Name] = @par0) and ([MessageMaster].[Language] = @par1))`,
        params: ['drip_day_1', 'en'],
      },
    ]);
  });

  it('listTemplates counts, then pages by name and language with OFFSET/FETCH; search is a literal LIKE with an escape', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[12]] } : undefined,
    );

    const page = await listTemplates(db, {
      page: 2,
      pageSize: 5,
      approvalStatus: 'Approved',
      language: 'en',
      search: 'day_1',
    });

    expect(page).toEqual({ items: [], total: 12, page: 2, pageSize: 5 });
    const where =
      'where (([MessageMaster].[ApprovalStatus] = @par0) and ([MessageMaster].[Language] = @par1)' +
      ' and (([MessageMaster].[ArchivedAt] is null)) and (([MessageMaster].[RemovedUpstreamAt] is null))' +
      " and ((([MessageMaster].[Name] like @par2 escape '\\') or ([MessageMaster].[Body] like @par3 escape '\\'))))";
    const params = ['Approved', 'en', '%day\\_1%', '%day\\_1%'];
    expect(queries).toEqual<RecordedQuery[]>([
      { sql: `select count(*) from [MessageMaster] ${where}`, params },
      {
        sql: `select ${TEMPLATE_COLUMNS} from [MessageMaster] ${where} order by [MessageMaster].[Name] asc, [MessageMaster].[Language] asc offset @par4 rows fetch next @par5 rows only`,
        params: [...params, 5, 5],
      },
    ]);
  });
});
