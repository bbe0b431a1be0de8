/**
 * The audit log: who changed what, when. Every successful change (POST, PUT, PATCH, DELETE
 * answered below 400) made by an API key or a console session is one row, written once the
 * response has gone: settings, templates, sequences, signing-key rotations, and campaigns as they
 * arrive, with no route having to remember. Only admins read it.
 */
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { listAudit, recordAudit, type AuditRow } from '../db/queries';
import type { Db } from '../db/client';
import { ROLES } from '../db/schema/values';
import type { Logger } from '../logging/logger';
import { principalOf } from './auth';
import type { ApiContext } from './context';
import { ApiRouter } from './route';
import { IdFromText, pageOf, Paging, Timestamp } from './schemas';

/**
 * Calls that change nothing a person would audit: the template JSON builder only computes, and
 * IVR intake is the telephony system reporting calls (its own log is `GET /ivr/calls`).
 */
// Reads that are POSTs (a filter in the body) change nothing: the console's segment builder counts as you type.
const NOT_AUDITED = new Set([
  'POST /cta/template-json',
  'POST /cta/template-json/project-update',
  'POST /ivr/calls',
  'POST /segments/preview',
]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The first path parameter's value (`/sequences/:id` on `/sequences/12` → `12`). */
export function targetIdOf(pattern: string, path: string): string | null {
  const patternParts = pattern.split('/');
  const pathParts = path.split('/');
  for (let i = 0; i < patternParts.length; i++) {
    if (patternParts[i]?.startsWith(':')) return (pathParts[i] ?? '').slice(0, 100) || null;
  }
  return null;
}

export function auditChanges(db: Db, log: Logger): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (!SAFE_METHODS.has(req.method)) {
      const path = req.originalUrl.split('?', 1)[0] ?? '';
      res.on('finish', () => {
        const principal = principalOf(res);
        const route = res.locals.routePattern as string | undefined;
        if (!principal || !route || res.statusCode >= 400 || NOT_AUDITED.has(`${req.method} ${route}`)) return;
        recordAudit(db, {
          at: new Date(),
          actorKeyId: principal.id,
          actorName: principal.name,
          actorRole: principal.role,
          via: principal.kind,
          method: req.method,
          route,
          targetId: targetIdOf(route, path),
          status: res.statusCode,
        }).catch((error: unknown) => log.error({ err: error, route }, 'audit entry not recorded'));
      });
    }
    next();
  };
}

const AuditEntry = z
  .strictObject({
    id: z.number().int(),
    at: Timestamp,
    actorKeyId: z.number().int(),
    actorName: z.string(),
    actorRole: z.enum(ROLES),
    via: z.string().meta({ description: '`api_key` or `session`' }),
    method: z.string(),
    route: z.string().meta({ description: 'The route pattern, e.g. `/sequences/:id`' }),
    targetId: z.string().nullable(),
    status: z.number().int(),
  })
  .meta({ id: 'AuditEntry' });

const entryJson = (row: AuditRow) => ({ ...row, at: row.at.toISOString() });

export function auditRouter(deps: ApiContext): ApiRouter {
  const routes = new ApiRouter({ tag: 'Audit', checkResponses: deps.checkResponses, writeRole: 'admin' });
  routes.get(
    '/',
    {
      summary: 'The audit log, newest first: who changed what, when',
      role: 'admin',
      query: Paging.extend({ actorKeyId: IdFromText.optional() }),
      responses: { 200: pageOf(AuditEntry) },
    },
    async ({ query }, res) => {
      const page = await listAudit(deps.db, query);
      res.json({ ...page, items: page.items.map(entryJson) });
    },
  );
  return routes;
}
