/** Small helpers the query files share: paging, chunking, inserts, JSON columns, affected-row counts. */
import { count, getTableName, type SQL } from 'drizzle-orm';
import type { MsSqlTable } from 'drizzle-orm/mssql-core';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { asMssql, type Db } from '../client';

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
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  return (page - 1) * pageSize;
}

type Tables = Db['schema'];
type TableName = { [K in keyof Tables]: Tables[K] extends SQLiteTable ? K : never }[keyof Tables];

export interface PageQuery<T> {
  where?: SQL | undefined;
  /** The order of the whole list: pages are slices of it. */
  orderBy: (table: T) => (SQL | SQLiteColumn)[];
}

/**
 * One page of a table's rows and the count of all that match, in either dialect: SQLite's
 * `LIMIT … OFFSET …`, SQL Server's `OFFSET … ROWS FETCH NEXT … ROWS ONLY` (which needs the ORDER BY
 * every list has anyway).
 */
export async function selectPage<K extends TableName>(
  db: Db,
  tableName: K,
  params: PageParams,
  query: PageQuery<Tables[K]>,
): Promise<Page<Tables[K]['$inferSelect']>> {
  const table = db.schema[tableName] as SQLiteTable;
  const offset = pageOffset(params);
  const order = query.orderBy(db.schema[tableName]);
  const [totalRow] = await db.orm.select({ total: count() }).from(table).where(query.where);
  // db.schema holds the dialect's own tables (typed as SQLite), so `table` and `order` fit either builder.
  const items =
    db.dialect === 'mssql'
      ? await asMssql(db)
          .orm.select()
          .from(table as never)
          .where(query.where)
          .orderBy(...(order as never[]))
          .offset(offset)
          .fetch(params.pageSize)
      : await db.orm
          .select()
          .from(table)
          .where(query.where)
          .orderBy(...order)
          .limit(params.pageSize)
          .offset(offset);
  return {
    items: items as Tables[K]['$inferSelect'][],
    total: totalRow?.total ?? 0,
    page: params.page,
    pageSize: params.pageSize,
  };
}

/**
 * Inserts one row and returns it as stored (its id and defaults filled in), in either dialect:
 * SQLite's `RETURNING`, SQL Server's `OUTPUT INSERTED.*`. A unique violation is thrown as the
 * driver raised it, for the caller's isUniqueViolation.
 */
export async function insertReturning<K extends TableName>(
  db: Db,
  tableName: K,
  values: Tables[K]['$inferInsert'],
): Promise<Tables[K]['$inferSelect']> {
  const table = db.schema[tableName] as SQLiteTable;
  // db.schema holds the dialect's own tables (typed as SQLite), so `table` fits either builder.
  const rows =
    db.dialect === 'mssql'
      ? await asMssql(db)
          .orm.insert(table as unknown as MsSqlTable)
          .output()
          .values(values as never)
      : await db.orm
          .insert(table)
          .values(values as never)
          .returning();
  return firstOrThrow(rows as Tables[K]['$inferSelect'][], `insert ${getTableName(table)}`);
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
