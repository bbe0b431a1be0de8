import { and, desc, eq, gt, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import type { auditLog, consoleSessions } from '../schema/sqlite';
import type { Role } from '../schema/values';
import { insertReturning, selectPage, type Page, type PageParams } from './common';

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;

export interface CreateConsoleSessionParams {
  /** SHA-256 of the cookie's token, hex: the token itself is never stored. */
  tokenHash: string;
  apiKeyId: number;
  expiresAt: Date;
}

export async function createConsoleSession(db: Db, params: CreateConsoleSessionParams): Promise<ConsoleSessionRow> {
  return insertReturning(db, 'consoleSessions', { ...params, createdAt: new Date() });
}

/** A session still in force: not signed out, not expired, and its API key not revoked. */
export async function findLiveConsoleSession(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<{ sessionId: number; expiresAt: Date; keyId: number; keyName: string; role: Role } | undefined> {
  const { consoleSessions: s, apiKeys: k } = db.schema;
  const [row] = await db.orm
    .select({ sessionId: s.id, expiresAt: s.expiresAt, keyId: k.id, keyName: k.name, role: k.role })
    .from(s)
    .innerJoin(k, eq(k.id, s.apiKeyId))
    .where(and(eq(s.tokenHash, tokenHash), isNull(s.revokedAt), gt(s.expiresAt, now), isNull(k.revokedAt)));
  return row;
}

export async function endConsoleSession(db: Db, tokenHash: string, now: Date): Promise<void> {
  const { consoleSessions: s } = db.schema;
  await db.orm
    .update(s)
    .set({ revokedAt: now })
    .where(and(eq(s.tokenHash, tokenHash), isNull(s.revokedAt)));
}

/** Sessions that can no longer be used are deleted, so the table holds only live ones and recent ends. */
export async function deleteEndedConsoleSessions(db: Db, before: Date): Promise<void> {
  const { consoleSessions: s } = db.schema;
  await db.orm.delete(s).where(or(lt(s.expiresAt, before), lt(s.revokedAt, before)));
}

export type RecordAuditParams = Omit<AuditRow, 'id'>;

export async function recordAudit(db: Db, params: RecordAuditParams): Promise<AuditRow> {
  return insertReturning(db, 'auditLog', params);
}

export interface ListAuditParams extends PageParams {
  actorKeyId?: number | undefined;
}

/** Newest first. */
export async function listAudit(db: Db, params: ListAuditParams): Promise<Page<AuditRow>> {
  const conditions: SQL[] = [];
  const { auditLog: a } = db.schema;
  if (params.actorKeyId !== undefined) conditions.push(eq(a.actorKeyId, params.actorKeyId));
  return selectPage(db, 'auditLog', params, {
    where: conditions.length ? and(...conditions) : undefined,
    orderBy: (t) => [desc(t.at), desc(t.id)],
  });
}
