/**
 * Campaigns and their recipients. A campaign's recipients are written once when it starts (its
 * audience then); the workflow pages through the pending ones by Id and each send settles its
 * row. Reports are computed from the message log joined to the recipients, so a late webhook
 * changes them.
 */
import { and, asc, count, desc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { campaigns as campaignsTable, campaignRecipients as campaignRecipientsTable } from '../schema/sqlite';
import type { TemplateVariables } from '../../shared';
import { asMssql, withTransaction, type Db } from '../client';
import type { CampaignOutcome, CampaignRecipientStatus, CampaignStatus, FailureKind } from '../schema/values';
import {
  affectedRows,
  chunk,
  insertReturning,
  pageOffset,
  parseJson,
  selectPage,
  type Page,
  type PageParams,
} from './common';

type CampaignRow = typeof campaignsTable.$inferSelect;
type RecipientRow = typeof campaignRecipientsTable.$inferSelect;

/** Template variables as a drip step maps them (src/shared.ts TemplateVariables), kept as JSON. */
export type CampaignVariables = TemplateVariables;

export interface Campaign extends Omit<CampaignRow, 'variables' | 'leadIds'> {
  variables: CampaignVariables;
  leadIds: number[] | null;
}

export type CampaignRecipient = RecipientRow;

const toCampaign = (row: CampaignRow): Campaign => ({
  ...row,
  variables: parseJson<CampaignVariables>(row.variables, 'Campaigns.Variables'),
  leadIds: row.leadIds === null ? null : parseJson<number[]>(row.leadIds, 'Campaigns.LeadIds'),
});

export interface NewCampaign {
  name: string;
  templateName: string;
  templateLanguage: string;
  variables: CampaignVariables;
  segmentId?: number | null;
  leadIds?: number[] | null;
  scheduledAt?: Date | null;
  clonedFromId?: number | null;
  retargetOfId?: number | null;
  retargetOutcome?: CampaignOutcome | null;
}

export async function createCampaign(db: Db, params: NewCampaign): Promise<Campaign> {
  const now = new Date();
  return toCampaign(
    await insertReturning(db, 'campaigns', {
      name: params.name,
      status: 'draft',
      templateName: params.templateName,
      templateLanguage: params.templateLanguage,
      variables: JSON.stringify(params.variables),
      segmentId: params.segmentId ?? null,
      leadIds: params.leadIds ? JSON.stringify(params.leadIds) : null,
      scheduledAt: params.scheduledAt ?? null,
      clonedFromId: params.clonedFromId ?? null,
      retargetOfId: params.retargetOfId ?? null,
      retargetOutcome: params.retargetOutcome ?? null,
      createdAt: now,
      updatedAt: now,
    }),
  );
}

export async function getCampaign(db: Db, id: number): Promise<Campaign | undefined> {
  const t = db.schema.campaigns;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toCampaign(row);
}

export async function listCampaigns(db: Db, params: PageParams & { status?: CampaignStatus }): Promise<Page<Campaign>> {
  const page = await selectPage(db, 'campaigns', params, {
    where: params.status ? eq(db.schema.campaigns.status, params.status) : undefined,
    orderBy: (t) => [desc(t.id)],
  });
  return { ...page, items: page.items.map(toCampaign) };
}

export type CampaignPatch = Partial<{
  name: string;
  status: CampaignStatus;
  templateName: string;
  templateLanguage: string;
  variables: CampaignVariables;
  segmentId: number | null;
  leadIds: number[] | null;
  scheduledAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  workflowId: string | null;
  stopReason: string | null;
  lastError: string | null;
  retryCount: number;
}>;

/**
 * Applies `patch` when the campaign is in one of `from` (any status when omitted); returns whether
 * it did. The conditional update is what keeps two requests from both starting a campaign.
 */
export async function updateCampaign(
  db: Db,
  id: number,
  patch: CampaignPatch,
  from?: readonly CampaignStatus[],
): Promise<boolean> {
  const t = db.schema.campaigns;
  const { variables, leadIds, ...rest } = patch;
  const set: Partial<typeof t.$inferInsert> = { ...rest, updatedAt: new Date() };
  if (variables !== undefined) set.variables = JSON.stringify(variables);
  if (leadIds !== undefined) set.leadIds = leadIds === null ? null : JSON.stringify(leadIds);
  const where = from ? and(eq(t.id, id), inArray(t.status, [...from])) : eq(t.id, id);
  return affectedRows(await db.orm.update(t).set(set).where(where)) > 0;
}

// ---------------------------------------------------------------------------------------------
// Recipients.

/**
 * Writes the campaign's recipients once: if it has any already (a retried activity), nothing is
 * written. One transaction, so a crash leaves all or none. `leadIds` must be distinct.
 */
export async function addCampaignRecipients(db: Db, campaignId: number, leadIds: readonly number[]): Promise<number> {
  return withTransaction(db, async (tx) => {
    const r = tx.schema.campaignRecipients;
    const [existing] = await tx.orm.select({ n: count() }).from(r).where(eq(r.campaignId, campaignId));
    if ((existing?.n ?? 0) > 0) return existing!.n;
    const now = new Date();
    // Five parameters a row: SQL Server's 2,100-parameter limit allows 400 rows a statement.
    for (const part of chunk(leadIds, 400)) {
      await tx.orm
        .insert(r)
        .values(part.map((leadId) => ({ campaignId, leadId, status: 'pending' as const, createdAt: now })));
    }
    return leadIds.length;
  });
}

export interface RecipientCounts {
  total: number;
  pending: number;
  sent: number;
  failed: number;
  skipped: number;
}

export async function countCampaignRecipients(db: Db, campaignId: number): Promise<RecipientCounts> {
  const r = db.schema.campaignRecipients;
  const rows = await db.orm
    .select({ status: r.status, n: count() })
    .from(r)
    .where(eq(r.campaignId, campaignId))
    .groupBy(r.status);
  const counts: RecipientCounts = { total: 0, pending: 0, sent: 0, failed: 0, skipped: 0 };
  for (const row of rows) {
    counts[row.status] = row.n;
    counts.total += row.n;
  }
  return counts;
}

/** The next pending recipients after `afterId`, in Id order: the workflow's cursor page. */
export async function listPendingRecipients(
  db: Db,
  params: { campaignId: number; afterId: number; limit: number },
): Promise<{ id: number; leadId: number }[]> {
  const where = (t: Db['schema']['campaignRecipients']) =>
    and(eq(t.campaignId, params.campaignId), eq(t.status, 'pending'), gt(t.id, params.afterId));
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const m = schema.campaignRecipients;
    return orm
      .select({ id: m.id, leadId: m.leadId })
      .from(m)
      .where(where(m as unknown as Db['schema']['campaignRecipients']))
      .orderBy(asc(m.id))
      .offset(0)
      .fetch(params.limit);
  }
  const r = db.schema.campaignRecipients;
  return db.orm.select({ id: r.id, leadId: r.leadId }).from(r).where(where(r)).orderBy(asc(r.id)).limit(params.limit);
}

