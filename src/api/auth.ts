import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/client';
import type { Role } from '../db/schema/values';
import { findActiveApiKeyByHash } from '../db/queries';
import { AppError } from '../errors';

/** Admin API keys are random; only their SHA-256 is stored, so a database leak reveals none. */
export function generateApiKey(): { key: string; keyHash: string; keyPrefix: string } {
  const key = `dl_${randomBytes(32).toString('base64url')}`;
  return { key, keyHash: hashApiKey(key), keyPrefix: key.slice(0, 8) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function presentedKey(authorization: string | undefined, headerKey: string | undefined): string | null {
  if (headerKey) return headerKey.trim();
  const match = authorization?.match(/^Bearer\s+(.+)$/i);
  return match?.[1]?.trim() ?? null;
}

/**
 * A key found valid is trusted for this long without asking the database again: the lookup was
 * a third of the API's per-call SQLite work under enrolment load (bench/results/enrol.md). The
 * price is that a revoked key keeps working in each API process for up to this long.
 */
export const API_KEY_CACHE_MS = 30_000;
const MAX_CACHED_KEYS = 1_000;

/** Who is calling: the key (by id and name, never the key itself) and what its role allows. */
export interface Principal {
  kind: 'api_key';
  id: number;
  name: string;
  role: Role;
}

/** The caller of this request, set by requireApiKey; undefined on public routes. */
export const principalOf = (res: Response): Principal | undefined => res.locals.principal as Principal | undefined;

/** Every admin route needs `Authorization: Bearer <key>` (or `X-Api-Key: <key>`); the key's role then decides (route.ts). */
export function requireApiKey(db: Db, now: () => number = Date.now): RequestHandler {
  const known = new Map<string, { validUntil: number; principal: Principal }>();
  return async (req, res, next) => {
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    if (!key)
      throw new AppError('unauthorized', 'unauthorized', 'an admin API key is required (Authorization: Bearer <key>)');
    const keyHash = hashApiKey(key);
    let entry = known.get(keyHash);
    if (!entry || entry.validUntil < now()) {
      const row = await findActiveApiKeyByHash(db, keyHash);
      if (!row) {
        known.delete(keyHash);
        throw new AppError('unauthorized', 'unauthorized', 'the API key is not valid');
      }
      if (known.size >= MAX_CACHED_KEYS) known.clear();
      entry = {
        validUntil: now() + API_KEY_CACHE_MS,
        principal: { kind: 'api_key', id: row.id, name: row.name, role: row.role },
      };
      known.set(keyHash, entry);
    }
    res.locals.principal = entry.principal;
    next();
  };
}
