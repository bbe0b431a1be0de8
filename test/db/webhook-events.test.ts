/**
 * The webhook event ledger and the message-log reads added with it: behaviour on SQLite, and the
 * exact T-SQL sent to SQL Server (recording fake pool, see fake-mssql.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  claimOutgoingMessage,
  findWebhookEvent,
  listMessages,
  listMessagesChangedSince,
  insertPendingWebhookEvents,
  listPendingWebhookEvents,
  listWebhookEvents,
  recordWebhookEvent,
  setWebhookEventOutcomes,
  type RecordWebhookEventParams,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';
import { createRecordingMssql, type RecordedQuery } from './fake-mssql';

const AT = new Date('2030-01-01T00:00:00.000Z');
const event = (overrides: Partial<RecordWebhookEventParams> = {}): RecordWebhookEventParams => ({
  provider: 'interakt',
  dedupeKey: 'message_api_read:m-1',
  eventType: 'message_api_read',
  providerMessageId: 'm-1',
  messageId: 7,
  outcome: 'applied',
  receivedAt: AT,
  payload: '{"type":"message_api_read"}',
  ...overrides,
});

describe('webhook events on SQLite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('records an event once: the same provider and dedupe key again is a duplicate and writes nothing', async () => {
    const first = await recordWebhookEvent(db, event());
    expect(first).toEqual({ duplicate: false, id: expect.any(Number) });
    expect(await recordWebhookEvent(db, event({ outcome: 'unchanged', payload: '{}' }))).toEqual({ duplicate: true });
    // Another provider may use the same key.
    expect((await recordWebhookEvent(db, event({ provider: 'meta' }))).duplicate).toBe(false);

    expect(await findWebhookEvent(db, { provider: 'interakt', dedupeKey: 'message_api_read:m-1' })).toMatchObject({
      id: first.id,
      outcome: 'applied',
      payload: '{"type":"message_api_read"}',
    });
    const page = await listWebhookEvents(db, { provider: 'interakt', providerMessageId: 'm-1', page: 1, pageSize: 10 });
    expect(page.total).toBe(1);
  });

  it('lists messages changed after a (UpdatedAt, Id) cursor in cursor order, up to `until`, for one lead', async () => {
    const claim = (key: string, leadId: number) =>
      claimOutgoingMessage(db, {
        idempotencyKey: key,
        leadId,
        phone: '+919812345678',
        provider: 'interakt',
        templateName: 'follow_up',
        templateLanguage: 'en',
        messageContent: {},
        referenceType: null,
        referenceId: null,
        workflowId: null,
        stepIndex: null,
        callbackData: null,
      });
    const a = await claim('c-a', 1);
    const b = await claim('c-b', 2);
    const c = await claim('c-c', 1);
    // Claimed one after another: (UpdatedAt, Id) grows with each.
    const all = await listMessagesChangedSince(db, { since: new Date(0), afterId: 0, limit: 10 });
    expect(all.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    expect((await listMessagesChangedSince(db, { since: new Date(0), afterId: 0, limit: 2 })).map((m) => m.id)).toEqual(
      [a.id, b.id],
    );
    expect(
      (await listMessagesChangedSince(db, { since: a.updatedAt, afterId: a.id, leadId: 1, limit: 10 })).map(
        (m) => m.id,
      ),
    ).toEqual([c.id]);
    expect(
      await listMessagesChangedSince(db, {
        since: new Date(0),
        afterId: 0,
        until: new Date(a.updatedAt.getTime() - 1),
        limit: 10,
      }),
    ).toEqual([]);

    const filtered = await listMessages(db, {
      templateName: 'follow_up',
      direction: 'outgoing',
      from: a.createdAt,
      to: new Date(c.createdAt.getTime() + 1),
      page: 1,
      pageSize: 10,
    });
    expect(filtered.total).toBe(3);
    expect((await listMessages(db, { direction: 'incoming', page: 1, pageSize: 10 })).total).toBe(0);
    expect((await listMessages(db, { to: a.createdAt, page: 1, pageSize: 10 })).total).toBe(0);
  });
});

describe('T-SQL of the webhook event and message-log queries', () => {
  it('recordWebhookEvent inserts with OUTPUT INSERTED.[Id]', async () => {
    const { db, queries } = createRecordingMssql(() => ({ recordset: [[41]] }));
    expect(await recordWebhookEvent(db, event())).toEqual({ duplicate: false, id: 41 });
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql: 'insert into [WebhookEvents] ([Provider], [DedupeKey], [EventType], [ProviderMessageId], [MessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent]) output INSERTED.[Id] values (@par0, @par1, @par2, @par3, @par4, @par5, @par6, @par7, default)',
        params: [
          'interakt',
          'message_api_read:m-1',
          'message_api_read',
          'm-1',
          7,
          'applied',
          AT,
          '{"type":"message_api_read"}',
        ],
      },
    ]);
  });

  it('recordWebhookEvent reports a duplicate when SQL Server refuses the key (2627 / 2601)', async () => {
    for (const number of [2627, 2601]) {
      const { db } = createRecordingMssql(() => {
        throw Object.assign(new Error("Violation of UNIQUE KEY constraint 'UX_WebhookEvents_Provider_DedupeKey'."), {
          number,
        });
      });
      expect(await recordWebhookEvent(db, event())).toEqual({ duplicate: true });
    }
  });

  it('insertPendingWebhookEvents inserts with OUTPUT … SELECT … FROM (VALUES …) WHERE NOT EXISTS under UPDLOCK, HOLDLOCK, then re-queues unknown duplicates', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('insert')
        ? { recordset: [{ id: 41, provider: 'interakt', dedupeKey: 'message_api_read:m-1' }] }
        : undefined,
    );
    const pending = (dedupeKey: string) => ({
      provider: 'interakt',
      dedupeKey,
      eventType: 'message_api_read',
      providerMessageId: 'm-1',
      receivedAt: AT,
      payload: '{}',
      statusEvent: '{"status":"read"}',
    });
    expect(
      await insertPendingWebhookEvents(db, [pending('message_api_read:m-1'), pending('message_api_read:m-2')]),
    ).toEqual([41, undefined]);
    expect(queries.map((q) => q.sql)).toEqual([
      'insert into [WebhookEvents] ([Provider], [DedupeKey], [EventType], [ProviderMessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent]) ' +
        'output INSERTED.[Id] as [id], INSERTED.[Provider] as [provider], INSERTED.[DedupeKey] as [dedupeKey] ' +
        'select v.[Provider], v.[DedupeKey], v.[EventType], v.[ProviderMessageId], v.[Outcome], v.[ReceivedAt], v.[Payload], v.[StatusEvent] ' +
        'from (values (@par0, @par1, @par2, @par3, @par4, @par5, @par6, @par7), (@par8, @par9, @par10, @par11, @par12, @par13, @par14, @par15)) ' +
        'as v ([Provider], [DedupeKey], [EventType], [ProviderMessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent]) ' +
        'where not exists (select 1 from [WebhookEvents] as w with (updlock, holdlock) where w.[Provider] = v.[Provider] and w.[DedupeKey] = v.[DedupeKey])',
      'update [WebhookEvents] set [Outcome] = @par0 where (([WebhookEvents].[Provider] = @par1) and ([WebhookEvents].[DedupeKey] in (@par2)) and ([WebhookEvents].[Outcome] = @par3) and (([WebhookEvents].[StatusEvent] is not null)))',
    ]);
    expect(queries[0]!.params.slice(0, 8)).toEqual([
      'interakt',
      'message_api_read:m-1',
      'message_api_read',
      'm-1',
      'pending',
      AT,
      '{}',
      '{"status":"read"}',
    ]);
    expect(queries[1]!.params).toEqual(['pending', 'interakt', 'message_api_read:m-2', 'unknown_message']);
  });

  it("listPendingWebhookEvents reads the oldest pending rows with a literal N'pending' (the filtered index) and OFFSET 0 … FETCH", async () => {
    const { db, queries } = createRecordingMssql();
    await listPendingWebhookEvents(db, 500);
    expect(queries.map((q) => q.sql)).toEqual([
      "select [Id], [Provider], [StatusEvent] from [WebhookEvents] where [WebhookEvents].[Outcome] = N'pending' order by [WebhookEvents].[Id] asc offset @par0 rows fetch next @par1 rows only",
    ]);
  });

  it('setWebhookEventOutcomes records every outcome in one CASE update, only on rows still pending', async () => {
    const { db, queries } = createRecordingMssql();
    await setWebhookEventOutcomes(db, [
      { id: 5, outcome: 'applied', messageId: 9 },
      { id: 6, outcome: 'unknown_message', messageId: null },
    ]);
    expect(queries).toEqual<RecordedQuery[]>([
      {
        sql:
          "update [WebhookEvents] set [MessageId] = case [WebhookEvents].[Id] when 5 then 9 else [WebhookEvents].[MessageId] end, [Outcome] = case [WebhookEvents].[Id] when 5 then 'applied' when 6 then 'unknown_message' end " +
          "where (([WebhookEvents].[Id] in (5, 6)) and ([WebhookEvents].[Outcome] = N'pending'))",
        params: [],
      },
    ]);
  });

  it('listWebhookEvents counts, then pages newest first with OFFSET … FETCH', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[3]] } : undefined,
    );
    expect(await listWebhookEvents(db, { providerMessageId: 'm-1', page: 2, pageSize: 10 })).toEqual({
      items: [],
      total: 3,
      page: 2,
      pageSize: 10,
    });
    expect(queries.map((q) => q.sql)).toEqual([
      'select count(*) from [WebhookEvents] where [WebhookEvents].[ProviderMessageId] = @par0',
      'select [Id], [Provider], [DedupeKey], [EventType], [ProviderMessageId], [MessageId], [Outcome], [ReceivedAt], [Payload], [StatusEvent] from [WebhookEvents] where [WebhookEvents].[ProviderMessageId] = @par0 order by [WebhookEvents].[Id] desc offset @par1 rows fetch next @par2 rows only',
    ]);
    expect(queries[1]!.params).toEqual(['m-1', 10, 10]);
  });

  it('listMessagesChangedSince reads by keyset cursor with OFFSET 0 … FETCH NEXT limit', async () => {
    const { db, queries } = createRecordingMssql();
    const since = new Date('2030-01-01T00:00:01.000Z');
    const until = new Date('2030-01-01T00:00:02.000Z');
    await listMessagesChangedSince(db, { since, afterId: 12, until, leadId: 5, limit: 500 });
    expect(queries).toHaveLength(1);
    const m = '[WhatsAppMessages]';
    expect(queries[0]!.sql.replace(/^select .* from /, 'select … from ')).toBe(
      `select … from ${m} where ((((${m}.[UpdatedAt] > @par0) or (((${m}.[UpdatedAt] = @par1) and (${m}.[Id] > @par2))))) and (${m}.[UpdatedAt] <= @par3) and (${m}.[LeadId] = @par4)) ` +
        `order by ${m}.[UpdatedAt] asc, ${m}.[Id] asc offset @par5 rows fetch next @par6 rows only`,
    );
    expect(queries[0]!.params).toEqual([since, since, 12, until, 5, 0, 500]);
  });

  it('listMessages filters by template, direction and a CreatedAt range', async () => {
    const { db, queries } = createRecordingMssql((q) =>
      q.sql.startsWith('select count') ? { recordset: [[0]] } : undefined,
    );
    const from = new Date('2030-01-01T00:00:00.000Z');
    const to = new Date('2030-01-02T00:00:00.000Z');
    await listMessages(db, { templateName: 'follow_up', direction: 'incoming', from, to, page: 1, pageSize: 20 });
    expect(queries[0]).toEqual<RecordedQuery>({
      sql: 'select count(*) from [WhatsAppMessages] where (([WhatsAppMessages].[TemplateName] = @par0) and ([WhatsAppMessages].[Direction] = @par1) and ([WhatsAppMessages].[CreatedAt] >= @par2) and ([WhatsAppMessages].[CreatedAt] < @par3))',
      params: ['follow_up', 'incoming', from, to],
    });
  });
});