export interface SettleRecipientParams {
  id: number;
  status: Exclude<CampaignRecipientStatus, 'pending'>;
  reason?: string | null;
  errorCode?: string | null;
  failureKind?: FailureKind | null;
  messageId?: number | null;
  at: Date;
}

/** Settles a pending recipient; a settled one stays as it is (a retried activity changes nothing). */
export async function settleRecipient(db: Db, params: SettleRecipientParams): Promise<boolean> {
  const r = db.schema.campaignRecipients;
  const result = await db.orm
    .update(r)
    .set({
      status: params.status,
      reason: params.reason ?? null,
      errorCode: params.errorCode ?? null,
      failureKind: params.failureKind ?? null,
      messageId: params.messageId ?? null,
      processedAt: params.at,
    })
    .where(and(eq(r.id, params.id), eq(r.status, 'pending')));
  return affectedRows(result) > 0;
}

export async function getRecipient(db: Db, id: number): Promise<CampaignRecipient | undefined> {
  const r = db.schema.campaignRecipients;
  const [row] = await db.orm.select().from(r).where(eq(r.id, id));
  return row;
}

/**
 * Puts the recipients whose send failed for a reason that may pass (the provider was down, a key
 * was refused) back to pending, for a retry under the same keys; permanent refusals stay failed.
 */
