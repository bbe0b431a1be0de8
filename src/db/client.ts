/**
 * Opens the database named by a URL and hands back one `Db` shape for both dialects.
 *
 * How "query functions written once" works: shared query functions are typed against the SQLite
 * flavour (`orm` and `schema` below). For SQL Server, `openDb` puts the mssql orm and the mssql
 * schema in the same slots. The builder calls the shared functions use (select/from/where/orderBy,
 * insert/values, update/set, delete, eq/and/inArray/sql, count) have the same shape in both
 * drizzle dialects and render dialect-correct SQL at runtime, because the table and column objects
 * are the dialect's own. Where the two differ (ids back from an insert, paging, raw statements),
 * query functions branch on `db.dialect` and use `asMssql(db)`, which returns the real mssql types,
 * so that path is type-checked too. `toDb` and `asMssql` are the only places the slots are cast.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleLibsql, type LibSQLRunResult } from 'drizzle-orm/libsql';
import type { Logger } from 'drizzle-orm/logger';
import {
  drizzle as drizzleMssql,
  type NodeMsSqlClient,
  type NodeMsSqlPreparedQueryHKT,
  type NodeMsSqlQueryResultHKT,
} from 'drizzle-orm/node-mssql';
import type { MsSqlDatabase } from 'drizzle-orm/mssql-core';
import type { SQLiteAsyncDatabase } from 'drizzle-orm/sqlite-core';
import mssql from 'mssql';
import { isMssqlUrl } from './url';
import * as mssqlSchema from './schema/mssql';
import * as sqliteSchema from './schema/sqlite';
import { gateWrites } from './sqlite-gate';

export { mssqlSchema, sqliteSchema };

export type Dialect = 'sqlite' | 'mssql';

/** The libsql database or one of its transactions: both have the full query builder. */
export type SqliteOrm = SQLiteAsyncDatabase<'async', LibSQLRunResult>;
/** The node-mssql database or one of its transactions. */
export type MssqlOrm = MsSqlDatabase<NodeMsSqlQueryResultHKT, NodeMsSqlPreparedQueryHKT>;

export interface Db {
  dialect: Dialect;
  /** Typed as SQLite; holds the mssql orm when `dialect === 'mssql'` (see the file comment). */
  orm: SqliteOrm;
  /** Typed as SQLite; holds the mssql tables when `dialect === 'mssql'`. */
  schema: typeof sqliteSchema;
  close(): Promise<void>;
}

export interface MssqlDb {
  orm: MssqlOrm;
  schema: typeof mssqlSchema;
}

export interface OpenDbOptions {
  /** Receives every statement and its parameters (tests use it to capture SQL). */
  logger?: Logger;
}

/** How long a SQLite write waits for the other process's write lock before failing (ms). */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export async function openDb(url: string, options: OpenDbOptions = {}): Promise<Db> {
  if (isMssqlUrl(url)) {
    const pool = new mssql.ConnectionPool(mssqlConfigFromUrl(url));
    await pool.connect();
    return mssqlDbFromClient(pool, { ...options, close: () => pool.close() });
  }
  return openSqlite(url, options);
}

async function openSqlite(url: string, options: OpenDbOptions): Promise<Db> {
  const filePath = sqliteFilePath(url);
  if (filePath) mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });

  // libsql's `timeout` is the SQLite busy timeout in milliseconds: the API and the worker are two
  // processes writing one file, so a writer waits for the other's lock instead of failing at once.
  // Within this process writers queue in JS instead (see sqlite-gate.ts).
  const rawClient = createClient({ url, timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    // WAL lets readers run beside the single writer; the mode is stored in the file itself.
    await rawClient.execute('PRAGMA journal_mode = WAL');
    // The client keeps a pool of connections and these two are per connection: libsql opens every
    // connection with foreign keys on (asserted in test/db/client.test.ts), and synchronous=NORMAL,
    // safe under WAL, only reaches the connections it runs on; the rest keep the stricter FULL.
    await rawClient.execute('PRAGMA synchronous = NORMAL');
    await rawClient.execute('PRAGMA foreign_keys = ON');
  } catch (err) {
    rawClient.close();
    throw err;
  }
  const client = gateWrites(rawClient, SQLITE_BUSY_TIMEOUT_MS, filePath && path.resolve(filePath));
  const orm = drizzleLibsql({ client, logger: options.logger });
  return {
    dialect: 'sqlite',
    orm,
    schema: sqliteSchema,
    close: async () => rawClient.close(),
  };
}

