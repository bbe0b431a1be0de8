/**
 * A stand-in for an mssql `ConnectionPool` that records what drizzle's node-mssql session sends
 * (`request().input(...)`, `request().query(sql)`, and `transaction()` begin/commit/rollback) and
 * answers with canned results, so the T-SQL of the query functions can be asserted without a
 * SQL Server.
 */
import type { NodeMsSqlClient } from 'drizzle-orm/node-mssql';
import { mssqlDbFromClient, type Db } from '../../src/db/client';

export interface RecordedQuery {
  sql: string;
  /** By position: `params[0]` is `@par0`. */
  params: unknown[];
}

export interface CannedResult {
  /** Rows as arrays when drizzle asks for array rows (selects, OUTPUT), else as objects. */
  recordset?: unknown[];
  rowsAffected?: number[];
}

export type Responder = (query: RecordedQuery) => CannedResult | undefined;

export interface RecordingMssql {
  db: Db;
  queries: RecordedQuery[];
  /** 'begin' | 'commit' | 'rollback', in order. */
  transactionEvents: string[];
}

export function createRecordingMssql(respond: Responder = () => undefined): RecordingMssql {
  const queries: RecordedQuery[] = [];
  const transactionEvents: string[] = [];

  class FakeRequest {
    arrayRowMode = false;
    private readonly params: unknown[] = [];

    input(name: string, ...typeAndValue: unknown[]): this {
      // node-mssql's session passes (name, value), or (name, DateTime2(7), value) for dates.
      this.params[Number(name.replace(/^par/, ''))] = typeAndValue[typeAndValue.length - 1];
      return this;
    }

    async query(text: string) {
      const recorded = { sql: text, params: [...this.params] };
      queries.push(recorded);
      const canned = respond(recorded) ?? {};
      const recordset = canned.recordset ?? [];
      return {
        recordset,
        recordsets: [recordset],
        rowsAffected: canned.rowsAffected ?? [recordset.length],
        output: {},
      };
    }
  }

  const pool = {
    request: () => new FakeRequest(),
    transaction: () => ({
      begin: async () => void transactionEvents.push('begin'),
      commit: async () => void transactionEvents.push('commit'),
      rollback: async () => void transactionEvents.push('rollback'),
      request: () => new FakeRequest(),
    }),
  };
  return { db: mssqlDbFromClient(pool as unknown as NodeMsSqlClient), queries, transactionEvents };
}
