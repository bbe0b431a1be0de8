/**
 * What every request passes through first: a request id (the caller's `X-Request-Id` when it is
 * sane, else a new one, echoed in the response), one access log line when it ends, the id on every
 * line written while it is served, and its duration in the route-pattern histogram.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { loggablePath, runInRequestScope, type Logger } from '../logging/logger';
import type { ApiMetrics } from '../metrics';

/** What a caller may choose as its request id: short, and nothing that could forge or break a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** The label of a request no route answered (404, or refused before routing, as a missing API key is). */
export const UNMATCHED_ROUTE = '(unmatched)';

export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** The middleware, in order: log the request, scope its lines, time it by route pattern. */
export function observeRequests(logger: Logger, metrics: ApiMetrics): RequestHandler[] {
  const accessLog = pinoHttp({
    logger,
    genReqId: requestId,
    // Our serializers (src/logging/logger.ts) already leave headers, bodies and query strings out.
    wrapSerializers: false,
    // Probes and scrapes would drown everything else at info.
    customLogLevel: (req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : isProbe(req) && res.statusCode < 400 ? 'debug' : 'info',
    customSuccessMessage: (req, res, responseTime) => accessLine(req, res, responseTime),
    // pino-http passes the response time here too, though its types leave it out.
    customErrorMessage: ((req: IncomingMessage, res: ServerResponse, _error: Error, responseTime?: number) =>
      accessLine(req, res, responseTime)) as (req: IncomingMessage, res: ServerResponse, error: Error) => string,
    // The id explicitly: the finish event that writes this line may run outside the request's scope.
    customSuccessObject: (req, res, value: { responseTime: number }) => accessFields(req, res, value.responseTime),
    // The error itself is logged once, by whoever handled it (src/api/errors.ts): here only the outcome.
    customErrorObject: (req, res, _error, value: { responseTime: number }) =>
      accessFields(req, res, value.responseTime),
  });
  const scope: RequestHandler = (req, _res, next) => runInRequestScope(String(req.id), next);
  const timing: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    recordRoutePattern(req, res);
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpRequestDuration.observe(
        { method: req.method, route: routeOf(res), status_code: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
  return [accessLog, scope, timing];
}

function isProbe(req: IncomingMessage): boolean {
  const path = req.url?.split('?', 1)[0];
  return path === '/health' || path === '/metrics';
}

/**
 * `GET /leads/12 -> 200 in 4ms`. Words between the numbers: the logger masks runs of digits that
 * could be a phone number in every message, and `12 200 4` would be one.
 */
function accessLine(req: IncomingMessage, res: ServerResponse, responseTime?: number): string {
  const path = loggablePath((req as Partial<Request>).originalUrl ?? req.url ?? '');
  return `${req.method} ${path} -> ${res.statusCode}${responseTime === undefined ? '' : ` in ${responseTime}ms`}`;
}

/** `req` (method, path) is already bound to the line by pino-http. */
function accessFields(req: IncomingMessage, res: ServerResponse, responseTime: number) {
  return { reqId: String(req.id), res, route: routeOf(res), responseTime };
}

function routeOf(res: ServerResponse): string {
  return ((res as Response).locals?.routePattern as string | undefined) ?? UNMATCHED_ROUTE;
}

/**
 * Remembers the full pattern of the route that answers (`/leads/:id`, never `/leads/12`), for the
 * duration histogram's label and the access line. Express sets `req.route` when a route matches,
 * while `req.baseUrl` still holds the mount path of its router; by the time the response ends (or
 * an error has bubbled out to the app's handler) the mount path has been reset. So the pattern is
 * taken at that assignment.
 */
function recordRoutePattern(req: Request, res: Response): void {
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (typeof value?.path === 'string') res.locals.routePattern = joinPattern(req.baseUrl, value.path);
    },
  });
}

function joinPattern(base: string, path: string): string {
  const joined = `${base}${path === '/' ? '' : path}`;
  return joined === '' ? '/' : joined;
}
