/**
 * Infobip sync runs and the leads they touch. A run is one InfobipSyncRuns row; each page it
 * applies is one InfobipSyncPages row written in the same transaction as that page's lead
 * changes, so "this page is done" and "its leads are changed" are never apart. A run's totals are
 * the sum of its pages: a page done again replaces its row and is never counted twice.
 */
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { maskPhone } from '../../logging/redact';
import type {
  InfobipPageSource,
  InfobipStatusRule,
  InfobipSyncCounts,
  InfobipSyncMode,
  InfobipSyncTrigger,
} from '../schema/values';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { clients, infobipSyncPages, infobipSyncRuns } from '../schema/sqlite';
import type { SyncRunStatus } from '../schema/values';
import {
  affectedRows,
  chunk,
  MAX_IDS_PER_STATEMENT,
  MAX_PARAMS_PER_STATEMENT,
  parseJson,
  type Page,
  type PageParams,
  selectPage,
  insertReturning,
} from './common';

type RunRow = typeof infobipSyncRuns.$inferSelect;
type PageRow = typeof infobipSyncPages.$inferSelect;
type LeadInsert = typeof clients.$inferInsert;

/** One record of a page that could not be used: which record, and why (phones masked). */
export interface InfobipSyncRecordError {
  record: string;
  message: string;
}

/** What a dry run would have done to one lead. */
export interface InfobipLeadChange {
  action: 'create' | 'update';
  leadId: number | null;
  /** Masked (see maskPhone): only the last four digits. */
  phone: string;
  changes: Record<string, string | null>;
}

export interface InfobipSyncRun extends Omit<RunRow, 'options' | 'trigger'> {
  trigger: InfobipSyncTrigger;
  /** The options as resolved at the start: window, channels, source, mode, rule, warnings. */
  options: Record<string, unknown>;
}

export interface InfobipSyncRunDetail extends InfobipSyncRun {
  /** Per-record errors of every page, in page order, at most MAX_LISTED_SYNC_ERRORS. */
  errors: InfobipSyncRecordError[];
  /** A dry run's would-be changes, at most MAX_LISTED_PREVIEW; null for a real run. */
  preview: InfobipLeadChange[] | null;
  pages: number;
}

export const MAX_LISTED_SYNC_ERRORS = 500;
export const MAX_LISTED_PREVIEW = 1_000;

const COUNT_KEYS = ['fetched', 'matched', 'created', 'updated', 'skipped', 'invalid'] as const;
type PageCounts = Omit<InfobipSyncCounts, 'errorCount'>;

export const emptyInfobipSyncCounts = (): InfobipSyncCounts => ({
  fetched: 0,
  matched: 0,
  created: 0,
  updated: 0,
  skipped: 0,
  invalid: 0,
  errorCount: 0,
});

