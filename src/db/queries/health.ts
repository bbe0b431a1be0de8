import { sql } from 'drizzle-orm';
import { asMssql, type Db } from '../client';

/** Resolves when the database answers a trivial query; rejects with the driver's error otherwise. */
export async function pingDb(db: Db): Promise<void> {
  if (db.dialect === 'mssql') {
    await asMssql(db).orm.execute(sql`select 1 as ok`, 'objects');
    return;
  }
  await db.orm.all(sql`select 1 as ok`);
}
