import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDb, type Db } from '../../src/db/client';
import { migrate, readMigrations, splitMssqlBatches, splitSqliteStatements } from '../../src/db/migrate';
import { tempSqliteUrl } from '../support/db';

const execFileAsync = promisify(execFile);
const TSX = path.join(__dirname, '../../node_modules/.bin/tsx');
const CHILD = path.join(__dirname, 'fixtures/migrate-child.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openTemp(): Promise<{ url: string; db: Db }> {
  const { url, cleanup } = tempSqliteUrl();
  cleanups.push(cleanup);
  const db = await openDb(url);
  cleanups.push(() => db.close());
  return { url, db };
}

/** Every migration file shipped, in order: each must be applied exactly once. */
const SHIPPED = readMigrations('sqlite').map((migration) => migration.name);

describe('migrate', () => {
  it('ships the migrations in order, starting with the initial schema', () => {
    expect(SHIPPED[0]).toBe('0001_init.sql');
    expect(SHIPPED).toEqual([...SHIPPED].sort());
  });

  it('applies each migration once and records it in __DriplineMigrations', async () => {
    const { db } = await openTemp();

    expect(await migrate(db)).toEqual(SHIPPED);
    expect(await migrate(db)).toEqual([]);

    const rows = await db.orm.all<{ Name: string; AppliedAt: number }>(
      sql`select Name, AppliedAt from __DriplineMigrations`,
    );
    expect(rows.map((row) => row.Name)).toEqual(SHIPPED);
    expect(rows[0]!.AppliedAt).toBeGreaterThan(0);
  });

  it('two processes migrating the same file at once apply it exactly once between them', async () => {
    const { url, db } = await openTemp();
    const startAt = String(Date.now() + 1_500);
    const runChild = () => execFileAsync(TSX, [CHILD, url, startAt], { cwd: path.join(__dirname, '../..') });

    const [a, b] = await Promise.all([runChild(), runChild()]);

    const applied = [...JSON.parse(a.stdout), ...JSON.parse(b.stdout)];
    expect(applied.sort()).toEqual(SHIPPED);
    expect(await migrate(db)).toEqual([]);
  }, 30_000);

  it('two clients of one process migrating at once apply it once (they queue instead of deadlocking)', async () => {
    const { url, db } = await openTemp();
    const other = await openDb(url);
    cleanups.push(() => other.close());

    const [a, b] = await Promise.all([migrate(db), migrate(other)]);

    expect([...a, ...b].sort()).toEqual(SHIPPED);
  });

  it('a migration that fails leaves no trace, so it is retried whole next time', async () => {
    const { db } = await openTemp();
    const broken = [
      { name: '0001_broken.sql', statements: ['CREATE TABLE Half (Id INTEGER)', 'CREATE TABLE oops syntax error'] },
    ];

    await expect(migrate(db, broken)).rejects.toThrow();

    const tables = await db.orm.all<{ name: string }>(sql`select name from sqlite_master where name = 'Half'`);
    expect(tables).toEqual([]);
    const recorded = await db.orm.all(sql`select Name from __DriplineMigrations`);
    expect(recorded).toEqual([]);
  });
});

describe('migration files', () => {
  it('SQLite statements are split on the semicolons ending lines, comments dropped', () => {
    expect(
      splitSqliteStatements('-- c\nCREATE TABLE a (x);\n\nCREATE INDEX i ON a (x)\n  WHERE x IS NOT NULL;\n'),
    ).toEqual(['CREATE TABLE a (x)', 'CREATE INDEX i ON a (x)\n  WHERE x IS NOT NULL']);
  });

  it('SQL Server batches are split on lines holding only GO, comment-only batches dropped', () => {
    expect(
      splitMssqlBatches('-- header\n\nCREATE TABLE [a] (x int);\nGO\nCREATE INDEX [i] ON [a] (x);\n  go  \n'),
    ).toEqual(['-- header\n\nCREATE TABLE [a] (x int);', 'CREATE INDEX [i] ON [a] (x);']);
    expect(splitMssqlBatches('-- only a comment\nGO\n')).toEqual([]);
  });

  it('both dialects ship the same migration names', () => {
    expect(readMigrations('mssql').map((m) => m.name)).toEqual(readMigrations('sqlite').map((m) => m.name));
  });

  it('the SQL Server migrations never rely on GO inside a line (every GO stands alone)', () => {
    const dir = path.join(__dirname, '../../src/db/migrations/mssql');
    const text = SHIPPED.map((name) => readFileSync(path.join(dir, name), 'utf8')).join('\n');
    const inlineGo = text
      .split('\n')
      .filter((line) => /\bGO\b/.test(line) && line.trim() !== 'GO' && !line.trimStart().startsWith('--'));
    expect(inlineGo).toEqual([]);
  });
});