function toRun(row: RunRow): InfobipSyncRun {
  return {
    ...row,
    trigger: row.trigger as InfobipSyncTrigger,
    options: parseJson<Record<string, unknown>>(row.options, 'InfobipSyncRuns.Options'),
  };
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface CreateInfobipSyncRunParams {
  runKey: string;
  workflowId: string;
  trigger: InfobipSyncTrigger;
  scheduleId?: string | null;
  options: Record<string, unknown>;
  dryRun: boolean;
  windowFrom: Date;
  windowTo: Date;
  startedAt: Date;
}

/**
 * A new run in status 'running', or the run already recorded under `runKey` (a retried start,
 * or the API having created it before the workflow started): the run key is unique.
 */
export async function createInfobipSyncRun(
  db: Db,
  params: CreateInfobipSyncRunParams,
): Promise<{ run: InfobipSyncRun; created: boolean }> {
  const existing = await getInfobipSyncRunByKey(db, params.runKey);
  if (existing) return { run: existing, created: false };
  const values = {
    ...params,
    scheduleId: params.scheduleId ?? null,
    options: JSON.stringify(params.options),
    status: 'running' as const,
  };
  try {
    return { run: toRun(await insertReturning(db, 'infobipSyncRuns', values)), created: true };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await getInfobipSyncRunByKey(db, params.runKey);
    if (!winner) throw error;
    return { run: winner, created: false };
  }
}

export async function getInfobipSyncRunByKey(db: Db, runKey: string): Promise<InfobipSyncRun | undefined> {
  const t = db.schema.infobipSyncRuns;
  const [row] = await db.orm.select().from(t).where(eq(t.runKey, runKey));
  return row && toRun(row);
}

/** One run with its errors and (dry run) preview gathered from its pages. */
export async function getInfobipSyncRun(db: Db, id: number): Promise<InfobipSyncRunDetail | undefined> {
  const t = db.schema.infobipSyncRuns;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  if (!row) return undefined;
  const p = db.schema.infobipSyncPages;
  const pages = await db.orm
    .select({ errors: p.errors, preview: p.preview })
    .from(p)
    .where(eq(p.runId, id))
    .orderBy(p.source, p.pageNo);
  const errors: InfobipSyncRecordError[] = [];
  const preview: InfobipLeadChange[] = [];
  for (const page of pages) {
    if (errors.length < MAX_LISTED_SYNC_ERRORS)
      errors.push(...parseJson<InfobipSyncRecordError[]>(page.errors, 'InfobipSyncPages.Errors'));
    if (page.preview && preview.length < MAX_LISTED_PREVIEW)
      preview.push(...parseJson<InfobipLeadChange[]>(page.preview, 'InfobipSyncPages.Preview'));
  }
  return {
    ...toRun(row),
    errors: errors.slice(0, MAX_LISTED_SYNC_ERRORS),
    preview: row.dryRun ? preview.slice(0, MAX_LISTED_PREVIEW) : null,
    pages: pages.length,
  };
}

export interface ListInfobipSyncRunsParams extends PageParams {
  status?: SyncRunStatus;
}

/** Newest first, with the totals as of their pages so far. */
export async function listInfobipSyncRuns(db: Db, params: ListInfobipSyncRunsParams): Promise<Page<InfobipSyncRun>> {
  const t = db.schema.infobipSyncRuns;
  const where = params.status === undefined ? undefined : eq(t.status, params.status);
  const page = await selectPage(db, 'infobipSyncRuns', params, { where, orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toRun) };
}

/**
 * The window end of the latest completed run that was not a dry run (a dry run changed nothing,
 * so its window still has to be synced), or null. With `trigger`, only runs started that way: a
 * scheduled run starts from the last scheduled one, because a manual run may have read one
 * channel, one source or updates only, and must not move the schedule past contacts it left out.
 */
export async function getLastInfobipSyncSuccess(
  db: Db,
  params: { trigger?: InfobipSyncTrigger } = {},
): Promise<Date | null> {
  const t = db.schema.infobipSyncRuns;
  const [row] = await db.orm
    .select({ at: sql<unknown>`max(${t.windowTo})` })
    .from(t)
    .where(
      and(
        eq(t.status, 'completed'),
        eq(t.dryRun, false),
        params.trigger === undefined ? undefined : eq(t.trigger, params.trigger),
      ),
    );
  if (row?.at === null || row?.at === undefined) return null;
  // An aggregate bypasses the column's mapping: SQLite answers epoch ms, SQL Server a Date.
  return row.at instanceof Date ? row.at : new Date(Number(row.at));
}

/** The sum of a run's pages. ErrorCount counts the entries of each page's Errors JSON array. */
export async function sumInfobipSyncPages(db: Db, runId: number): Promise<InfobipSyncCounts> {
  const p = db.schema.infobipSyncPages;
  const total = (column: (typeof p)[keyof PageCounts]) => sql<unknown>`coalesce(sum(${column}), 0)`;
  const [row] = await db.orm
    .select({
      fetched: total(p.fetched),
      matched: total(p.matched),
      created: total(p.created),
      updated: total(p.updated),
      skipped: total(p.skipped),
      invalid: total(p.invalid),
    })
    .from(p)
    .where(eq(p.runId, runId));
  const counts = emptyInfobipSyncCounts();
  for (const key of COUNT_KEYS) counts[key] = Number(row?.[key] ?? 0);
  counts.errorCount = await countInfobipSyncErrors(db, runId);
  return counts;
}

/** SQL Server cannot sum over a subquery, so it counts the JSON entries through CROSS APPLY instead. */
async function countInfobipSyncErrors(db: Db, runId: number): Promise<number> {
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const r = schema.infobipSyncPages;
    const [row] = await orm.execute<[number]>(
      sql`select count(*) from ${r} cross apply openjson(${r.errors}) where ${eq(r.runId, runId)}`,
      'arrays',
    );
    return Number(row?.[0] ?? 0);
  }
  const p = db.schema.infobipSyncPages;
  const [row] = await db.orm
    .select({ n: sql<unknown>`coalesce(sum(json_array_length(${p.errors})), 0)` })
    .from(p)
    .where(eq(p.runId, runId));
  return Number(row?.n ?? 0);
}

