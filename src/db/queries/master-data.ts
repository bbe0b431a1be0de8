import { and, asc, eq, sql } from 'drizzle-orm';
import { withTransaction, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import type { masterData } from '../schema/sqlite';
import { affectedRows } from './common';

export type MasterDataRow = typeof masterData.$inferSelect;

export interface MasterDataEntry {
  key: string;
  /** Stored as given: callers seal secrets before they get here. */
  value: string;
  isSecret: boolean;
}

/** Every row of one category (e.g. `interakt`), ordered by key. */
export async function getMasterDataCategory(db: Db, category: string): Promise<MasterDataRow[]> {
  const { masterData: t } = db.schema;
  return db.orm.select().from(t).where(eq(t.category, category)).orderBy(asc(t.key));
}

/**
 * Inserts or updates one row per key of `category`, all or nothing; keys not named are left alone.
 * SQLite does it in one `INSERT … ON CONFLICT DO UPDATE`. SQL Server updates each key and inserts
 * the ones that matched nothing, in one transaction; if a concurrent writer inserted the same new
 * key first, the unique index refuses ours and the whole write is retried once, now as updates.
 */
export async function setMasterDataValues(
  db: Db,
  category: string,
  entries: readonly MasterDataEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const { masterData: t } = db.schema;
  const now = new Date();

  if (db.dialect === 'sqlite') {
    await db.orm
      .insert(t)
      .values(entries.map(({ key, value, isSecret }) => ({ category, key, value, isSecret, updatedAt: now })))
      .onConflictDoUpdate({
        target: [t.category, t.key],
        set: { value: sql.raw('excluded."Value"'), isSecret: sql.raw('excluded."IsSecret"'), updatedAt: now },
      });
    return;
  }

  const upsertAll = () =>
    withTransaction(db, async (tx) => {
      const { masterData: m } = tx.schema;
      for (const { key, value, isSecret } of entries) {
        const updated = await tx.orm
          .update(m)
          .set({ value, isSecret, updatedAt: now })
          .where(and(eq(m.category, category), eq(m.key, key)));
        if (affectedRows(updated) === 0)
          await tx.orm.insert(m).values({ category, key, value, isSecret, updatedAt: now });
      }
    });
  try {
    await upsertAll();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await upsertAll();
  }
}
