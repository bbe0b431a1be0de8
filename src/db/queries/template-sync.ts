/**
 * Message Master as a provider's template list sees it: upserts keyed by name + language, the
 * "removed upstream" marker, and the TemplateSyncRuns record of each sync with its counts and
 * per-template errors.
 */
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import { asMssql, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { messageMaster, templateSyncRuns } from '../schema/sqlite';
import type { HeaderType } from '../schema/values';
import {
  affectedRows,
  chunk,
  MAX_IDS_PER_STATEMENT,
  parseJson,
  type Page,
  type PageParams,
  selectPage,
  insertReturning,
} from './common';

type TemplateRow = typeof messageMaster.$inferSelect;
type SyncRunRow = typeof templateSyncRuns.$inferSelect;

/** A template as a provider lists it (see providers/interakt-templates.ts `SyncedTemplate`). */
export interface SyncedTemplateValues {
  name: string;
  language: string;
  category: string | null;
  approvalStatus: string;
  rejectionReason: string | null;
  headerType: HeaderType;
  headerText: string | null;
  headerMediaUrl: string | null;
  body: string;
  footer: string | null;
  /** Stored as JSON text in `Buttons`. */
  buttons: readonly unknown[];
  providerTemplateId: string | null;
  /** The provider's quality rating, when its list has one. */
  qualityScore?: string | null;
}

export type UpsertSyncedTemplateOutcome = 'created' | 'updated' | 'unchanged';

export interface TemplateKey {
  name: string;
  language: string;
}

export type TemplateSyncTrigger = 'api' | 'schedule';
export type TemplateSyncRunStatus = 'running' | 'completed' | 'failed';

export interface TemplateSyncError {
  /** `name (language)` when the failing row named its template. */
  template?: string;
  message: string;
}

export interface TemplateSyncCounts {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  errorCount: number;
}

export interface TemplateSyncRun extends Omit<SyncRunRow, 'errors' | 'status' | 'trigger'> {
  status: TemplateSyncRunStatus;
  trigger: TemplateSyncTrigger;
  errors: TemplateSyncError[];
}

/** Errors kept per run; `ErrorCount` still counts them all. */
export const MAX_RECORDED_SYNC_ERRORS = 200;

/** The columns a sync owns. ArchivedAt stays the CRM's decision; CreatedAt is the first sync's. */
function syncedColumns(provider: string, template: SyncedTemplateValues) {
  return {
    category: template.category,
    approvalStatus: template.approvalStatus,
    rejectionReason: template.rejectionReason,
    headerType: template.headerType,
    headerText: template.headerText,
    headerMediaUrl: template.headerMediaUrl,
    body: template.body,
    footer: template.footer,
    buttons: JSON.stringify(template.buttons),
    provider,
    providerTemplateId: template.providerTemplateId,
    qualityScore: template.qualityScore ?? null,
    source: provider,
  };
}

type SyncedColumns = ReturnType<typeof syncedColumns>;

/**
 * Inserts or updates the template named `name` + `language` from a provider's list. 'unchanged'
 * means no synced column differed and it was not marked removed; LastSyncedAt moves in every case.
 * A template the CRM created under the same key is taken over by the sync (Source becomes the
 * provider): upstream is where its approval status lives.
 */
export async function upsertSyncedTemplate(
  db: Db,
  provider: string,
  template: SyncedTemplateValues,
  now: Date,
): Promise<UpsertSyncedTemplateOutcome> {
  const t = db.schema.messageMaster;
  const columns = syncedColumns(provider, template);
  const existing = await findTemplate(db, template);
  if (!existing) {
    try {
      await db.orm.insert(t).values({
        name: template.name,
        language: template.language,
        ...columns,
        lastSyncedAt: now,
        removedUpstreamAt: null,
        createdAt: now,
        updatedAt: now,
      });
      return 'created';
    } catch (error) {
      // Someone else (the CRM, a concurrent sync) inserted it first: update theirs instead.
      if (!isUniqueViolation(error)) throw error;
      const winner = await findTemplate(db, template);
      if (!winner) throw error;
      return updateExisting(db, winner, columns, now);
    }
  }
  return updateExisting(db, existing, columns, now);
}

async function updateExisting(
  db: Db,
  row: TemplateRow,
  columns: SyncedColumns,
  now: Date,
): Promise<UpsertSyncedTemplateOutcome> {
  const t = db.schema.messageMaster;
  const changed =
    row.removedUpstreamAt !== null ||
    (Object.keys(columns) as (keyof SyncedColumns)[]).some((key) => row[key] !== columns[key]);
  if (!changed) {
    await db.orm.update(t).set({ lastSyncedAt: now }).where(eq(t.id, row.id));
    return 'unchanged';
  }
  await db.orm
    .update(t)
    .set({ ...columns, lastSyncedAt: now, removedUpstreamAt: null, updatedAt: now })
    .where(eq(t.id, row.id));
  return 'updated';
}

async function findTemplate(db: Db, key: TemplateKey): Promise<TemplateRow | undefined> {
  const t = db.schema.messageMaster;
  const [row] = await db.orm
    .select()
    .from(t)
    .where(and(eq(t.name, key.name), eq(t.language, key.language)));
  return row;
}

/**
 * Marks the provider's templates that a complete sync did not see: RemovedUpstreamAt is set once
 * (a template already marked keeps its first date) and cleared by upsertSyncedTemplate when it
 * reappears. Call it only after a complete pass: a partial list would mark live templates.
 * Returns how many were newly marked.
 */
export async function markTemplatesRemovedUpstream(
  db: Db,
  provider: string,
  seenKeys: readonly TemplateKey[],
  now: Date,
): Promise<number> {
  const t = db.schema.messageMaster;
  const candidates = await db.orm
    .select({ id: t.id, name: t.name, language: t.language })
    .from(t)
    .where(and(eq(t.source, provider), isNull(t.removedUpstreamAt)));
  const seen = new Set(seenKeys.map(keyOf));
  const missing = candidates.filter((row) => !seen.has(keyOf(row))).map((row) => row.id);

  let marked = 0;
  for (const ids of chunk(missing, MAX_IDS_PER_STATEMENT)) {
    const result = await db.orm
      .update(t)
      .set({ removedUpstreamAt: now, updatedAt: now })
      .where(and(inArray(t.id, ids), isNull(t.removedUpstreamAt)));
    marked += affectedRows(result);
  }
  return marked;
}

const keyOf = (key: TemplateKey): string => JSON.stringify([key.name, key.language]);

/** What a provider's template status or quality webhook says of one template. */
export interface TemplateStatusUpdate {
  provider: string;
  /** The provider's id for the template; found by it first. */
  providerTemplateId: string | null;
  /** Else by name + language (Meta's webhooks write `en-US` where its lists write `en_US`). */
  name: string | null;
  language: string | null;
  /** Normalised (normaliseApprovalStatus); absent for a quality-only update. */
  approvalStatus?: string;
  rejectionReason?: string | null;
  qualityScore?: string;
  at: Date;
}

export interface TemplateStatusResult {
  /** The Message Master row it applied to; null when no template matched. */
  templateId: number | null;
  changed: boolean;
}

/**
 * Applies a provider's word on a template at once: its approval status (a paused or disabled
 * template stops being sendable, as the send check reads it from here), rejection reason and
 * quality rating. Found by the provider's template id, else by name and language; a template we do
 * not have is left for the next sync. Applying the same update twice changes nothing.
 */
export async function applyTemplateStatusUpdate(db: Db, update: TemplateStatusUpdate): Promise<TemplateStatusResult> {
  const t = db.schema.messageMaster;
  let row: TemplateRow | undefined;
  if (update.providerTemplateId) {
    [row] = await db.orm
      .select()
      .from(t)
      .where(and(eq(t.provider, update.provider), eq(t.providerTemplateId, update.providerTemplateId)));
  }
  if (!row && update.name && update.language) {
    const languages = [...new Set([update.language, update.language.replace(/-/g, '_')])];
    [row] = await db.orm
      .select()
      .from(t)
      .where(and(eq(t.name, update.name), inArray(t.language, languages)));
  }
  if (!row) return { templateId: null, changed: false };

  const changes: Partial<Pick<TemplateRow, 'approvalStatus' | 'rejectionReason' | 'qualityScore'>> = {};
  if (update.approvalStatus !== undefined && update.approvalStatus !== row.approvalStatus)
    changes.approvalStatus = update.approvalStatus;
  if (update.rejectionReason !== undefined && update.rejectionReason !== row.rejectionReason)
    changes.rejectionReason = update.rejectionReason;
  if (update.qualityScore !== undefined && update.qualityScore !== row.qualityScore)
    changes.qualityScore = update.qualityScore;
  if (Object.keys(changes).length === 0) return { templateId: row.id, changed: false };
  await db.orm
    .update(t)
    .set({ ...changes, updatedAt: update.at })
    .where(eq(t.id, row.id));
  return { templateId: row.id, changed: true };
}

// ---------------------------------------------------------------------------------------------
// Sync runs

function toRun(row: SyncRunRow): TemplateSyncRun {
  return {
    ...row,
    status: row.status as TemplateSyncRunStatus,
    trigger: row.trigger as TemplateSyncTrigger,
    errors: parseJson<TemplateSyncError[]>(row.errors, 'TemplateSyncRuns.Errors'),
  };
}

export interface CreateTemplateSyncRunParams {
  provider: string;
  trigger: TemplateSyncTrigger;
  /** Defaults to now. A scheduled run passes its workflow's start time (see findTemplateSyncRunByStart). */
  startedAt?: Date;
}

/** A new run in status 'running' with zero counts. */
export async function createTemplateSyncRun(db: Db, params: CreateTemplateSyncRunParams): Promise<TemplateSyncRun> {
  const values = {
    provider: params.provider,
    trigger: params.trigger,
    status: 'running' as const,
    startedAt: params.startedAt ?? new Date(),
  };
  return toRun(await insertReturning(db, 'templateSyncRuns', values));
}

/** The run a provider, trigger and start time name: how a retried "create the run" finds its first try. */
export async function findTemplateSyncRunByStart(
  db: Db,
  params: Required<CreateTemplateSyncRunParams>,
): Promise<TemplateSyncRun | undefined> {
  const t = db.schema.templateSyncRuns;
  const [row] = await db.orm
    .select()
    .from(t)
    .where(and(eq(t.provider, params.provider), eq(t.trigger, params.trigger), eq(t.startedAt, params.startedAt)));
  return row && toRun(row);
}

export interface FinishTemplateSyncRunParams {
  status: Exclude<TemplateSyncRunStatus, 'running'>;
  counts: Partial<TemplateSyncCounts>;
  errors: readonly TemplateSyncError[];
  finishedAt?: Date;
}

/**
 * Records a run's outcome. Only a 'running' run can finish, so a late failure report never
 * overwrites a completed run. Keeps the first MAX_RECORDED_SYNC_ERRORS errors. Returns whether
 * the run was still running.
 */
export async function finishTemplateSyncRun(db: Db, id: number, params: FinishTemplateSyncRunParams): Promise<boolean> {
  const t = db.schema.templateSyncRuns;
  const result = await db.orm
    .update(t)
    .set({
      status: params.status,
      finishedAt: params.finishedAt ?? new Date(),
      ...countColumns(params.counts),
      errors: JSON.stringify(params.errors.slice(0, MAX_RECORDED_SYNC_ERRORS)),
    })
    .where(and(eq(t.id, id), eq(t.status, 'running')));
  return affectedRows(result) > 0;
}

/** Counts and errors so far of a run still 'running', so a long sync shows its progress. */
export async function recordTemplateSyncProgress(
  db: Db,
  id: number,
  params: { counts: Partial<TemplateSyncCounts>; errors: readonly TemplateSyncError[] },
): Promise<boolean> {
  const t = db.schema.templateSyncRuns;
  const result = await db.orm
    .update(t)
    .set({ ...countColumns(params.counts), errors: JSON.stringify(params.errors.slice(0, MAX_RECORDED_SYNC_ERRORS)) })
    .where(and(eq(t.id, id), eq(t.status, 'running')));
  return affectedRows(result) > 0;
}

/** Only the count columns, whatever else the object carries. */
function countColumns(counts: Partial<TemplateSyncCounts>): Partial<TemplateSyncCounts> {
  const columns: Partial<TemplateSyncCounts> = {};
  for (const key of ['fetched', 'created', 'updated', 'unchanged', 'removed', 'errorCount'] as const) {
    if (counts[key] !== undefined) columns[key] = counts[key];
  }
  return columns;
}

export async function getTemplateSyncRun(db: Db, id: number): Promise<TemplateSyncRun | undefined> {
  const t = db.schema.templateSyncRuns;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toRun(row);
}

/** The newest 'running' run of a provider, if any. */
export async function findRunningTemplateSyncRun(db: Db, provider: string): Promise<TemplateSyncRun | undefined> {
  const t = db.schema.templateSyncRuns;
  const where = and(eq(t.provider, provider), eq(t.status, 'running'));
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const r = schema.templateSyncRuns;
    const [row] = await orm.select().from(r).where(where).orderBy(desc(r.id)).offset(0).fetch(1);
    return row && toRun(row);
  }
  const [row] = await db.orm.select().from(t).where(where).orderBy(desc(t.id)).limit(1);
  return row && toRun(row);
}

export interface ListTemplateSyncRunsParams extends PageParams {
  provider?: string;
}

/** Newest first. */
export async function listTemplateSyncRuns(db: Db, params: ListTemplateSyncRunsParams): Promise<Page<TemplateSyncRun>> {
  const t = db.schema.templateSyncRuns;
  const where = params.provider === undefined ? undefined : eq(t.provider, params.provider);

  const page = await selectPage(db, 'templateSyncRuns', params, { where, orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toRun) };
}