/**
 * Writes the sum of a run's pages into its row, so lists show a running run's progress. Only a
 * running run moves: a finished run's totals are final. Returns the totals.
 */
export async function refreshInfobipSyncRunTotals(db: Db, runId: number): Promise<InfobipSyncCounts> {
  const counts = await sumInfobipSyncPages(db, runId);
  const t = db.schema.infobipSyncRuns;
  await db.orm
    .update(t)
    .set(counts)
    .where(and(eq(t.id, runId), eq(t.status, 'running')));
  return counts;
}

export interface FinishInfobipSyncRunParams {
  status: Exclude<SyncRunStatus, 'running'>;
  /** Why a failed run failed. */
  failure?: string | null;
  finishedAt: Date;
}

/**
 * Closes a running run with the sum of its pages. A run already closed stays as it was, so a late
 * failure report never overwrites a completed run. Returns whether this call closed it.
 */
export async function finishInfobipSyncRun(
  db: Db,
  runId: number,
  params: FinishInfobipSyncRunParams,
): Promise<boolean> {
  const counts = await sumInfobipSyncPages(db, runId);
  const t = db.schema.infobipSyncRuns;
  const result = await db.orm
    .update(t)
    .set({
      ...counts,
      status: params.status,
      failure: params.failure?.slice(0, 2000) ?? null,
      finishedAt: params.finishedAt,
    })
    .where(and(eq(t.id, runId), eq(t.status, 'running')));
  return affectedRows(result) > 0;
}

// ---------------------------------------------------------------------------------------------
// Pages

export interface InfobipSyncPageKey {
  runId: number;
  source: InfobipPageSource;
  /** 1-based. */
  pageNo: number;
}

export interface InfobipSyncPage extends InfobipSyncPageKey, PageCounts {
  errors: InfobipSyncRecordError[];
  preview: InfobipLeadChange[] | null;
  completedAt: Date;
}

/** The recorded page, if it was applied already. */
export async function getInfobipSyncPage(db: Db, key: InfobipSyncPageKey): Promise<InfobipSyncPage | undefined> {
  const p = db.schema.infobipSyncPages;
  const [row] = await db.orm
    .select()
    .from(p)
    .where(and(eq(p.runId, key.runId), eq(p.source, key.source), eq(p.pageNo, key.pageNo)));
  return row && toPage(row);
}

function toPage(row: PageRow): InfobipSyncPage {
  return {
    ...row,
    source: row.source as InfobipPageSource,
    errors: parseJson<InfobipSyncRecordError[]>(row.errors, 'InfobipSyncPages.Errors'),
    preview: row.preview === null ? null : parseJson<InfobipLeadChange[]>(row.preview, 'InfobipSyncPages.Preview'),
  };
}

/**
 * Records a page, replacing any row of the same run, source and page number: a page redone
 * counts once. Delete-then-insert reads the same in both dialects; call it inside the page's
 * transaction so nobody sees the gap.
 */
export async function upsertInfobipSyncPage(db: Db, page: InfobipSyncPage): Promise<void> {
  const p = db.schema.infobipSyncPages;
  await db.orm.delete(p).where(and(eq(p.runId, page.runId), eq(p.source, page.source), eq(p.pageNo, page.pageNo)));
  await db.orm.insert(p).values({
    runId: page.runId,
    source: page.source,
    pageNo: page.pageNo,
    fetched: page.fetched,
    matched: page.matched,
    created: page.created,
    updated: page.updated,
    skipped: page.skipped,
    invalid: page.invalid,
    errors: JSON.stringify(page.errors),
    preview: page.preview === null ? null : JSON.stringify(page.preview),
    completedAt: page.completedAt,
  });
}

// ---------------------------------------------------------------------------------------------
// Leads

/** One person (or one logged message) as a sync sees it, phone already E.164. */
export interface InfobipContact {
  phone: string;
  contactedAt: Date | null;
  channel: string | null;
  profileId: string | null;
  firstName: string | null;
  lastName: string | null;
}

export interface ApplyInfobipContactsParams {
  contacts: readonly InfobipContact[];
  mode: InfobipSyncMode;
  dryRun: boolean;
  statusRule?: InfobipStatusRule | undefined;
  now: Date;
}

export interface InfobipContactsOutcome {
  /** Leads found by phone (one per distinct phone). */
  matched: number;
  created: number;
  /** Matched leads at least one synced field of which changed. */
  updated: number;
  /** Contacts that changed no lead: nothing newer, not created in update-only mode, or a repeat of a phone earlier in the batch. */
  skipped: number;
  /** Dry runs only: what would change. */
  preview: InfobipLeadChange[];
}

