import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../db/client';
import { findActiveApiKeyByHash } from '../db/queries';
import { HttpError } from './errors';

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

/** Every admin route needs `Authorization: Bearer <key>` (or `X-Api-Key: <key>`). */
export function requireApiKey(db: Db): RequestHandler {
  return async (req, _res, next) => {
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    if (!key) throw new HttpError(401, 'unauthorized', 'an admin API key is required (Authorization: Bearer <key>)');
    const row = await findActiveApiKeyByHash(db, hashApiKey(key));
    if (!row) throw new HttpError(401, 'unauthorized', 'the API key is not valid');
    next();
  };
}
