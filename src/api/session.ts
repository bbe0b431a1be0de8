/**
 * Console sign-in: an API key (admin or agent) is exchanged for a session cookie, so the key never
 * stays in the browser. The cookie is HttpOnly, SameSite=Strict, Secure unless the API is reached
 * on localhost, and expires; only its token's SHA-256 is stored (ConsoleSessions). Changes made
 * with the cookie also need the session's CSRF token (auth.ts), which sign-in and `GET /session`
 * give to the page.
 */
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import {
  createConsoleSession,
  deleteEndedConsoleSessions,
  endConsoleSession,
  findActiveApiKeyByHash,
  findLiveConsoleSession,
  recordAudit,
} from '../db/queries';
import { ROLES } from '../db/schema/values';
import { AppError } from '../errors';
import { csrfTokenFor, hashApiKey, SESSION_COOKIE, sessionTokenOf } from './auth';
import type { ApiContext } from './context';
import { refuseProtoKeys } from './errors';
import { ApiRouter } from './route';
import { ErrorBody, singleLine, Timestamp } from './schemas';

/** A working day and then some; signing in again costs a paste of the key. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Ended sessions are deleted at sign-in once this old. */
const ENDED_SESSION_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

const SignInBody = z.strictObject({ apiKey: singleLine(200) });
const SessionInfo = z
  .strictObject({
    name: z.string().meta({ description: "The API key's name" }),
    role: z.enum(ROLES),
    csrfToken: z.string().meta({ description: 'Send as `X-CSRF-Token` on every change made with the cookie' }),
    expiresAt: Timestamp,
  })
  .meta({ id: 'ConsoleSession' });

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function cookieAttributes(req: Request, maxAgeSeconds: number): string {
  const secure = LOCAL_HOSTS.has(req.hostname) ? '' : '; Secure';
  return `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function noStore(res: Response): void {
  res.set('Cache-Control', 'no-store');
}

export function sessionRouter(deps: ApiContext, now: () => number = Date.now): ApiRouter {
  const routes = new ApiRouter({ tag: 'Console session', checkResponses: deps.checkResponses, public: true });
  const json = express.json({ limit: '16kb', reviver: refuseProtoKeys });

  routes.post(
    '/',
    {
      summary: 'Sign in to the console: exchange an API key for a session cookie',
      description:
        'Sets the `dripline_session` cookie (HttpOnly, SameSite=Strict, Secure outside localhost, 12 hours). The key is not kept anywhere.',
      before: [json],
      body: SignInBody,
      responses: {
        201: SessionInfo,
        401: { description: 'The key is not a valid API key, or was revoked', schema: ErrorBody },
      },
    },
    async ({ body }, res) => {
      const key = await findActiveApiKeyByHash(deps.db, hashApiKey(body.apiKey));
      if (!key)
        throw new AppError('unauthorized', 'invalid_api_key', 'That is not a valid API key (or it has been revoked).');
      const token = randomBytes(32).toString('base64url');
      const at = new Date(now());
      const expiresAt = new Date(at.getTime() + SESSION_TTL_MS);
      await deleteEndedConsoleSessions(deps.db, new Date(at.getTime() - ENDED_SESSION_RETENTION_MS));
      await createConsoleSession(deps.db, { tokenHash: hashApiKey(token), apiKeyId: key.id, expiresAt });
      await recordAudit(deps.db, {
        at,
        actorKeyId: key.id,
        actorName: key.name,
        actorRole: key.role,
        via: 'session',
        method: 'POST',
        route: '/session',
        targetId: null,
        status: 201,
      });
      noStore(res);
      res.set('Set-Cookie', `${SESSION_COOKIE}=${token}; ${cookieAttributes(res.req, SESSION_TTL_MS / 1000)}`);
      res
        .status(201)
        .json({ name: key.name, role: key.role, csrfToken: csrfTokenFor(token), expiresAt: expiresAt.toISOString() });
    },
  );

  routes.get(
    '/',
    {
      summary: 'The console session of this cookie: who, which role, its CSRF token',
      responses: { 200: SessionInfo, 401: { description: 'No session, or it has ended', schema: ErrorBody } },
    },
    async (_input, res, req) => {
      const token = sessionTokenOf(req.get('cookie'));
      const session = token && (await findLiveConsoleSession(deps.db, hashApiKey(token), new Date(now())));
      noStore(res);
      if (!token || !session) throw new AppError('unauthorized', 'session_ended', 'not signed in');
      res.json({
        name: session.keyName,
        role: session.role,
        csrfToken: csrfTokenFor(token),
        expiresAt: session.expiresAt.toISOString(),
      });
    },
  );

  routes.delete(
    '/',
    {
      summary: 'Sign out: end the session and clear its cookie',
      description: 'Needs the session’s `X-CSRF-Token`.',
      responses: {
        204: { description: 'Signed out' },
        401: { description: 'No session, or it has ended', schema: ErrorBody },
        403: { description: 'Without the session’s X-CSRF-Token', schema: ErrorBody },
      },
    },
    async (_input, res, req) => {
      const token = sessionTokenOf(req.get('cookie'));
      const session = token && (await findLiveConsoleSession(deps.db, hashApiKey(token), new Date(now())));
      if (!token || !session) throw new AppError('unauthorized', 'session_ended', 'not signed in');
      if (req.get('x-csrf-token') !== csrfTokenFor(token))
        throw new AppError('forbidden', 'csrf_required', 'signing out needs the session’s X-CSRF-Token');
      await endConsoleSession(deps.db, hashApiKey(token), new Date(now()));
      noStore(res);
      res.set('Set-Cookie', `${SESSION_COOKIE}=; ${cookieAttributes(req, 0)}`);
      res.status(204).end();
    },
  );
  return routes;
}