/** The lead columns a sync reads to decide. */
type MatchRow = Pick<typeof clients.$inferSelect, 'id' | 'phone' | 'status' | 'lastContactedAt' | 'infobipProfileId'>;

interface LeadUpdate {
  id: number;
  phone: string;
  lastContactedAt?: Date;
  lastChannel?: string;
  infobipProfileId?: string;
  status?: string;
}

/** Rows per set-based UPDATE: each row takes up to 9 parameters, SQL Server allows 2,100 per statement. */
const UPDATE_ROWS_PER_STATEMENT = 150;
/** Clients has 20 columns and drizzle binds every one of them per inserted row. */
const INSERT_ROWS_PER_STATEMENT = Math.floor(MAX_PARAMS_PER_STATEMENT / 20);

/**
 * Matches one page of contacts to leads by phone (one read for the whole batch) and applies the
 * sync's rules: last contact only ever moves forward and takes its channel with it; the Infobip
 * profile id and the status rule apply to every matched lead; LastSyncedAt marks every matched
 * lead; in `create_update` mode the rest become leads with Source 'infobip'. A dry run decides the
 * same and writes nothing. Call it inside the page's transaction: on SQLite that transaction holds
 * the write lock, so no lead changes between the read and the writes; on SQL Server the last
 * contact is guarded in the UPDATE itself, and a lead inserted concurrently makes the insert fail
 * on the unique phone, so the page is retried and then finds it.
 */
export async function applyInfobipContacts(
  db: Db,
  params: ApplyInfobipContactsParams,
): Promise<InfobipContactsOutcome> {
  const outcome: InfobipContactsOutcome = { matched: 0, created: 0, updated: 0, skipped: 0, preview: [] };
  const byPhone = new Map<string, InfobipContact>();
  for (const contact of params.contacts) {
    const seen = byPhone.get(contact.phone);
    if (!seen) {
      byPhone.set(contact.phone, contact);
      continue;
    }
    outcome.skipped += 1;
    byPhone.set(contact.phone, mergeContacts(seen, contact));
  }

  const leads = await findLeadsForSync(db, [...byPhone.keys()]);
  const updates: LeadUpdate[] = [];
  const inserts: LeadInsert[] = [];
  const rule = params.statusRule;
  const ruleAllows = (status: string) =>
    rule !== undefined && status !== rule.setStatus && (!rule.onlyIfStatusIn || rule.onlyIfStatusIn.includes(status));

  for (const contact of byPhone.values()) {
    const lead = leads.get(contact.phone);
    if (!lead) {
      if (params.mode === 'update_only') {
        outcome.skipped += 1;
        continue;
      }
      outcome.created += 1;
      const status = ruleAllows('New') ? rule!.setStatus : 'New';
      inserts.push(newLeadValues(contact, status, params.now));
      if (params.dryRun) {
        outcome.preview.push({
          action: 'create',
          leadId: null,
          phone: maskPhone(contact.phone),
          changes: {
            name: leadName(contact),
            status,
            lastContactedAt: contact.contactedAt?.toISOString() ?? null,
            lastChannel: contact.channel,
            infobipProfileId: contact.profileId,
          },
        });
      }
      continue;
    }

    outcome.matched += 1;
    const update: LeadUpdate = { id: lead.id, phone: lead.phone };
    if (contact.contactedAt && (lead.lastContactedAt === null || contact.contactedAt > lead.lastContactedAt)) {
      update.lastContactedAt = contact.contactedAt;
      if (contact.channel) update.lastChannel = contact.channel;
    }
    if (contact.profileId && contact.profileId !== lead.infobipProfileId) update.infobipProfileId = contact.profileId;
    if (ruleAllows(lead.status)) update.status = rule!.setStatus;
    updates.push(update);
    const changed = Object.keys(update).length > 2;
    if (!changed) {
      outcome.skipped += 1;
      continue;
    }
    outcome.updated += 1;
    if (params.dryRun)
      outcome.preview.push({
        action: 'update',
        leadId: lead.id,
        phone: maskPhone(lead.phone),
        changes: describeUpdate(update),
      });
  }

  if (params.dryRun) return outcome;
  await updateLeadsForSync(db, updates, params.now);
  for (const part of chunk(inserts, INSERT_ROWS_PER_STATEMENT)) await db.orm.insert(db.schema.clients).values(part);
  return outcome;
}

