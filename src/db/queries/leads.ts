import { and, desc, eq, inArray, isNull, like, lt, or, sql, type SQL } from 'drizzle-orm';
import { CUSTOM_FIELD_KEY } from '../../shared';
import type { Db } from '../client';
import type { clients } from '../schema/sqlite';
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

type LeadRow = typeof clients.$inferSelect;

export type CustomFields = Record<string, unknown>;

export interface Lead extends Omit<LeadRow, 'customFields'> {
  customFields: CustomFields;
}

export interface CreateLeadParams {
  name: string;
  /** E.164, e.g. +919812345678; unique across leads. */
  phone: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  status?: string;
  stage?: string;
  timeZone?: string | null;
  optedOut?: boolean;
  customFields?: CustomFields;
  /** Where the lead came from (`crm` by default, `ivr`, `infobip`, ...). */
  source?: string;
}

export type LeadPatch = Partial<{
  name: string;
  firstName: string | null;
  lastName: string | null;
  phone: string;
  email: string | null;
  status: string;
  stage: string;
  timeZone: string | null;
  optedOut: boolean;
  lastContactedAt: Date | null;
  customFields: CustomFields;
}>;

export interface ListLeadsParams extends PageParams {
  /** Matches anywhere in name, phone or email. */
  search?: string;
  status?: string;
  /** Every one must match: the custom field's scalar value, as text (`true`, `42`, `Pune`), equals `value`. */
  customFields?: CustomFieldFilter[];
}

export interface CustomFieldFilter {
  key: string;
  value: string;
}

/** Custom field names, as lead creation accepts them; only such names are put into a JSON path. */
export { CUSTOM_FIELD_KEY };

export function toLead(row: LeadRow): Lead {
  return { ...row, customFields: parseJson<CustomFields>(row.customFields, 'Clients.CustomFields') };
}

export async function createLead(db: Db, params: CreateLeadParams): Promise<Lead> {
  const now = new Date();
  const values: typeof db.schema.clients.$inferInsert = {
    name: params.name,
    phone: params.phone,
    firstName: params.firstName ?? null,
    lastName: params.lastName ?? null,
    email: params.email ?? null,
    status: params.status,
    stage: params.stage,
    timeZone: params.timeZone ?? null,
    optedOut: params.optedOut ?? false,
    optedOutAt: params.optedOut ? now : null,
    customFields: JSON.stringify(params.customFields ?? {}),
    source: params.source,
    createdAt: now,
    updatedAt: now,
  };
  return toLead(await insertReturning(db, 'clients', values));
}

export async function getLead(db: Db, id: number): Promise<Lead | undefined> {
  const { clients } = db.schema;
  const [row] = await db.orm.select().from(clients).where(eq(clients.id, id));
  return row && toLead(row);
}

/** Leads in no particular order; ids that do not exist are simply absent. */
export async function getLeadsByIds(db: Db, ids: readonly number[]): Promise<Lead[]> {
  const { clients } = db.schema;
  const leads: Lead[] = [];
  for (const part of chunk([...new Set(ids)], MAX_IDS_PER_STATEMENT)) {
    const rows = await db.orm.select().from(clients).where(inArray(clients.id, part));
    leads.push(...rows.map(toLead));
  }
  return leads;
}

export async function findLeadByPhone(db: Db, phone: string): Promise<Lead | undefined> {
  const { clients } = db.schema;
  const [row] = await db.orm.select().from(clients).where(eq(clients.phone, phone));
  return row && toLead(row);
}

/**
 * Applies `patch` and bumps UpdatedAt. Opting out stamps OptedOutAt the moment the flag turns on
 * (not again while it stays on); opting back in clears it.
 */
export async function updateLead(db: Db, id: number, patch: LeadPatch): Promise<Lead | undefined> {
  const { clients } = db.schema;
  const current = await getLead(db, id);
  if (!current) return undefined;

  const now = new Date();
  const { customFields, ...rest } = patch;
  const set: Partial<typeof clients.$inferInsert> = { ...rest, updatedAt: now };
  if (customFields !== undefined) set.customFields = JSON.stringify(customFields);
  if (patch.optedOut === true && !current.optedOut) set.optedOutAt = now;
  if (patch.optedOut === false) set.optedOutAt = null;

  await db.orm.update(clients).set(set).where(eq(clients.id, id));
  return getLead(db, id);
}

export async function listLeads(db: Db, params: ListLeadsParams): Promise<Page<Lead>> {
  const { clients } = db.schema;
  const conditions: SQL[] = [];
  if (params.search) {
    const pattern = `%${params.search}%`;
    conditions.push(or(like(clients.name, pattern), like(clients.phone, pattern), like(clients.email, pattern))!);
  }
  if (params.status) conditions.push(eq(clients.status, params.status));
  for (const filter of params.customFields ?? []) conditions.push(customFieldEquals(db, filter));
  const where = and(...conditions);

  const page = await selectPage(db, 'clients', params, { where, orderBy: (t) => [desc(t.id)] });
  return { ...page, items: page.items.map(toLead) };
}

/**
 * `CustomFields.<key> = value`, comparing the JSON scalar as text in both dialects: SQL Server's
 * JSON_VALUE already returns text (`true`, `42`); SQLite's json_extract returns typed values, so
 * booleans are spelled out and the rest cast. A row whose CustomFields is not valid JSON (written
 * by hand in the CRM) matches nothing instead of failing the whole query.
 */
export function customFieldEquals(db: Db, { key, value }: CustomFieldFilter): SQL {
  if (!CUSTOM_FIELD_KEY.test(key)) throw new RangeError(`not a custom field name: ${JSON.stringify(key)}`);
  const column = db.schema.clients.customFields;
  const path = sql.raw(`'$."${key}"'`);
  if (db.dialect === 'mssql') {
    return sql`(case when isjson(${column}) = 1 then json_value(${column}, ${path}) end) = ${value}`;
  }
  return sql`(case when json_valid(${column}) then case json_type(${column}, ${path}) when 'true' then 'true' when 'false' then 'false' else cast(json_extract(${column}, ${path}) as text) end end) = ${value}`;
}

/**
 * Records that we were in touch with the lead at `at`. Contacts arrive out of order (retries,
 * late webhooks, sync runs over old windows), so the time only ever moves forward.
 */
export async function touchLeadLastContact(db: Db, id: number, at: Date): Promise<boolean> {
  const { clients } = db.schema;
  const result = await db.orm
    .update(clients)
    .set({ lastContactedAt: at })
    .where(and(eq(clients.id, id), or(isNull(clients.lastContactedAt), lt(clients.lastContactedAt, at))));
  return affectedRows(result) > 0;
}
