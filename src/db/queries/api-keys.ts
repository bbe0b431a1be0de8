import { and, count, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import type { apiKeys } from '../schema/sqlite';
import type { Role } from '../schema/values';
import { insertReturning } from './common';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface CreateApiKeyParams {
  name: string;
  /** SHA-256 of the key, hex: the key itself is never stored. */
  keyHash: string;
  /** The key's first characters, so an admin can tell keys apart. */
  keyPrefix: string;
  /** Default `admin`, what keys could always do. */
  role?: Role;
}

export async function createApiKey(db: Db, params: CreateApiKeyParams): Promise<ApiKeyRow> {
  const values = {
    name: params.name,
    keyHash: params.keyHash,
    keyPrefix: params.keyPrefix,
    role: params.role ?? 'admin',
    createdAt: new Date(),
  };
  return insertReturning(db, 'apiKeys', values);
}

export async function findActiveApiKeyByHash(db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  const { apiKeys } = db.schema;
  const [row] = await db.orm
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return row;
}

export async function countActiveApiKeys(db: Db): Promise<number> {
  const { apiKeys } = db.schema;
  const [row] = await db.orm.select({ n: count() }).from(apiKeys).where(isNull(apiKeys.revokedAt));
  return row?.n ?? 0;
}
