/**
 * Response-time percentiles on a real SQLite file with more answered inbound messages than the
 * ranks are sorted for: a period holding a tenth or more of all answered inbound messages reads its
 * ranks by walking IX_WhatsAppMessages_Incoming_ResponseMs (INDEXED BY), a smaller one sorts its
 * own rows, and both give the nearest-rank median and p90 computed here from the same times.
 */
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/client';
import { createLead, getResponseTimes } from '../../src/db/queries';
import { createTestDb } from '../support/db';

const DAY = 86_400_000;
const T0 = Date.UTC(2030, 0, 1);
/** Inbound messages, one every 90 minutes from T0 (16 a day, 24,000 over 1,500 days). */
const MESSAGES = 24_000;
const STEP_MS = 90 * 60_000;
/** Every seventh is unanswered; the others are answered after a scrambled time, with ties. */
const responseMsOf = (n: number): number | null => (n % 7 === 0 ? null : ((n * 7_919) % 5_003) * 1_000);

describe('getResponseTimes', () => {
  let db: Db;
  const statements: string[] = [];

  /** The nearest-rank median and p90 of the answered messages created in [from, to), in JS. */
  function expected(from: number, to: number) {
    const times: number[] = [];
    let inbound = 0;
    for (let n = 0; n < MESSAGES; n++) {
      const createdAt = T0 + n * STEP_MS;
      if (createdAt < from || createdAt >= to) continue;
      inbound++;
      const ms = responseMsOf(n);
      if (ms !== null) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const at = (rank: number) => times[rank - 1] ?? null;
    const n = times.length;
    return { inbound, answered: n, medianMs: at(Math.ceil(n / 2)), p90Ms: at(Math.ceil((9 * n) / 10)) };
  }

  beforeAll(async () => {
    db = await createTestDb();
    const leadId = (await createLead(db, { name: 'Busy lead', phone: '+919800000888' })).id;
    await db.orm.run(
      sql`with recursive n(k) as (select 0 union all select k + 1 from n where k + 1 < ${MESSAGES})
        insert into WhatsAppMessages (Direction, Provider, LeadId, Phone, Status, CreatedAt, UpdatedAt, ResponseMs)
        select 'incoming', 'interakt', ${leadId}, '+919800000888', 'delivered', ${T0} + k * ${STEP_MS}, ${T0},
          case when k % 7 = 0 then null else ((k * 7919) % 5003) * 1000 end from n`,
    );
    const all = db.orm.all.bind(db.orm);
    vi.spyOn(db.orm, 'all').mockImplementation(((query: SQL) => {
      statements.push(
        (db.orm as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string } } }).dialect.sqlToQuery(query).sql,
      );
      return all(query);
    }) as typeof db.orm.all);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await db?.close();
  });

  it('walks the ResponseMs index for a period holding a tenth or more of the answered messages, with the same percentiles', async () => {
    const from = T0 + 100 * DAY;
    const to = T0 + 400 * DAY;
    statements.length = 0;
    const times = await getResponseTimes(db, { from: new Date(from), to: new Date(to) });
    expect(times).toEqual(expected(from, to));
    expect(times.answered).toBeGreaterThan(1_000);
    const ranks = statements.filter((s) => s.includes('as "ms"'));
    expect(ranks).toHaveLength(2);
    for (const rank of ranks) expect(rank).toContain('indexed by "IX_WhatsAppMessages_Incoming_ResponseMs"');
  });

  it('sorts the period’s own rows when it holds fewer than a tenth of the answered messages, with the same percentiles', async () => {
    const from = T0 + 10 * DAY;
    const to = T0 + 110 * DAY;
    statements.length = 0;
    const times = await getResponseTimes(db, { from: new Date(from), to: new Date(to) });
    expect(times).toEqual(expected(from, to));
    // Enough to count the index before deciding (1,000), too few to walk it (a tenth of 20,571).
    expect(times.answered).toBeGreaterThan(1_000);
    expect(times.answered).toBeLessThan(2_057);
    const ranks = statements.filter((s) => s.includes('as "ms"'));
    expect(ranks).toHaveLength(2);
    for (const rank of ranks) expect(rank).not.toContain('indexed by');
  });

  it('gives the same percentiles over the whole log, walking the index from both ends', async () => {
    const from = T0 - DAY;
    const to = T0 + 1_600 * DAY;
    expect(await getResponseTimes(db, { from: new Date(from), to: new Date(to) })).toEqual(expected(from, to));
  });
});