/** Two records of one phone in a page: the later contact wins; ids and names fill gaps. */
function mergeContacts(a: InfobipContact, b: InfobipContact): InfobipContact {
  const later = (b.contactedAt?.getTime() ?? -Infinity) > (a.contactedAt?.getTime() ?? -Infinity) ? b : a;
  const other = later === a ? b : a;
  return {
    phone: a.phone,
    contactedAt: later.contactedAt ?? other.contactedAt,
    channel: later.channel ?? other.channel,
    profileId: later.profileId ?? other.profileId,
    firstName: later.firstName ?? other.firstName,
    lastName: later.lastName ?? other.lastName,
  };
}

/** A nameless contact is named by its last four digits, as IVR callers are: the name shows in previews, analytics and task titles, where a full phone must not. */
const leadName = (contact: InfobipContact): string =>
  [contact.firstName, contact.lastName]
    .filter((part): part is string => Boolean(part?.trim()))
    .join(' ')
    .trim() || `Infobip contact ${contact.phone.slice(-4)}`;

function newLeadValues(contact: InfobipContact, status: string, now: Date): LeadInsert {
  return {
    name: leadName(contact),
    firstName: contact.firstName,
    lastName: contact.lastName,
    phone: contact.phone,
    status,
    source: 'infobip',
    lastContactedAt: contact.contactedAt,
    lastChannel: contact.channel,
    infobipProfileId: contact.profileId,
    lastSyncedAt: now,
    customFields: '{}',
    createdAt: now,
    updatedAt: now,
  };
}

function describeUpdate(update: LeadUpdate): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  if (update.lastContactedAt) changes.lastContactedAt = update.lastContactedAt.toISOString();
  if (update.lastChannel) changes.lastChannel = update.lastChannel;
  if (update.infobipProfileId) changes.infobipProfileId = update.infobipProfileId;
  if (update.status) changes.status = update.status;
  return changes;
}

async function findLeadsForSync(db: Db, phones: readonly string[]): Promise<Map<string, MatchRow>> {
  const c = db.schema.clients;
  const found = new Map<string, MatchRow>();
  for (const part of chunk(phones, MAX_IDS_PER_STATEMENT)) {
    const rows = await db.orm
      .select({
        id: c.id,
        phone: c.phone,
        status: c.status,
        lastContactedAt: c.lastContactedAt,
        infobipProfileId: c.infobipProfileId,
      })
      .from(c)
      .where(inArray(c.phone, part));
    for (const row of rows) found.set(row.phone, row);
  }
  return found;
}

/**
 * One UPDATE per batch of leads: each synced column is a CASE over the lead ids, the others are
 * left as they are. LastContactedAt is guarded in SQL as well ("only if newer"), so a contact
 * recorded meanwhile by a send or a webhook is never moved back.
 */
async function updateLeadsForSync(db: Db, updates: readonly LeadUpdate[], now: Date): Promise<void> {
  const c = db.schema.clients;
  for (const part of chunk(updates, UPDATE_ROWS_PER_STATEMENT)) {
    const set: Record<string, SQL | Date> = { lastSyncedAt: now };
    const contacted = part.filter((u) => u.lastContactedAt);
    if (contacted.length > 0) {
      const whens = contacted.map((u) => {
        const at = sql.param(u.lastContactedAt, c.lastContactedAt);
        return sql`when ${u.id} then case when ${c.lastContactedAt} is null or ${c.lastContactedAt} < ${at} then ${at} else ${c.lastContactedAt} end`;
      });
      set.lastContactedAt = sql`case ${c.id} ${sql.join(whens, sql` `)} else ${c.lastContactedAt} end`;
    }
    for (const column of ['lastChannel', 'infobipProfileId', 'status'] as const) {
      const whens = part
        .filter((u) => u[column] !== undefined)
        .map((u) => sql`when ${u.id} then ${sql.param(u[column], c[column])}`);
      if (whens.length > 0) set[column] = sql`case ${c.id} ${sql.join(whens, sql` `)} else ${c[column]} end`;
    }
    const changedIds = part.filter((u) => Object.keys(u).length > 2).map((u) => u.id);
    if (changedIds.length > 0)
      set.updatedAt = sql`case when ${inArray(c.id, changedIds)} then ${sql.param(now, c.updatedAt)} else ${c.updatedAt} end`;
    await db.orm
      .update(c)
      .set(set)
      .where(
        inArray(
          c.id,
          part.map((u) => u.id),
        ),
      );
  }
}
