/**
 * The provider limit's ledger (SendWindowSlots): per sender, one row for each send the limit
 * allows in a window, each holding when a send last took it, in ms since 1970 by the database's
 * clock. Taking a slot takes the sender's oldest row, and only if that is at least a window old:
 * so at any moment the rows hold the sender's last N sends, and a send goes only when the one N
 * before it is a window behind. No window ever holds more than N, however many workers send.
 *
 * The time is read by the database when the slot is taken (after any wait for its lock), never
 * passed in: a worker that waited for the lock cannot stamp its send with the time it began to wait.
 * When the provider call has ended, the slot's time moves on to then (`stampSendWindowSlot`), so a
 * slot frees a window after the provider received its send, not a window after it was taken.
 * - SQLite: one conditional UPDATE, which holds the file's write lock from start to end.
 * - SQL Server: one batch that takes an application lock for the sender, then reads the time and
 *   updates the oldest row, in one transaction.
 */
import { and, asc, eq, lt, lte, min, sql } from 'drizzle-orm';
import { asMssql, withTransaction, type Db } from '../client';
import { isUniqueViolation } from '../errors';
import { chunk } from './common';

export interface SendWindow {
  /** Whose limit: `provider:number` (see src/messages/send-limit.ts). */
  senderKey: string;
  /** How many sends one window may hold: the sender's rows SlotNo 0 … slots-1. */
  slots: number;
  windowMs: number;
}

export type SendWindowClaim =
  /** `atMs`: the database's time the slot was taken at; `slotId`: the row, for `stampSendWindowSlot`. */
  | { claimed: true; atMs: number; slotId: number }
  /** The window is full: its oldest send leaves it in `waitMs`. */
  | { claimed: false; waitMs: number };

