/**
 * Saved segments (a named filter over leads), custom-field definitions, and the lead lookups the
 * contact pages use. A segment's members are computed when asked: the filter is turned into one
 * WHERE clause over Clients, used for the live count, the preview page and a campaign's recipients.
 */
import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type {
  segments as segmentsTable,
  customFieldDefinitions as customFieldDefinitionsTable,
} from '../schema/sqlite';
import { asMssql, type Db } from '../client';
import type { CustomFieldType } from '../schema/values';
import {
  affectedRows,
  chunk,
  insertReturning,
  MAX_IDS_PER_STATEMENT,
  parseJson,
  selectPage,
  type Page,
  type PageParams,
} from './common';
import { customFieldEquals, toLead, type Lead } from './leads';

/** What a segment selects. Every given criterion must hold; lists match any of their values. */
export interface SegmentFilter {
  statuses?: string[];
  stages?: string[];
  sources?: string[];
  /** Each must match: the custom field's value, as text, equals one of `values`. */
  customFields?: { key: string; values: string[] }[];
  createdFrom?: string;
  createdTo?: string;
  lastContactedFrom?: string;
  lastContactedTo?: string;
  /** Only leads never contacted (no LastContactedAt). */
  neverContacted?: boolean;
  leadIds?: number[];
  /** Opted-out and suppressed leads are left out unless these say otherwise. */
  includeOptedOut?: boolean;
  includeSuppressed?: boolean;
}

type SegmentRow = typeof segmentsTable.$inferSelect;

export interface Segment extends Omit<SegmentRow, 'filter'> {
  filter: SegmentFilter;
}

const toSegment = (row: SegmentRow): Segment => ({
  ...row,
  filter: parseJson<SegmentFilter>(row.filter, 'Segments.Filter'),
});

/**
 * The WHERE clause of a filter. `exclusions: false` leaves opted-out and suppressed leads in
 * whatever the filter says (a campaign takes them in as recipients, to report them skipped).
 */
export function segmentWhere(db: Db, filter: SegmentFilter, { exclusions = true } = {}): SQL | undefined {
  const c = db.schema.clients;
  const conditions: (SQL | undefined)[] = [];
  if (filter.statuses?.length) conditions.push(inArray(c.status, filter.statuses));
  if (filter.stages?.length) conditions.push(inArray(c.stage, filter.stages));
  if (filter.sources?.length) conditions.push(inArray(c.source, filter.sources));
  for (const { key, values } of filter.customFields ?? []) {
    conditions.push(or(...values.map((value) => customFieldEquals(db, { key, value }))));
  }
  if (filter.createdFrom) conditions.push(gte(c.createdAt, new Date(filter.createdFrom)));
  if (filter.createdTo) conditions.push(lt(c.createdAt, new Date(filter.createdTo)));
  if (filter.lastContactedFrom) conditions.push(gte(c.lastContactedAt, new Date(filter.lastContactedFrom)));
  if (filter.lastContactedTo) conditions.push(lt(c.lastContactedAt, new Date(filter.lastContactedTo)));
  if (filter.neverContacted) conditions.push(isNull(c.lastContactedAt));
  if (filter.leadIds) {
    // An explicit list: split so no statement passes SQL Server's parameter limit.
    const parts = chunk(filter.leadIds, MAX_IDS_PER_STATEMENT);
    conditions.push(parts.length === 0 ? sql`1 = 0` : or(...parts.map((part) => inArray(c.id, part))));
  }
  if (exclusions && !filter.includeOptedOut) conditions.push(eq(c.optedOut, false));
  if (exclusions && !filter.includeSuppressed) conditions.push(isNull(c.marketingSuppressedAt));
  return and(...conditions);
}

export interface SegmentCount {
  /** Leads the segment holds now. */
  members: number;
  /** Leads matching the rest of the filter but left out as opted out / suppressed. */
  excludedOptedOut: number;
  excludedSuppressed: number;
}

export async function countSegment(db: Db, filter: SegmentFilter): Promise<SegmentCount> {
  const c = db.schema.clients;
  const all = segmentWhere(db, filter, { exclusions: false });
  const [row] = await db.orm
    .select({
      members: sql<number>`sum(case when ${segmentMembership(db, filter)} then 1 else 0 end)`,
      optedOut: sql<number>`sum(case when ${c.optedOut} = 1 then 1 else 0 end)`,
      suppressed: sql<number>`sum(case when ${c.marketingSuppressedAt} is not null and ${c.optedOut} = 0 then 1 else 0 end)`,
    })
    .from(c)
    .where(all);
  return {
    members: Number(row?.members ?? 0),
    excludedOptedOut: filter.includeOptedOut ? 0 : Number(row?.optedOut ?? 0),
    excludedSuppressed: filter.includeSuppressed ? 0 : Number(row?.suppressed ?? 0),
  };
}

/** The exclusions alone, as a condition (true when nothing is excluded). */
function segmentMembership(db: Db, filter: SegmentFilter): SQL {
  const c = db.schema.clients;
  const parts: SQL[] = [];
  if (!filter.includeOptedOut) parts.push(eq(c.optedOut, false));
  if (!filter.includeSuppressed) parts.push(isNull(c.marketingSuppressedAt));
  return parts.length === 0 ? sql`1 = 1` : and(...parts)!;
}

export async function previewSegment(db: Db, filter: SegmentFilter, params: PageParams): Promise<Page<Lead>> {
  const page = await selectPage(db, 'clients', params, {
    where: segmentWhere(db, filter),
    orderBy: (t) => [asc(t.id)],
  });
  return { ...page, items: page.items.map(toLead) };
}

