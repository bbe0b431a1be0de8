import type { ErrorRequestHandler, RequestHandler } from 'express';
import { type z } from 'zod';

/** An error the API answers with its own status and a stable machine-readable code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string): HttpError => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: Record<string, unknown>): HttpError =>
  new HttpError(409, code, message, details);

export interface FieldIssue {
  location: 'body' | 'query' | 'params';
  path: string;
  message: string;
}

export class ValidationError extends HttpError {
  constructor(readonly issues: FieldIssue[]) {
    super(400, 'validation_failed', issues.map((issue) => `${issue.location}.${issue.path}: ${issue.message}`).join('; '));
  }
}

export function issuesFrom(location: FieldIssue['location'], error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    location,
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** The one place errors become responses. Unknown errors are logged and answered without detail. */
export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof ValidationError) {
      res.status(400).json({ error: { code: error.code, message: 'Invalid request', issues: error.issues } });
      return;
    }
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: { code: error.code, message: error.message, ...error.details } });
      return;
    }
    if (isBodyParserError(error)) {
      // JSON.parse's message quotes the body around the error, which may be an API key being set.
      const message = error.type === 'entity.parse.failed' ? 'request body is not valid JSON' : error.message;
      res.status(error.status).json({ error: { code: 'invalid_body', message } });
      return;
    }
    log(`[api] ${req.method} ${req.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    res.status(500).json({ error: { code: 'internal_error', message: 'Internal server error' } });
  };
}

function isBodyParserError(error: unknown): error is { status: number; message: string; type: unknown } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'type' in error &&
    typeof (error as unknown as { status?: unknown }).status === 'number' &&
    (error as unknown as { status: number }).status < 500
  );
}
