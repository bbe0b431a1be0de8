/**
 * Recognising the database's own refusals. Drizzle wraps driver errors (`DrizzleQueryError`), so
 * the driver's error is found by walking the `cause` chain.
 */

const MSSQL_UNIQUE_VIOLATIONS = new Set([
  2601, // duplicate key row in a unique index (our filtered unique indexes)
  2627, // violation of a UNIQUE or PRIMARY KEY constraint
]);

/** True when `err` says a unique index or constraint refused the row, in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const candidate = e as {
      code?: unknown;
      extendedCode?: unknown;
      number?: unknown;
      message?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (
      candidate.extendedCode === 'SQLITE_CONSTRAINT_UNIQUE' ||
      candidate.extendedCode === 'SQLITE_CONSTRAINT_PRIMARYKEY'
    )
      return true;
    if (typeof candidate.number === 'number' && MSSQL_UNIQUE_VIOLATIONS.has(candidate.number)) return true;
    e = candidate.cause ?? candidate.originalError;
  }
  return false;
}
