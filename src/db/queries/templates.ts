/**
 * Message Master: the WhatsApp templates the CRM knows, keyed by name + language. Rows are created
 * here (source `crm`) or by a sync from a provider; the approval status is stored normalised (see
 * src/templates/approval-status.ts) and decides, with archive and removal, whether a template may
 * be sent.
 */
import { and, asc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import type { messageMaster } from '../schema/sqlite';
import type { HeaderType } from '../schema/values';
import { parseJson, type Page, type PageParams, selectPage, insertReturning } from './common';

type TemplateRow = typeof messageMaster.$inferSelect;

export const TEMPLATE_BUTTON_TYPES = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE'] as const;
export type TemplateButtonType = (typeof TEMPLATE_BUTTON_TYPES)[number];

export interface TemplateButton {
  type: TemplateButtonType;
  text: string;
  /** URL buttons; a dynamic one ends in `{{1}}`, whose value is given per send. */
  url?: string;
  /** PHONE_NUMBER buttons, E.164. */
  phoneNumber?: string;
  /** Example value for a dynamic URL suffix or a copy code. */
  example?: string;
}

export interface Template extends Omit<TemplateRow, 'buttons'> {
  buttons: TemplateButton[];
}

export interface CreateTemplateParams {
  name: string;
  language: string;
  category?: string | null;
  /** Store it normalised (normaliseApprovalStatus). A template nobody approved yet is `Pending`. */
  approvalStatus?: string;
  headerType?: HeaderType;
  headerText?: string | null;
  headerMediaUrl?: string | null;
  body: string;
  footer?: string | null;
  buttons?: TemplateButton[];
  provider?: string | null;
  providerTemplateId?: string | null;
  rejectionReason?: string | null;
  /** `crm` (the default) when created here, else the provider it was synced from. */
  source?: string;
  lastSyncedAt?: Date | null;
}

export type TemplatePatch = Partial<Omit<CreateTemplateParams, 'buttons'>> & {
  buttons?: TemplateButton[];
  archivedAt?: Date | null;
  removedUpstreamAt?: Date | null;
};

export interface ListTemplatesParams extends PageParams {
  approvalStatus?: string;
  /** Matches anywhere in the name or the body. */
  search?: string;
  language?: string;
  category?: string;
  includeArchived?: boolean;
  /** Templates a sync no longer found upstream are hidden unless asked for. */
  includeRemoved?: boolean;
}

function toTemplate(row: TemplateRow): Template {
  return { ...row, buttons: parseJson<TemplateButton[]>(row.buttons, 'MessageMaster.Buttons') };
}

/** Inserts a template. A second one with the same name + language hits UX_MessageMaster_Name_Language (see isUniqueViolation). */
export async function createTemplate(db: Db, params: CreateTemplateParams): Promise<Template> {
  const now = new Date();
  const values: typeof db.schema.messageMaster.$inferInsert = {
    name: params.name,
    language: params.language,
    category: params.category ?? null,
    approvalStatus: params.approvalStatus ?? 'Pending',
    headerType: params.headerType ?? 'none',
    headerText: params.headerText ?? null,
    headerMediaUrl: params.headerMediaUrl ?? null,
    body: params.body,
    footer: params.footer ?? null,
    buttons: JSON.stringify(params.buttons ?? []),
    provider: params.provider ?? null,
    providerTemplateId: params.providerTemplateId ?? null,
    rejectionReason: params.rejectionReason ?? null,
    source: params.source ?? 'crm',
    lastSyncedAt: params.lastSyncedAt ?? null,
    createdAt: now,
    updatedAt: now,
  };
  return toTemplate(await insertReturning(db, 'messageMaster', values));
}

/** Applies `patch` and bumps UpdatedAt; undefined when there is no such template. */
export async function updateTemplate(db: Db, id: number, patch: TemplatePatch): Promise<Template | undefined> {
  const t = db.schema.messageMaster;
  const { buttons, ...rest } = patch;
  const set: Partial<typeof t.$inferInsert> = { ...rest, updatedAt: new Date() };
  if (buttons !== undefined) set.buttons = JSON.stringify(buttons);
  await db.orm.update(t).set(set).where(eq(t.id, id));
  return getTemplate(db, id);
}

export async function getTemplate(db: Db, id: number): Promise<Template | undefined> {
  const t = db.schema.messageMaster;
  const [row] = await db.orm.select().from(t).where(eq(t.id, id));
  return row && toTemplate(row);
}

/** The template a step or a send names; archived and removed ones are returned too (the caller decides). */
export async function getTemplateByNameLanguage(db: Db, name: string, language: string): Promise<Template | undefined> {
  const t = db.schema.messageMaster;
  const [row] = await db.orm
    .select()
    .from(t)
    .where(and(eq(t.name, name), eq(t.language, language)));
  return row && toTemplate(row);
}

/** Ordered by name, then language. Archived and removed-upstream templates only when asked for. */
export async function listTemplates(db: Db, params: ListTemplatesParams): Promise<Page<Template>> {
  const t = db.schema.messageMaster;
  const conditions: SQL[] = [];
  if (params.approvalStatus !== undefined) conditions.push(eq(t.approvalStatus, params.approvalStatus));
  if (params.language !== undefined) conditions.push(eq(t.language, params.language));
  if (params.category !== undefined) conditions.push(eq(t.category, params.category));
  if (!params.includeArchived) conditions.push(isNull(t.archivedAt));
  if (!params.includeRemoved) conditions.push(isNull(t.removedUpstreamAt));
  if (params.search !== undefined) {
    const pattern = `%${escapeLike(params.search)}%`;
    const matches = or(sql`${t.name} like ${pattern} escape '\\'`, sql`${t.body} like ${pattern} escape '\\'`);
    if (matches) conditions.push(matches);
  }
  const where = and(...conditions);

  const page = await selectPage(db, 'messageMaster', params, { where, orderBy: (t) => [asc(t.name), asc(t.language)] });
  return { ...page, items: page.items.map(toTemplate) };
}

/** Archived templates are kept (sequences and the log refer to them) but can no longer be sent. Archiving twice keeps the first time. */
export async function archiveTemplate(db: Db, id: number): Promise<Template | undefined> {
  const t = db.schema.messageMaster;
  const now = new Date();
  await db.orm
    .update(t)
    .set({ archivedAt: now, updatedAt: now })
    .where(and(eq(t.id, id), isNull(t.archivedAt)));
  return getTemplate(db, id);
}

/**
 * A search term taken literally: `_` is common in template names and is LIKE's one-character
 * wildcard, and SQL Server also reads `[` as the start of a character class.
 */
function escapeLike(term: string): string {
  return term.replace(/[\\%_[]/g, (char) => `\\${char}`);
}
