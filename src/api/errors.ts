import type { ErrorRequestHandler, RequestHandler } from 'express';
import { type z } from 'zod';
import { AppError, InvalidInputError, type ErrorKind, type FieldIssue } from '../errors';
import type { Logger } from '../logging/logger';
import { UNMATCHED_ROUTE } from './observability';

/** The one table from an error's kind to its HTTP status. */
const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  unavailable: 503,
};

export const statusOf = (error: AppError): number => STATUS_OF[error.kind];

export function issuesFrom(location: FieldIssue['location'], error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    location,
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * The one place errors become responses. Our own errors (src/errors.ts) answer with their kind's
 * status and their code. A
 * client error raised by Express or its body parser (bad JSON, a body too large, an undecodable
 * Content-Encoding or percent-encoding) answers 4xx with a message of ours: theirs quote the input,
 * which may be a key being set or a token. Anything else is a 500 with no detail, and one log line
 * carrying the error (described by the logger's serializer: no SQL parameters, phone numbers or
 * tokens) beside the request's access line.
 */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof InvalidInputError) {
      res
        .status(statusOf(error))
        .json({ error: { code: error.code, message: 'Invalid request', issues: error.issues } });
      return;
    }
    if (error instanceof AppError) {
      res.status(statusOf(error)).json({ error: { code: error.code, message: error.message, ...error.details } });
      return;
    }
    const clientError = asClientError(error);
    if (clientError) {
      res.status(clientError.status).json({ error: { code: clientError.code, message: clientError.message } });
      return;
    }
    log.error({ err: error, method: req.method, route: res.locals.routePattern ?? UNMATCHED_ROUTE }, 'request failed');
    res.status(500).json({ error: { code: 'internal_error', message: 'Internal server error' } });
  };
}

/**
 * A JSON.parse reviver for request bodies: `__proto__` is never a field of ours, and objects built
 * from a body holding it (a lead's custom fields) would either drop it silently or, merged
 * carelessly, change a prototype. Refused at the parser, for every route.
 */
export function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new Error(PROTO_KEY_MESSAGE);
  return value;
}

const PROTO_KEY_MESSAGE = 'request body holds a "__proto__" key, which is never accepted';

interface ClientErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  code?: unknown;
  limit?: unknown;
}

/**
 * A 4xx that Express, its router or body-parser raised (http-errors sets `status` and `expose`),
 * as our status, code and message; undefined for anything else.
 */
export function asClientError(error: unknown): { status: number; code: string; message: string } | undefined {
  if (error instanceof URIError)
    return { status: 400, code: 'invalid_path', message: 'the request path is not valid percent-encoding' };
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ClientErrorLike;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status >= 500 || e.expose !== true) return undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      // body-parser strips every property of a parse error but its message; ours is recognised by it.
      if ((error as Error).message === PROTO_KEY_MESSAGE)
        return { status, code: 'invalid_body', message: PROTO_KEY_MESSAGE };
      return { status, code: 'invalid_body', message: 'request body is not valid JSON' };
    case 'entity.too.large':
      return {
        status,
        code: 'body_too_large',
        message: `request body is larger than ${typeof e.limit === 'number' ? `${e.limit} bytes` : 'allowed'}`,
      };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        status,
        code: 'unsupported_encoding',
        message: 'unsupported Content-Encoding or charset; send identity, gzip, deflate or br, in UTF-8',
      };
    case 'request.aborted':
    case 'request.size.invalid':
      return { status, code: 'invalid_body', message: 'request body ended before its Content-Length' };
  }
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return { status: 400, code: 'invalid_body', message: 'request body is not valid for its Content-Encoding' };
  }
  return { status, code: 'bad_request', message: 'the request could not be read' };
}
