/** The CRM side of a bench's set-up, and where its results go. */
import fs from 'node:fs';
import path from 'node:path';
import { count, eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client';

/** One multi-row insert per 500 leads in one transaction; distinct mobile numbers for the unique index. */
export async function insertBenchLeads(db: Db, howMany: number): Promise<number[]> {
  const { clients } = db.schema;
  const now = new Date();
  const rows = Array.from({ length: howMany }, (_, i) => ({
    name: `Bench Lead ${i + 1}`,
    phone: `+9190${String(i).padStart(8, '0')}`,
    customFields: '{}',
    createdAt: now,
    updatedAt: now,
  }));
  const ids: number[] = [];
  await db.orm.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += 500) {
      const inserted = await tx
        .insert(clients)
        .values(rows.slice(i, i + 500))
        .returning({ id: clients.id });
      ids.push(...inserted.map((row) => row.id));
    }
  });
  return ids;
}

/** A sequence's assignments by status: `{ pending: 12, active: 3, … }`. */
export async function assignmentStatusCounts(db: Db, sequenceId: number): Promise<Record<string, number>> {
  const t = db.schema.leadDripAssignments;
  const rows = await db.orm
    .select({ status: t.status, n: count() })
    .from(t)
    .where(eq(t.sequenceId, sequenceId))
    .groupBy(t.status);
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

/**
 * A sequence's assignments: how many exist (`total`) and how many have run their first workflow
 * task (`active`: no longer `pending`). Their difference is the worker's backlog of first tasks.
 */
export async function sequenceCounts(db: Db, sequenceId: number): Promise<{ total: number; active: number }> {
  const byStatus = await assignmentStatusCounts(db, sequenceId);
  const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  return { total, active: total - (byStatus.pending ?? 0) };
}

/** Size of a SQLite file with its WAL, in bytes. */
export function sqliteFileSize(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += fs.statSync(`${file}${suffix}`).size;
    } catch {
      // no WAL file is fine
    }
  }
  return total;
}

/** Appends a report to a results file, newest last, creating it with its title the first time. */
export function appendBenchResult(file: string, title: string, script: string, markdown: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const heading = fs.existsSync(file)
    ? ''
    : `# ${title}\n\nAppended by \`npm run ${script} -- --record\`, newest last. See bench/README.md for how to read them.\n`;
  fs.appendFileSync(file, `${heading}\n${markdown}\n`);
}