export async function requeueTransientFailures(db: Db, campaignId: number): Promise<number> {
  const r = db.schema.campaignRecipients;
  const result = await db.orm
    .update(r)
    .set({ status: 'pending', reason: null, errorCode: null, failureKind: null, processedAt: null })
    .where(and(eq(r.campaignId, campaignId), eq(r.status, 'failed'), eq(r.failureKind, 'transient')));
  return affectedRows(result);
}

// ---------------------------------------------------------------------------------------------
// Outcomes and the report, from the message log.

/**
 * Conditions on one recipient joined to its message (`WhatsAppMessages` by MessageId): each
 * outcome the report counts and the recipient list filters by. `replied` is an incoming message
 * from the lead within `replyWindowMs` of the send.
 */
export function outcomeConditions(db: Db, replyWindowMs: number) {
  const r = db.schema.campaignRecipients;
  const m = db.schema.whatsAppMessages;
  const windowEnd =
    db.dialect === 'mssql'
      ? sql`dateadd(second, ${Math.floor(replyWindowMs / 1000)}, ${m.sentAt})`
      : sql`(${m.sentAt} + ${replyWindowMs})`;
  const sent = sql`(${r.status} = 'sent' and (${m.status} is null or ${m.status} <> 'failed'))`;
  const delivered = sql`(${sent} and (${m.deliveredAt} is not null or ${m.readAt} is not null or ${m.status} in ('delivered', 'read')))`;
  const read = sql`(${sent} and (${m.readAt} is not null or ${m.status} = 'read'))`;
  const replied = sql`(${sent} and ${m.sentAt} is not null and exists (select 1 from WhatsAppMessages i where i.LeadId = ${r.leadId} and i.Direction = 'incoming' and i.CreatedAt >= ${m.sentAt} and i.CreatedAt < ${windowEnd}))`;
  const failed = sql`(${r.status} = 'failed' or (${r.status} = 'sent' and ${m.status} = 'failed'))`;
  const outcomes: Record<CampaignOutcome | 'sent' | 'delivered' | 'read' | 'replied' | 'skipped' | 'pending', SQL> = {
    sent,
    delivered,
    read,
    replied,
    failed,
    skipped: sql`(${r.status} = 'skipped')`,
    pending: sql`(${r.status} = 'pending')`,
    not_delivered: sql`(${sent} and not ${delivered})`,
    delivered_not_read: sql`(${delivered} and not ${read})`,
    read_not_replied: sql`(${read} and not ${replied})`,
  };
  return outcomes;
}

export type RecipientOutcomeFilter = keyof ReturnType<typeof outcomeConditions>;

export interface CampaignReportCounts {
  total: number;
  pending: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  skipped: number;
  failedBy: { errorCode: string | null; reason: string | null; count: number }[];
  skippedBy: { reason: string | null; count: number }[];
}

export async function campaignReportCounts(
  db: Db,
  campaignId: number,
  replyWindowMs: number,
): Promise<CampaignReportCounts> {
  const r = db.schema.campaignRecipients;
  const m = db.schema.whatsAppMessages;
  const o = outcomeConditions(db, replyWindowMs);
  const sum = (condition: SQL) => sql<number>`coalesce(sum(case when ${condition} then 1 else 0 end), 0)`;
  const [totals] = await db.orm
    .select({
      total: count(),
      pending: sum(o.pending),
      sent: sum(o.sent),
      delivered: sum(o.delivered),
      read: sum(o.read),
      replied: sum(o.replied),
      failed: sum(o.failed),
      skipped: sum(o.skipped),
    })
    .from(r)
    .leftJoin(m, eq(m.id, r.messageId))
    .where(eq(r.campaignId, campaignId));
  const errorCode = sql<string | null>`coalesce(${m.errorCode}, ${r.errorCode})`;
  const reason = sql<string | null>`coalesce(${m.errorMessage}, ${r.reason})`;
  const failedBy = await db.orm
    .select({ errorCode, reason, count: count() })
    .from(r)
    .leftJoin(m, eq(m.id, r.messageId))
    .where(and(eq(r.campaignId, campaignId), o.failed))
    .groupBy(errorCode, reason)
    .orderBy(desc(count()));
  const skippedBy = await db.orm
    .select({ reason: r.reason, count: count() })
    .from(r)
    .where(and(eq(r.campaignId, campaignId), eq(r.status, 'skipped')))
    .groupBy(r.reason)
    .orderBy(desc(count()));
  const n = (value: unknown) => Number(value ?? 0);
  return {
    total: n(totals?.total),
    pending: n(totals?.pending),
    sent: n(totals?.sent),
    delivered: n(totals?.delivered),
    read: n(totals?.read),
    replied: n(totals?.replied),
    failed: n(totals?.failed),
    skipped: n(totals?.skipped),
    failedBy: failedBy.map((row) => ({ errorCode: row.errorCode, reason: row.reason, count: n(row.count) })),
    skippedBy: skippedBy.map((row) => ({ reason: row.reason, count: n(row.count) })),
  };
}

