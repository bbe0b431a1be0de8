/** Small helpers the query files share: paging, chunking, JSON columns, affected-row counts. */

export interface PageParams {
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/**
 * SQL Server refuses a statement with more than 2,100 parameters. Lists of ids and multi-row
 * inserts are split so each statement stays well below it, leaving room for the other parameters.
 */
export const MAX_IDS_PER_STATEMENT = 1_000;
export const MAX_PARAMS_PER_STATEMENT = 2_000;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function pageOffset({ page, pageSize }: PageParams): number {
  if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a positive integer, got ${page}`);
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  return (page - 1) * pageSize;
}

/**
 * Rows changed by an update or delete. The shared functions are typed against libsql, whose
 * result says `rowsAffected: number`; node-mssql's says `rowsAffected: number[]` (one per
 * statement), so both are accepted.
 */
export function affectedRows(result: { rowsAffected: number | number[] }): number {
  const value: number | number[] = result.rowsAffected;
  return Array.isArray(value) ? value.reduce((sum, n) => sum + n, 0) : value;
}

/** JSON columns hold text in both dialects; a row written by hand that is not JSON is a bug. */
export function parseJson<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`Column ${column} does not hold valid JSON: ${text.slice(0, 80)}`);
  }
}

export function firstOrThrow<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}