/** The next `limit` lead ids of the filter after `afterId`, in id order (a keyset page). */
export async function listSegmentLeadIds(
  db: Db,
  filter: SegmentFilter,
  params: { afterId: number; limit: number; exclusions?: boolean },
): Promise<number[]> {
  const c = db.schema.clients;
  const where = and(gt(c.id, params.afterId), segmentWhere(db, filter, { exclusions: params.exclusions ?? true }));
  const rows =
    db.dialect === 'mssql'
      ? await asMssql(db)
          .orm.select({ id: asMssql(db).schema.clients.id })
          .from(asMssql(db).schema.clients)
          .where(where)
          .orderBy(asc(asMssql(db).schema.clients.id))
          .offset(0)
          .fetch(params.limit)
      : await db.orm.select({ id: c.id }).from(c).where(where).orderBy(asc(c.id)).limit(params.limit);
  return rows.map((row) => row.id);
}

export interface NewSegment {
  name: string;
  description?: string | null;
  filter: SegmentFilter;
}

export async function createSegment(db: Db, params: NewSegment): Promise<Segment> {
  const now = new Date();
  return toSegment(
    await insertReturning(db, 'segments', {
      name: params.name,
      description: params.description ?? null,
      filter: JSON.stringify(params.filter),
      createdAt: now,
      updatedAt: now,
    }),
  );
}

export async function getSegment(db: Db, id: number): Promise<Segment | undefined> {
  const t = db.schema.segments;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toSegment(row);
}

export async function listSegments(db: Db, params: PageParams): Promise<Page<Segment>> {
  const page = await selectPage(db, 'segments', params, { orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toSegment) };
}

export async function updateSegment(db: Db, id: number, patch: Partial<NewSegment>): Promise<Segment | undefined> {
  const t = db.schema.segments;
  const set: Partial<typeof t.$inferInsert> = { updatedAt: new Date() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.filter !== undefined) set.filter = JSON.stringify(patch.filter);
  await db.orm.update(t).set(set).where(eq(t.id, id));
  return getSegment(db, id);
}

/** Deletes a segment no campaign refers to; false when it does not exist or is in use. */
export async function deleteSegment(db: Db, id: number): Promise<'deleted' | 'not_found' | 'in_use'> {
  const t = db.schema.segments;
  const campaigns = db.schema.campaigns;
  const [used] = await db.orm.select({ n: count() }).from(campaigns).where(eq(campaigns.segmentId, id));
  if ((used?.n ?? 0) > 0) return 'in_use';
  const result = await db.orm.delete(t).where(eq(t.id, id));
  return affectedRows(result) > 0 ? 'deleted' : 'not_found';
}

// ---------------------------------------------------------------------------------------------
// Leads by exact e-mail or phone (the seed's /crm/chat/search).

export async function findLeadsByContact(db: Db, params: { email?: string; phone?: string }): Promise<Lead[]> {
  const c = db.schema.clients;
  const conditions: SQL[] = [];
  if (params.email) conditions.push(sql`lower(${c.email}) = ${params.email.toLowerCase()}`);
  if (params.phone) conditions.push(eq(c.phone, params.phone));
  if (conditions.length === 0) return [];
  const rows = await db.orm
    .select()
    .from(c)
    .where(or(...conditions))
    .orderBy(asc(c.id))
    .limit(100);
  return rows.map(toLead);
}

// ---------------------------------------------------------------------------------------------
// Custom-field definitions.

type DefinitionRow = typeof customFieldDefinitionsTable.$inferSelect;

export interface CustomFieldDefinition extends Omit<DefinitionRow, 'allowedValues'> {
  allowedValues: string[];
}

const toDefinition = (row: DefinitionRow): CustomFieldDefinition => ({
  ...row,
  allowedValues: parseJson<string[]>(row.allowedValues, 'CustomFieldDefinitions.AllowedValues'),
});

export interface NewCustomFieldDefinition {
  name: string;
  type: CustomFieldType;
  allowedValues?: string[];
  description?: string | null;
}

export async function createCustomFieldDefinition(
  db: Db,
  params: NewCustomFieldDefinition,
): Promise<CustomFieldDefinition> {
  const now = new Date();
  return toDefinition(
    await insertReturning(db, 'customFieldDefinitions', {
      name: params.name,
      type: params.type,
      allowedValues: JSON.stringify(params.allowedValues ?? []),
      description: params.description ?? null,
      createdAt: now,
      updatedAt: now,
    }),
  );
}

export async function listCustomFieldDefinitions(db: Db): Promise<CustomFieldDefinition[]> {
  const t = db.schema.customFieldDefinitions;
  return (await db.orm.select().from(t).orderBy(asc(t.name))).map(toDefinition);
}

export async function getCustomFieldDefinition(db: Db, id: number): Promise<CustomFieldDefinition | undefined> {
  const t = db.schema.customFieldDefinitions;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toDefinition(row);
}

export async function updateCustomFieldDefinition(
  db: Db,
  id: number,
  patch: Partial<Omit<NewCustomFieldDefinition, 'name'>>,
): Promise<CustomFieldDefinition | undefined> {
  const t = db.schema.customFieldDefinitions;
  const set: Partial<typeof t.$inferInsert> = { updatedAt: new Date() };
  if (patch.type !== undefined) set.type = patch.type;
  if (patch.allowedValues !== undefined) set.allowedValues = JSON.stringify(patch.allowedValues);
  if (patch.description !== undefined) set.description = patch.description;
  await db.orm.update(t).set(set).where(eq(t.id, id));
  return getCustomFieldDefinition(db, id);
}

export async function deleteCustomFieldDefinition(db: Db, id: number): Promise<boolean> {
  const t = db.schema.customFieldDefinitions;
  const existing = await getCustomFieldDefinition(db, id);
  if (!existing) return false;
  await db.orm.delete(t).where(eq(t.id, id));
  return true;
}
