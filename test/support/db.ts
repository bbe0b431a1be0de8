/**
 * A migrated, empty database for one test file. SQLite by default (a fresh file in its own temp
 * dir, removed on close); set DATABASE_URL to an mssql:// URL to run the same tests against a real
 * SQL Server. That database is shared, so its tables are emptied here: run such a suite with
 * `--no-file-parallelism`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMssqlUrl } from '../../src/db/url';
import { executeStatement, openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';

/** Children before parents, so deleting in this order never trips a foreign key. */
const TABLES_IN_DELETE_ORDER = [
  'CampaignRecipients',
  'Campaigns',
  'Segments',
  'CustomFieldDefinitions',
  'DripAssignmentEvents',
  'LeadDripAssignment',
  'DripSequenceSteps',
  'DripSequence',
  'WebhookEvents',
  'WhatsAppMessages',
  'Clients',
  'ConsoleSessions',
  'AuditLog',
  'ApiKeys',
  'Users',
  'MasterData',
  'MessageMaster',
  'TemplateSyncRuns',
  'CtaInteractions',
  'CtaFlowRuns',
  'CtaFlows',
  'IVRCallLog',
  'LeadNotes',
  'LeadTasks',
  'InfobipSyncPages',
  'InfobipSyncRuns',
  'SendWindowSlots',
] as const;

export async function createTestDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (url && isMssqlUrl(url)) {
    const db = await openDb(url);
    await migrate(db);
    for (const table of TABLES_IN_DELETE_ORDER) await executeStatement(db, `DELETE FROM [${table}]`);
    return db;
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'dripline-db-'));
  const db = await openDb(`file:${path.join(dir, 'test.db')}`);
  await migrate(db);
  return {
    ...db,
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh SQLite file URL in its own temp dir, for tests that open several clients on one file. */
export function tempSqliteUrl(): { url: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dripline-db-'));
  return { url: `file:${path.join(dir, 'test.db')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
