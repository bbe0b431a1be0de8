import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Db } from '../db/client';
import type { Role } from '../db/schema/values';
import { findActiveApiKeyByHash, findLiveConsoleSession } from '../db/queries';
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

/** Who is calling: the key (by id and name, never the key itself), how it signed in, and what its role allows. */
export interface Principal {
  /** `api_key`: the key on this request; `session`: a console session the key was exchanged for. */
  kind: 'api_key' | 'session';
  id: number;
  name: string;
  role: Role;
}

/** The caller of this request, set by requireCaller; undefined on public routes. */
export const principalOf = (res: Response): Principal | undefined => res.locals.principal as Principal | undefined;

/** Methods that change nothing: the only ones a session cookie may make without its CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every non-public route needs a caller: an API key (`Authorization: Bearer <key>` or
 * `X-Api-Key: <key>`), or the console's session cookie (src/api/session.ts), whose changes must
 * also carry the session's CSRF token in `X-CSRF-Token`. The caller's role then decides (route.ts).
 */
export function requireCaller(db: Db, now: () => number = Date.now): RequestHandler {
  const checkKey = apiKeyChecker(db, now);
  return async (req, res, next) => {
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    if (key) {
      res.locals.principal = await checkKey(key);
      next();
      return;
    }
    const token = sessionTokenOf(req.get('cookie'));
    if (!token)
      throw new AppError(
        'unauthorized',
        'unauthorized',
        'an API key (Authorization: Bearer <key>) or a console session is required',
      );
    const session = await findLiveConsoleSession(db, hashApiKey(token), new Date(now()));
    if (!session) throw new AppError('unauthorized', 'session_ended', 'the console session has ended; sign in again');
    if (!SAFE_METHODS.has(req.method) && !csrfTokenMatches(token, req.get('x-csrf-token')))
      throw new AppError('forbidden', 'csrf_required', 'a change made with the session cookie needs its X-CSRF-Token');
    res.locals.principal = { kind: 'session', id: session.keyId, name: session.keyName, role: session.role };
    next();
  };
}

/** The API-key check alone (kept for callers that take keys only). */
export function requireApiKey(db: Db, now: () => number = Date.now): RequestHandler {
  const checkKey = apiKeyChecker(db, now);
  return async (req, res, next) => {
    const key = presentedKey(req.get('authorization'), req.get('x-api-key'));
    if (!key)
      throw new AppError('unauthorized', 'unauthorized', 'an admin API key is required (Authorization: Bearer <key>)');
    res.locals.principal = await checkKey(key);
    next();
  };
}

function apiKeyChecker(db: Db, now: () => number): (key: string) => Promise<Principal> {
  const known = new Map<string, { validUntil: number; principal: Principal }>();
  return async (key) => {
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
    return entry.principal;
  };
}

/** The console's cookie. Its value is a secret: never logged (pino-http logs no headers). */
export const SESSION_COOKIE = 'dripline_session';
const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The session token from a Cookie header, if it holds a well-formed one. */
export function sessionTokenOf(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader || cookieHeader.length > 8_192) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (SESSION_TOKEN_PATTERN.test(value)) return value;
  }
  return undefined;
}

/**
 * The session's CSRF token, derived from its secret token (so nothing more is stored): a page of
 * another site can neither read the cookie nor compute this, and SameSite=Strict already keeps the
 * cookie off its requests; the header is the second wall.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('dripline-console-csrf').digest('base64url');
}

function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented || presented.length > 100) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
