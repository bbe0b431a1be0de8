/**
 * Applies the hand-written migrations in `migrations/<dialect>/` in name order, each once, and
 * records them in `__DriplineMigrations`. The API and the worker both call this at start, maybe at
 * the same moment, so each file is applied inside a transaction that first takes a lock and then
 * re-checks whether the file is already recorded:
 * - SQLite: the transaction begins IMMEDIATE (libsql's 'write' mode), taking the file's write lock;
 *   the other process waits on the busy timeout and then sees the file recorded.
 * - SQL Server: `sp_getapplock` on a named resource, held until the transaction ends.
 * DDL is transactional in both, so a failed file leaves nothing half-applied.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { asMssql, executeStatement, withTransaction, type Db, type Dialect } from './client';

export const MIGRATIONS_TABLE = '__DriplineMigrations';
const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
const MSSQL_LOCK_TIMEOUT_MS = 60_000;

export interface Migration {
  name: string;
  /** Statements (SQLite) or batches (SQL Server), in order. */
  statements: string[];
}

/** Migrations found for a dialect, in the order they apply. */
export function readMigrations(dialect: Dialect, dir = path.join(MIGRATIONS_DIR, dialect)): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      return { name: file, statements: dialect === 'mssql' ? splitMssqlBatches(text) : splitSqliteStatements(text) };
    });
}

/** SQLite runs one statement per call. Our DDL has no `;` inside literals or triggers. */
export function splitSqliteStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/** `GO` is a client-side batch separator (sqlcmd, SSMS), not T-SQL: split on lines holding only it. */
export function splitMssqlBatches(text: string): string[] {
  return text
    .split(/^\s*GO\s*$/im)
    .map((batch) => batch.trim())
    .filter((batch) => batch.split('\n').some((line) => line.trim() !== '' && !line.trimStart().startsWith('--')));
}

/** Applies pending migrations; returns the names applied by this call. */
export async function migrate(db: Db, migrations: Migration[] = readMigrations(db.dialect)): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    await executeStatement(
      db,
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (Name TEXT NOT NULL PRIMARY KEY, AppliedAt INTEGER NOT NULL)`,
    );
  }
  const applied: string[] = [];
  for (const migration of migrations) {
    const didApply = await withTransaction(db, async (tx) => {
      if (tx.dialect === 'mssql') await lockAndEnsureMssqlTable(tx);
      if (await isApplied(tx, migration.name)) return false;
      for (const statement of migration.statements) await executeStatement(tx, statement);
      await recordApplied(tx, migration.name);
      return true;
    });
    if (didApply) applied.push(migration.name);
  }
  return applied;
}

async function lockAndEnsureMssqlTable(tx: Db): Promise<void> {
  const { orm } = asMssql(tx);
  await orm.execute(
    sql.raw(`DECLARE @result int;
EXEC @result = sp_getapplock @Resource = N'Dripline.migrate', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = ${MSSQL_LOCK_TIMEOUT_MS};
IF @result < 0 THROW 50000, N'Timed out waiting for the migration lock held by another process', 1;`),
  );
  await orm.execute(
    sql.raw(`IF OBJECT_ID(N'${MIGRATIONS_TABLE}', N'U') IS NULL
CREATE TABLE [${MIGRATIONS_TABLE}] ([Name] nvarchar(200) NOT NULL CONSTRAINT [PK_${MIGRATIONS_TABLE}] PRIMARY KEY, [AppliedAt] datetime2(3) NOT NULL);`),
  );
}

async function isApplied(tx: Db, name: string): Promise<boolean> {
  const query = sql`SELECT ${sql.identifier('Name')} FROM ${sql.identifier(MIGRATIONS_TABLE)} WHERE ${sql.identifier('Name')} = ${name}`;
  const rows = tx.dialect === 'mssql' ? await asMssql(tx).orm.execute(query, 'objects') : await tx.orm.all(query);
  return rows.length > 0;
}

async function recordApplied(tx: Db, name: string): Promise<void> {
  const query = sql`INSERT INTO ${sql.identifier(MIGRATIONS_TABLE)} (${sql.identifier('Name')}, ${sql.identifier('AppliedAt')}) VALUES (${name}, ${new Date()})`;
  if (tx.dialect === 'mssql') await asMssql(tx).orm.execute(query);
  else await tx.orm.run(query);
}