/** How long a SQL Server claim waits for another's application lock on the same sender. */
const MSSQL_LOCK_TIMEOUT_MS = 10_000;
const ROWS_PER_INSERT = 500;
/** SQLite's clock in ms since 1970, read when the statement runs. */
const SQLITE_NOW_MS = sql`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;

/**
 * Creates the sender's missing rows (SlotNo 0 … slots-1, never taken). Rows another process
 * created meanwhile are as good as ours: a clash on the unique index means read again and go on.
 */
export async function ensureSendWindow(db: Db, window: Pick<SendWindow, 'senderKey' | 'slots'>): Promise<void> {
  const t = db.schema.sendWindowSlots;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await withTransaction(db, async (tx) => {
        const have = await tx.orm
          .select({ slotNo: t.slotNo })
          .from(t)
          .where(and(eq(t.senderKey, window.senderKey), lt(t.slotNo, window.slots)));
        const taken = new Set(have.map((row) => row.slotNo));
        const missing = Array.from({ length: window.slots }, (_, slotNo) => slotNo).filter((n) => !taken.has(n));
        for (const part of chunk(missing, ROWS_PER_INSERT)) {
          await tx.orm
            .insert(t)
            .values(part.map((slotNo) => ({ senderKey: window.senderKey, slotNo, claimedAtMs: 0 })));
        }
      });
      return;
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= 3) throw error;
    }
  }
}

/** Takes a slot of the sender's window if one is free (see the file comment); `ensureSendWindow` first. */
export async function claimSendWindowSlot(db: Db, window: SendWindow): Promise<SendWindowClaim> {
  if (db.dialect === 'mssql') return claimMssql(db, window);
  const t = db.schema.sendWindowSlots;
  const ofSender = and(eq(t.senderKey, window.senderKey), lt(t.slotNo, window.slots));
  const oldest = db.orm
    .select({ id: t.id })
    .from(t)
    .where(ofSender)
    .orderBy(asc(t.claimedAtMs), asc(t.slotNo))
    .limit(1);
  const taken = await db.orm
    .update(t)
    .set({ claimedAtMs: SQLITE_NOW_MS })
    .where(and(eq(t.id, sql`(${oldest})`), lte(t.claimedAtMs, sql`${SQLITE_NOW_MS} - ${window.windowMs}`)))
    .returning({ atMs: t.claimedAtMs, slotId: t.id });
  if (taken[0]) return { claimed: true, atMs: taken[0].atMs, slotId: taken[0].slotId };
  const [row] = await db.orm
    .select({ oldestMs: min(t.claimedAtMs), nowMs: sql<number>`${SQLITE_NOW_MS}` })
    .from(t)
    .where(ofSender);
  return { claimed: false, waitMs: waitFor(window, row?.oldestMs, row?.nowMs) };
}

async function claimMssql(db: Db, window: SendWindow): Promise<SendWindowClaim> {
  const { orm, schema } = asMssql(db);
  const t = schema.sendWindowSlots;
  const ofSender = sql`[SenderKey] = ${window.senderKey} and [SlotNo] < ${window.slots}`;
  const [row] = (await orm.execute(
    sql.join(
      [
        sql`declare @lock int, @now bigint, @claimed int, @slot table ([Id] int);`,
        sql`begin try`,
        sql`begin transaction;`,
        sql`exec @lock = sp_getapplock @Resource = ${`dripline:send-window:${window.senderKey}`}, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = ${sql.raw(String(MSSQL_LOCK_TIMEOUT_MS))};`,
        sql`if @lock < 0 throw 51000, N'the send window lock was not granted', 1;`,
        sql`set @now = datediff_big(millisecond, '19700101', sysutcdatetime());`,
        sql`with oldest as (select top (1) [Id], [ClaimedAtMs] from ${t} where ${ofSender} order by [ClaimedAtMs], [SlotNo])`,
        sql`update oldest set [ClaimedAtMs] = @now output inserted.[Id] into @slot where [ClaimedAtMs] <= @now - ${window.windowMs};`,
        sql`set @claimed = @@rowcount;`,
        sql`select @claimed as [claimed], @now as [nowMs], (select min([ClaimedAtMs]) from ${t} where ${ofSender}) as [oldestMs], (select top (1) [Id] from @slot) as [slotId];`,
        sql`commit transaction;`,
        sql`end try`,
        sql`begin catch`,
        sql`if @@trancount > 0 rollback transaction;`,
        sql`throw;`,
        sql`end catch`,
      ],
      sql` `,
    ),
    'objects',
  )) as { claimed: number; nowMs: number | string; oldestMs: number | string | null; slotId: number | null }[];
  if (!row) throw new Error('the send window claim returned no row');
  const nowMs = Number(row.nowMs);
  if (row.claimed > 0 && row.slotId !== null) return { claimed: true, atMs: nowMs, slotId: row.slotId };
  return { claimed: false, waitMs: waitFor(window, row.oldestMs === null ? null : Number(row.oldestMs), nowMs) };
}

/**
 * Moves a taken slot's time on to now, once its provider call has ended (answered or not): the
 * provider has received the send by then, so the slot comes free a window after the provider saw
 * it, however long the send took from the ledger to the provider. Only while the slot still holds
 * this claim (`claimedAtMs`): a slot taken again meanwhile (a call longer than a window) is left.
 */
export async function stampSendWindowSlot(db: Db, params: { slotId: number; claimedAtMs: number }): Promise<void> {
  if (db.dialect === 'mssql') {
    const { orm, schema } = asMssql(db);
    const t = schema.sendWindowSlots;
    await orm.execute(
      sql.join(
        [
          sql`declare @now bigint = datediff_big(millisecond, '19700101', sysutcdatetime());`,
          sql`update ${t} set [ClaimedAtMs] = case when @now > [ClaimedAtMs] then @now else [ClaimedAtMs] end`,
          sql`where [Id] = ${params.slotId} and [ClaimedAtMs] = ${params.claimedAtMs};`,
        ],
        sql` `,
      ),
    );
    return;
  }
  const t = db.schema.sendWindowSlots;
  await db.orm
    .update(t)
    .set({ claimedAtMs: sql`max(${SQLITE_NOW_MS}, ${t.claimedAtMs})` })
    .where(and(eq(t.id, params.slotId), eq(t.claimedAtMs, params.claimedAtMs)));
}

/** When the oldest send leaves the window; an empty ledger (not ensured) is a bug. */
function waitFor(window: SendWindow, oldestMs: number | null | undefined, nowMs: number | undefined): number {
  if (oldestMs === null || oldestMs === undefined || nowMs === undefined)
    throw new Error(`the send window of ${window.senderKey} has no slots: ensureSendWindow first`);
  return Math.max(1, oldestMs + window.windowMs - nowMs);
}
