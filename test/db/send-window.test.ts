/**
 * The provider limit's ledger on a real SQLite file: no window ever holds more sends than the
 * sender's slots, whichever process takes them, and a full window says when it frees.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { openDb, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { claimSendWindowSlot, ensureSendWindow, stampSendWindowSlot } from '../../src/db/queries';
import { createSendLimit, senderKeyOf, sendWindowOf } from '../../src/messages/send-limit';
import { tempSqliteUrl } from '../support/db';

const execFileAsync = promisify(execFile);
const TSX = path.join(__dirname, '../../node_modules/.bin/tsx');
const CHILD = path.join(__dirname, 'fixtures/send-window-child.ts');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openMigrated(): Promise<{ url: string; db: Db }> {
  const { url, cleanup } = tempSqliteUrl();
  cleanups.push(cleanup);
  const db = await openDb(url);
  cleanups.push(() => db.close());
  await migrate(db);
  return { url, db };
}

/** The most times that fall in any half-open span of `windowMs`. */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

describe('the send-window ledger', () => {
  it('holds a sender to its slots per window across two processes taking slots at once', async () => {
    const { url, db } = await openMigrated();
    const [slots, windowMs, perProcess] = [4, 400, 8];
    await ensureSendWindow(db, { senderKey: 'interakt:default', slots });
    const startAt = String(Date.now() + 1_500);
    const child = () =>
      execFileAsync(
        TSX,
        [CHILD, url, 'interakt:default', String(slots), String(windowMs), String(perProcess), startAt],
        {
          cwd: path.join(__dirname, '../..'),
        },
      );

    const [a, b] = await Promise.all([child(), child()]);

    const times = [...JSON.parse(a.stdout), ...JSON.parse(b.stdout)] as number[];
    expect(times).toHaveLength(2 * perProcess);
    expect(mostInAnyWindow(times, windowMs)).toBe(slots);
  }, 30_000);

  it('refuses a slot while the window is full and says when its oldest send leaves it', async () => {
    const { db } = await openMigrated();
    const window = { senderKey: 'meta:100000000000001', slots: 3, windowMs: 60_000 };
    await ensureSendWindow(db, window);

    const claims = [];
    for (let i = 0; i < 4; i++) claims.push(await claimSendWindowSlot(db, window));

    expect(claims.slice(0, 3).map((claim) => claim.claimed)).toEqual([true, true, true]);
    const refused = claims[3]!;
    expect(refused.claimed).toBe(false);
    if (refused.claimed) return;
    const first = claims[0]!;
    if (!first.claimed) return;
    // The oldest send leaves the window a minute after it was taken.
    expect(refused.waitMs).toBeLessThanOrEqual(60_000);
    expect(refused.waitMs).toBeGreaterThan(50_000);
    const t = db.schema.sendWindowSlots;
    const rows = await db.orm.select().from(t).where(eq(t.senderKey, window.senderKey)).orderBy(asc(t.slotNo));
    expect(rows.map((row) => row.claimedAtMs)).toEqual(
      claims.slice(0, 3).map((claim) => (claim.claimed ? claim.atMs : -1)),
    );
    expect(rows[0]!.claimedAtMs).toBe(first.atMs);
  });

  it('frees a slot a window after its call ended, not after it was taken, unless it was taken again', async () => {
    const { db } = await openMigrated();
    const window = { senderKey: 'interakt:default', slots: 1, windowMs: 400 };
    await ensureSendWindow(db, window);
    const first = await claimSendWindowSlot(db, window);
    if (!first.claimed) throw new Error('the empty window refused a send');

    // The call took 300 ms: the slot frees 400 ms after it ended, about 700 ms after it was taken.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stampSendWindowSlot(db, { slotId: first.slotId, claimedAtMs: first.atMs });
    const refused = await claimSendWindowSlot(db, window);
    expect(refused.claimed).toBe(false);
    expect(refused.claimed === false && refused.waitMs).toBeGreaterThan(300);

    // A stamp for a claim the slot no longer holds changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 450));
    const second = await claimSendWindowSlot(db, window);
    if (!second.claimed) throw new Error('the slot did not free a window after its call');
    await stampSendWindowSlot(db, { slotId: first.slotId, claimedAtMs: first.atMs });
    const t = db.schema.sendWindowSlots;
    const [row] = await db.orm.select({ claimedAtMs: t.claimedAtMs }).from(t).where(eq(t.id, first.slotId));
    expect(row?.claimedAtMs).toBe(second.atMs);
  });

  it('gives each sender its own window', async () => {
    const { db } = await openMigrated();
    const limit = createSendLimit(db, {
      sendsPerSecond: 1,
      windowOf: (senderKey) => ({ senderKey, slots: 1, windowMs: 60_000 }),
      maxWaitMs: 0,
    });
    const first = senderKeyOf('meta', '100000000000001');
    const second = senderKeyOf('meta', '100000000000002');

    expect((await limit.take(first)).taken).toBe(true);
    expect((await limit.take(second)).taken).toBe(true);
    const again = await limit.take(first);
    expect(again).toMatchObject({ taken: false });
    expect(again.taken === false && again.retryInMs).toBeGreaterThan(50_000);
  });

  it('waits for a slot that frees within its wait, and gives back a send whose wait would be longer', async () => {
    const { db } = await openMigrated();
    const short = createSendLimit(db, {
      sendsPerSecond: 1,
      windowOf: (senderKey) => ({ senderKey, slots: 1, windowMs: 300 }),
      maxWaitMs: 5_000,
    });
    const first = await short.take('interakt:default');
    const second = await short.take('interakt:default');
    expect(first.taken && second.taken).toBe(true);
    if (!first.taken || !second.taken) return;
    expect(second.atMs - first.atMs).toBeGreaterThanOrEqual(300);

    const long = createSendLimit(db, {
      sendsPerSecond: 1,
      windowOf: (senderKey) => ({ senderKey, slots: 1, windowMs: 60_000 }),
      maxWaitMs: 5_000,
    });
    expect((await long.take('infobip:default')).taken).toBe(true);
    expect(await long.take('infobip:default')).toMatchObject({ taken: false });
  });

  it('adds rows when the limit grows and uses only the first rows when it shrinks', async () => {
    const { db } = await openMigrated();
    const t = db.schema.sendWindowSlots;
    await ensureSendWindow(db, { senderKey: 'interakt:default', slots: 2 });
    await ensureSendWindow(db, { senderKey: 'interakt:default', slots: 5 });
    await ensureSendWindow(db, { senderKey: 'interakt:default', slots: 5 });
    const rows = await db.orm.select({ slotNo: t.slotNo }).from(t).orderBy(asc(t.slotNo));
    expect(rows.map((row) => row.slotNo)).toEqual([0, 1, 2, 3, 4]);

    const narrow = { senderKey: 'interakt:default', slots: 2, windowMs: 60_000 };
    expect((await claimSendWindowSlot(db, narrow)).claimed).toBe(true);
    expect((await claimSendWindowSlot(db, narrow)).claimed).toBe(true);
    expect((await claimSendWindowSlot(db, narrow)).claimed).toBe(false);
  });

  it('sizes a sender’s window as a minute of its limit, plus the margin', () => {
    expect(sendWindowOf('interakt:default', 4.5)).toEqual({
      senderKey: 'interakt:default',
      slots: 270,
      windowMs: 60_100,
    });
    expect(sendWindowOf('meta:1', 0.001).slots).toBe(1);
  });
});