/** `file:data/x.db` → `data/x.db`; undefined for in-memory URLs. */
function sqliteFilePath(url: string): string | undefined {
  if (!url.startsWith('file:')) throw new Error(`Unsupported DATABASE_URL scheme: ${url.split(':')[0]}`);
  const rest = url.slice('file:'.length).split('?')[0] ?? '';
  if (rest === '' || rest === ':memory:') return undefined;
  return rest.startsWith('//') ? new URL(url).pathname : rest;
}

/**
 * `mssql://user:pass@host:1433/db?encrypt=false&trustServerCertificate=true` → pool config.
 * `sqlserver://` is accepted as a synonym. Encryption is on unless the URL turns it off.
 */
export function mssqlConfigFromUrl(url: string): mssql.config {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const flag = (name: string, fallback: boolean): boolean => {
    const value = parsed.searchParams.get(name);
    return value === null ? fallback : value === 'true' || value === '1';
  };
  return {
    server: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 1433,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    ...(database ? { database } : {}),
    options: {
      encrypt: flag('encrypt', true),
      trustServerCertificate: flag('trustServerCertificate', false),
    },
  };
}

/**
 * Wraps any node-mssql client (a connected `ConnectionPool`, or a recording fake in tests) as a
 * `Db`. `close` releases whatever the caller opened.
 */
export function mssqlDbFromClient(
  client: NodeMsSqlClient,
  options: OpenDbOptions & { close?: () => Promise<void> } = {},
): Db {
  const orm: MssqlOrm = drizzleMssql({ client, logger: options.logger });
  return toDb('mssql', orm, options.close ?? (async () => {}));
}

/** The one place the mssql orm and schema are put in the SQLite-typed slots. */
function toDb(dialect: 'mssql', orm: MssqlOrm, close: () => Promise<void>): Db {
  return {
    dialect,
    orm: orm as unknown as SqliteOrm,
    schema: mssqlSchema as unknown as typeof sqliteSchema,
    close,
  };
}

/** The real mssql types behind a `Db` opened on SQL Server, for dialect-specific branches. */
export function asMssql(db: Db): MssqlDb {
  if (db.dialect !== 'mssql') throw new Error('asMssql called on a SQLite database');
  return { orm: db.orm as unknown as MssqlOrm, schema: db.schema as unknown as typeof mssqlSchema };
}

/**
 * Runs `fn` in one transaction. The `Db` it receives is scoped to the transaction: pass it to any
 * query function. SQLite takes the write lock at BEGIN (libsql's default 'write' mode), so two
 * processes serialise instead of failing halfway.
 */
export async function withTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const close = () => Promise.reject(new Error('A transaction-scoped Db cannot be closed'));
  if (db.dialect === 'mssql') {
    return asMssql(db).orm.transaction((tx) => fn(toDb('mssql', tx, close)));
  }
  return db.orm.transaction((tx) => fn({ dialect: 'sqlite', orm: tx, schema: db.schema, close }));
}

/** Runs one statement that returns no rows, in either dialect. */
export async function executeStatement(db: Db, statement: string): Promise<void> {
  if (db.dialect === 'mssql') {
    await asMssql(db).orm.execute(sql.raw(statement));
    return;
  }
  await db.orm.run(sql.raw(statement));
}
