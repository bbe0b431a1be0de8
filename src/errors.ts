/**
 * Errors the application raises on purpose, each with a literal `code` clients can rely on and a
 * `kind` saying what went wrong in HTTP-free terms. Only the API shell turns a kind into a status
 * (src/api/errors.ts); services, routes and the CLI raise these and never name a status.
 */

export type ErrorKind =
  'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'method_not_allowed' | 'conflict' | 'unavailable';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    /** Extra fields of the error body (e.g. the id of the lead that already has this phone). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/**
 * An error a module raises for callers to tell apart by `code`, with no HTTP meaning of its own:
 * whoever catches it decides what it is (an API helper maps some codes to an AppError, the rest
 * stay 500s).
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem with one input field: where it came from, its path, and what is wrong. */
export interface FieldIssue {
  location: 'body' | 'query' | 'params';
  path: string;
  message: string;
}

/** Input that breaks a rule; every issue is reported at once. */
export class InvalidInputError extends AppError {
  constructor(readonly issues: FieldIssue[]) {
    super(
      'invalid',
      'validation_failed',
      issues.map((issue) => `${issue.location}.${issue.path}: ${issue.message}`).join('; '),
    );
    this.name = 'InvalidInputError';
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', 'not_found', `${what} not found`);

export const conflict = (code: string, message: string, details?: Record<string, unknown>): AppError =>
  new AppError('conflict', code, message, details);

/** One invalid body field. */
export const invalidField = (path: string, message: string): InvalidInputError =>
  new InvalidInputError([{ location: 'body', path, message }]);