export interface RecipientWithMessage {
  id: number;
  leadId: number;
  status: CampaignRecipientStatus;
  reason: string | null;
  errorCode: string | null;
  failureKind: FailureKind | null;
  processedAt: Date | null;
  messageId: number | null;
  messageStatus: string | null;
  sentAt: Date | null;
  deliveredAt: Date | null;
  readAt: Date | null;
  messageErrorCode: string | null;
  messageErrorMessage: string | null;
  replied: boolean;
}

/** One page of a campaign's recipients, optionally those with one outcome, in Id order. */
export async function listCampaignRecipients(
  db: Db,
  params: PageParams & { campaignId: number; outcome?: RecipientOutcomeFilter; replyWindowMs: number },
): Promise<Page<RecipientWithMessage>> {
  const r = db.schema.campaignRecipients;
  const m = db.schema.whatsAppMessages;
  const o = outcomeConditions(db, params.replyWindowMs);
  const where = and(eq(r.campaignId, params.campaignId), params.outcome ? o[params.outcome] : undefined);
  const [total] = await db.orm.select({ n: count() }).from(r).leftJoin(m, eq(m.id, r.messageId)).where(where);
  const offset = pageOffset(params);
  const query = db.orm
    .select({
      id: r.id,
      leadId: r.leadId,
      status: r.status,
      reason: r.reason,
      errorCode: r.errorCode,
      failureKind: r.failureKind,
      processedAt: r.processedAt,
      messageId: r.messageId,
      // Aliased: both tables have Status and ErrorCode, and a driver keys a row's values by name.
      messageStatus: sql<string | null>`${m.status}`.as('MessageStatus'),
      sentAt: m.sentAt,
      deliveredAt: m.deliveredAt,
      readAt: m.readAt,
      messageErrorCode: sql<string | null>`${m.errorCode}`.as('MessageErrorCode'),
      messageErrorMessage: m.errorMessage,
      replied: sql<number>`case when ${o.replied} then 1 else 0 end`,
    })
    .from(r)
    .leftJoin(m, eq(m.id, r.messageId))
    .where(where)
    .orderBy(asc(r.id));
  // The same builder calls render either dialect's SQL; only paging differs (see selectPage).
  const rows =
    db.dialect === 'mssql'
      ? await (query as unknown as { offset(n: number): { fetch(n: number): Promise<unknown[]> } })
          .offset(offset)
          .fetch(params.pageSize)
      : await query.limit(params.pageSize).offset(offset);
  const items = (rows as (Omit<RecipientWithMessage, 'replied'> & { replied: unknown })[]).map((row) => ({
    ...row,
    replied: Number(row.replied) === 1,
  }));
  return { items, total: total?.n ?? 0, page: params.page, pageSize: params.pageSize };
}

/** Every lead id of a campaign's recipients with `outcome` (a retarget's audience), in Id order. */
export async function listRecipientLeadIds(
  db: Db,
  params: { campaignId: number; outcome: RecipientOutcomeFilter; replyWindowMs: number },
): Promise<number[]> {
  const r = db.schema.campaignRecipients;
  const m = db.schema.whatsAppMessages;
  const o = outcomeConditions(db, params.replyWindowMs);
  const rows = await db.orm
    .select({ leadId: r.leadId })
    .from(r)
    .leftJoin(m, eq(m.id, r.messageId))
    .where(and(eq(r.campaignId, params.campaignId), o[params.outcome]))
    .orderBy(asc(r.id));
  return rows.map((row) => row.leadId);
}
