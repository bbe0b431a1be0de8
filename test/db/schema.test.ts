/**
 * The drizzle schemas and the hand-written migrations describe the same database, and the two
 * dialect schemas describe the same tables: every table, column, type, nullability, default,
 * unique constraint, index and foreign key is checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTableColumns, sql } from 'drizzle-orm';
import { getTableConfig as getMssqlTableConfig } from 'drizzle-orm/mssql-core';
import { getTableConfig as getSqliteTableConfig } from 'drizzle-orm/sqlite-core';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import * as mssqlSchema from '../../src/db/schema/mssql';
import * as sqliteSchema from '../../src/db/schema/sqlite';
import { tempSqliteUrl } from '../support/db';

const sqliteTables = Object.values(sqliteSchema).map(getSqliteTableConfig);
const mssqlTables = Object.values(mssqlSchema).map(getMssqlTableConfig);

describe('the two dialect schemas', () => {
  it('declare the same tables under the same export names', () => {
    expect(Object.keys(mssqlSchema).sort()).toEqual(Object.keys(sqliteSchema).sort());
    for (const key of Object.keys(sqliteSchema) as (keyof typeof sqliteSchema)[]) {
      expect(getMssqlTableConfig(mssqlSchema[key]).name).toBe(getSqliteTableConfig(sqliteSchema[key]).name);
    }
  });

  it('declare the same columns: TS name, SQL name, nullability, default, primary key and uniqueness', () => {
    for (const key of Object.keys(sqliteSchema) as (keyof typeof sqliteSchema)[]) {
      const shape = (
        columns: Record<
          string,
          { name: string; notNull: boolean; default: unknown; primary: boolean; isUnique: boolean }
        >,
      ) =>
        Object.entries(columns).map(([tsName, c]) => ({
          tsName,
          name: c.name,
          notNull: c.notNull,
          default: c.default,
          primary: c.primary,
          unique: c.isUnique,
        }));
      expect(shape(getTableColumns(mssqlSchema[key])), key).toEqual(shape(getTableColumns(sqliteSchema[key])));
    }
  });

  it('declare the same indexes and foreign keys', () => {
    const byName = new Map(mssqlTables.map((t) => [t.name, t]));
    for (const table of sqliteTables) {
      const other = byName.get(table.name)!;
      const indexes = (list: { config: { name: string; unique?: boolean; where?: unknown; columns: unknown[] } }[]) =>
        list.map((i) => [
          i.config.name,
          Boolean(i.config.unique),
          i.config.where !== undefined,
          columnNames(i.config.columns),
        ]);
      expect(indexes(other.indexes), table.name).toEqual(indexes(table.indexes));
      const fks = (
        list: {
          reference: () => { columns: { name: string }[]; foreignTable: unknown; foreignColumns: { name: string }[] };
        }[],
      ) =>
        list.map((fk) => {
          const ref = fk.reference();
          return [ref.columns.map((c) => c.name), ref.foreignColumns.map((c) => c.name)];
        });
      expect(fks(other.foreignKeys), table.name).toEqual(fks(table.foreignKeys));
    }
  });
});

function columnNames(columns: unknown[]): string[] {
  return columns.map((c) => (c as { name: string }).name);
}

describe('SQLite migration vs schema', () => {
  let db: Db;
  let cleanup: () => void;
  beforeAll(async () => {
    const temp = tempSqliteUrl();
    cleanup = temp.cleanup;
    db = await openDb(temp.url);
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    cleanup();
  });

  interface ColumnInfo {
    name: string;
    type: string;
    notnull: number;
    dflt_value: string | null;
    pk: number;
  }
  interface IndexInfo {
    name: string;
    unique: number;
    partial: number;
    origin: string;
  }

  it.each(sqliteTables.map((t) => [t.name, t] as const))(
    '%s has exactly the schema’s columns, types, nullability and defaults',
    async (name, table) => {
      const info = await db.orm.all<ColumnInfo>(sql`select * from pragma_table_info(${name})`);
      const actual = info.map((c) => ({
        name: c.name,
        type: c.type.toLowerCase(),
        notNull: c.notnull === 1 || c.pk === 1,
        hasDefault: c.dflt_value !== null,
      }));
      const expected = table.columns.map((c) => ({
        name: c.name,
        type: c.getSQLType(),
        notNull: c.notNull,
        hasDefault: c.default !== undefined || (c.defaultFn !== undefined && !c.primary),
      }));
      expect(actual).toEqual(expected);
    },
  );

  it.each(sqliteTables.map((t) => [t.name, t] as const))(
    '%s has the schema’s indexes, unique columns and foreign keys',
    async (name, table) => {
      const indexList = await db.orm.all<IndexInfo>(sql`select * from pragma_index_list(${name})`);
      const indexColumns = async (index: string) =>
        (await db.orm.all<{ name: string }>(sql`select name from pragma_index_info(${index}) order by seqno`)).map(
          (c) => c.name,
        );

      const named = indexList.filter((i) => i.origin === 'c');
      const actualNamed = await Promise.all(
        named.map(async (i) => [i.name, i.unique === 1, i.partial === 1, await indexColumns(i.name)]),
      );
      const expectedNamed = table.indexes.map((i) => [
        i.config.name,
        Boolean(i.config.unique),
        i.config.where !== undefined,
        columnNames(i.config.columns),
      ]);
      expect(actualNamed.sort()).toEqual(expectedNamed.sort());

      const uniqueConstraintColumns = await Promise.all(
        indexList.filter((i) => i.origin === 'u').map((i) => indexColumns(i.name)),
      );
      expect(uniqueConstraintColumns.sort()).toEqual(table.columns.filter((c) => c.isUnique).map((c) => [c.name]));

      const fks = await db.orm.all<{ table: string; from: string; to: string }>(
        sql`select * from pragma_foreign_key_list(${name})`,
      );
      const expectedFks = table.foreignKeys.map((fk) => {
        const ref = fk.reference();
        return {
          table: getSqliteTableConfig(ref.foreignTable).name,
          from: ref.columns[0]!.name,
          to: ref.foreignColumns[0]!.name,
        };
      });
      expect(
        fks.map(({ table: t, from, to }) => ({ table: t, from, to })).sort((a, b) => a.from.localeCompare(b.from)),
      ).toEqual(expectedFks.sort((a, b) => a.from.localeCompare(b.from)));
    },
  );

  it('creates no tables beyond the schema’s and the migration ledger', async () => {
    const tables = await db.orm.all<{ name: string }>(
      sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`,
    );
    expect(tables.map((t) => t.name).sort()).toEqual(
      [...sqliteTables.map((t) => t.name), '__DriplineMigrations'].sort(),
    );
  });
});

describe('SQL Server migration vs schema', () => {
  const dir = path.join(__dirname, '../../src/db/migrations/mssql');
  const ddl = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => readFileSync(path.join(dir, name), 'utf8'))
    .join('\n');

  interface DdlColumn {
    name: string;
    type: string;
    rest: string;
  }
  const createdTables = new Map<string, DdlColumn[]>();
  for (const match of ddl.matchAll(/CREATE TABLE \[(\w+)\] \(\n([\s\S]*?)\n\);/g)) {
    const columns = match[2]!
      .split('\n')
      .map((line) => /^\s*\[(\w+)\]\s+(\w+(?:\([\w,]+\))?)(.*?),?$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1]!, type: m[2]!.toLowerCase(), rest: m[3]! }));
    createdTables.set(match[1]!, columns);
  }
  // Later migrations add columns with `ALTER TABLE [T] ADD <column>, <column>;`.
  for (const match of ddl.matchAll(/ALTER TABLE \[(\w+)\] ADD\n([\s\S]*?);\n/g)) {
    const added = match[2]!
      .split('\n')
      .map((line) => /^\s*\[(\w+)\]\s+(\w+(?:\([\w,]+\))?)(.*?),?$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1]!, type: m[2]!.toLowerCase(), rest: m[3]! }));
    createdTables.get(match[1]!)?.push(...added);
  }
  // …and widen one with `ALTER TABLE [T] ALTER COLUMN [C] <type> <nullability>;`.
  for (const match of ddl.matchAll(/ALTER TABLE \[(\w+)\] ALTER COLUMN \[(\w+)\] (\w+(?:\([\w,]+\))?)(.*?);\n/g)) {
    const column = createdTables.get(match[1]!)?.find((c) => c.name === match[2]);
    if (column)
      Object.assign(column, {
        type: match[3]!.toLowerCase(),
        rest: column.rest.replace(/\bNOT NULL\b|\bNULL\b/, match[4]!.trim()),
      });
  }
  // …and replace an index with `DROP INDEX [I] ON [T];` before creating its successor.
  const dropped = new Set([...ddl.matchAll(/DROP INDEX \[(\w+)\] ON \[(\w+)\];/g)].map((m) => `${m[2]}.${m[1]}`));
  const createdIndexes = [
    ...ddl.matchAll(/CREATE (UNIQUE )?INDEX \[(\w+)\] ON \[(\w+)\] \(([^)]*)\)(\s*WHERE [^;]+)?;/g),
  ]
    .map((m) => ({
      name: m[2]!,
      unique: m[1] !== undefined,
      table: m[3]!,
      columns: m[4]!.split(',').map((c) => c.trim().replace(/^\[|\]$/g, '')),
      filtered: m[5] !== undefined,
    }))
    .filter((index) => !dropped.has(`${index.table}.${index.name}`));

  it('creates exactly the schema’s tables', () => {
    expect([...createdTables.keys()].sort()).toEqual(mssqlTables.map((t) => t.name).sort());
  });

  it.each(mssqlTables.map((t) => [t.name, t] as const))(
    '%s has exactly the schema’s columns, types, nullability, defaults and keys',
    (name, table) => {
      const columns = createdTables.get(name) ?? [];
      expect(columns.map((c) => c.name)).toEqual(table.columns.map((c) => c.name));
      for (const column of table.columns) {
        const created = columns.find((c) => c.name === column.name)!;
        const context = `${name}.${column.name}`;
        expect(created.type, context).toBe(column.getSQLType());
        expect(/\bNOT NULL\b/.test(created.rest), context).toBe(column.notNull);
        expect(/\bDEFAULT\b/.test(created.rest), context).toBe(
          column.default !== undefined || (column.defaultFn !== undefined && !column.primary),
        );
        expect(/\bPRIMARY KEY\b/.test(created.rest) && /\bIDENTITY\(1,1\)/.test(created.rest), context).toBe(
          column.primary,
        );
        expect(new RegExp(`CONSTRAINT \\[${column.uniqueName}\\] UNIQUE`).test(created.rest), context).toBe(
          column.isUnique,
        );
      }
      const references = columns
        .filter((c) => /\bREFERENCES\b/.test(c.rest))
        .map((c) => [c.name, /REFERENCES \[(\w+)\] \(\[(\w+)\]\)/.exec(c.rest)?.slice(1)]);
      const expectedReferences = table.foreignKeys.map((fk) => {
        const ref = fk.reference();
        return [ref.columns[0]!.name, [getMssqlTableConfig(ref.foreignTable).name, ref.foreignColumns[0]!.name]];
      });
      expect(references).toEqual(expectedReferences);
    },
  );

  it.each(mssqlTables.map((t) => [t.name, t] as const))(
    '%s has the schema’s indexes, filtered where the schema filters',
    (name, table) => {
      const actual = createdIndexes
        .filter((i) => i.table === name)
        .map(({ name: n, unique, columns, filtered }) => ({ name: n, unique, columns, filtered }));
      const expected = table.indexes.map((i) => ({
        name: i.config.name,
        unique: Boolean(i.config.unique),
        columns: columnNames(i.config.columns),
        filtered: i.config.where !== undefined,
      }));
      expect(actual).toEqual(expected);
    },
  );
});
