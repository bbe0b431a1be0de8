/**
 * The outcomes of the sends of a period (the KPIs), from whole days of a rollup plus the rest read
 * live from the message log, with the same numbers getSendOutcomes gives for the whole period.
 *
 * AnalyticsSendDays (migration 0052) holds, per day of CreatedAt (UTC) and reply hour, the counts
 * getSendOutcomes would give for that day's sends. It is a cache, never counted into: a day is
 * recomputed from the log whenever one of its sends changed, so a late webhook changes the numbers
 * as it does everywhere else. What changed is found by UpdatedAt, which every write to a send's
 * status and times bumps (messages.ts); a send whose FirstReplyAt an incoming message lowered is
 * found through that message (new, so its UpdatedAt is recent), as a send of the same lead whose
 * FirstReplyAt is that message's CreatedAt:
 * - the rollup has caught up to a watermark: every send changed at or before it is counted (the
 *   first catch-up, from the epoch, recomputes every day of the log: seconds per million sends);
 * - a read first lets it catch up (at most once a minute) to `now - ROLLUP_SETTLE_MS`: the days of
 *   the sends changed since the watermark are recomputed, in one transaction that only one process
 *   runs at a time (SQLite's write lock; an application lock in SQL Server);
 * - then it adds up the period's whole days from the rollup, except those with a send changed
 *   after the watermark, and reads those days and the period's partial first and last days live.
 * The watermark stays ROLLUP_SETTLE_MS behind the clock because a writer stamps UpdatedAt before
 * its statement commits (it may queue for a lock first): a change committed later than that after
 * its stamp, or stamped by a clock that far behind, would be missed by the rollup until its day
 * changes again. Both are assumed not to happen; the live log makes the same assumption with a
 * far shorter wait (src/messages/live-log.ts).
 */
import { sql, type SQL } from 'drizzle-orm';
import { asMssql, withTransaction, type Db } from '../client';
import {
  as,
  at,
  col,
  flag,
  getSendOutcomes,
  M,
  MAX_REPLY_WINDOW_SECONDS,
  MESSAGES,
  OUTCOME_FLAGS,
  SENT_TIME,
  selectRows,
  type SendOutcomeCounts,
} from './analytics';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How far behind the clock the rollup stays (see the file comment). */
export const ROLLUP_SETTLE_MS = 5 * 60_000;
/** The rollup catches up at most this often; in between, a read reads a little more live. */
export const ROLLUP_STEP_MS = 60_000;
const MAX_REPLY_HOURS = MAX_REPLY_WINDOW_SECONDS / 3_600;
/** Days recomputed per statement: bounds each statement's work when a rollup is first built. */
const DAYS_PER_STATEMENT = 31;
const MSSQL_LOCK_TIMEOUT_MS = 30_000;

const SEND_DAYS = 'AnalyticsSendDays';
const STATE = 'AnalyticsRollupState';
const COUNT_COLUMNS = ['Total', 'Sent', 'Delivered', 'Read', 'Failed', 'Pending'] as const;

/** The UTC day of a timestamp, as days since 1970-01-01. */
const dayOf = (db: Db, time: SQL): SQL =>
  db.dialect === 'mssql' ? sql`datediff(day, '19700101', ${time})` : sql`(${time} / ${sql.raw(String(DAY_MS))})`;

/**
 * The reply hour of a send aliased `m`: h in 1..720 when its first reply came more than h - 1 and
 * at most h hours after it was sent, else 0. "Replied within W hours" is then 1 ≤ h ≤ W exactly.
 */
function replyHourOf(db: Db): SQL {
  const reply = col(M, 'FirstReplyAt');
  const ms =
    db.dialect === 'mssql' ? sql`datediff_big(millisecond, ${SENT_TIME}, ${reply})` : sql`(${reply} - ${SENT_TIME})`;
  const within =
    db.dialect === 'mssql'
      ? sql`dateadd(hour, ${sql.raw(String(MAX_REPLY_HOURS))}, ${SENT_TIME})`
      : sql`(${SENT_TIME} + ${sql.raw(String(MAX_REPLY_HOURS * HOUR_MS))})`;
  return sql`case when ${SENT_TIME} is not null and ${reply} > ${SENT_TIME} and ${reply} <= ${within} then (${ms} + ${sql.raw(String(HOUR_MS - 1))}) / ${sql.raw(String(HOUR_MS))} else 0 end`;
}

const whereDays = (db: Db, from: number, to: number): SQL =>
  sql`${col(M, 'Direction')} = 'outgoing' and ${col(M, 'CreatedAt')} >= ${at(db, new Date(from * DAY_MS))} and ${col(M, 'CreatedAt')} < ${at(db, new Date(to * DAY_MS))}`;

/**
 * Days of the sends changed after `since` (and at or before `until`), ascending: the sends written
 * since (IX_WhatsAppMessages_UpdatedAt_Id), and the sends whose first reply is an incoming message
 * stored since (then IX_WhatsAppMessages_Direction_Lead_CreatedAt by its lead). The join is written
 * as a CROSS JOIN with its conditions in WHERE: SQLite then keeps the few new incoming messages as
 * the outer loop (left to itself it scanned every send), and SQL Server plans it as the inner join
 * it is.
 */
async function changedDays(db: Db, since: Date, until?: Date): Promise<number[]> {
  const changed = (alias: string) =>
    sql`${col(alias, 'UpdatedAt')} > ${at(db, since)}${until ? sql` and ${col(alias, 'UpdatedAt')} <= ${at(db, until)}` : sql``}`;
  const i = (column: string) => col('i', column);
  const rows = await selectRows<{ day: unknown }>(
    db,
    sql`select distinct ${as(dayOf(db, col(M, 'CreatedAt')), 'day')} from ${sql.identifier(MESSAGES)} ${sql.identifier(M)} where ${changed(M)} and ${col(M, 'Direction')} = 'outgoing' union select distinct ${dayOf(db, col(M, 'CreatedAt'))} from ${sql.identifier(MESSAGES)} ${sql.identifier('i')} cross join ${sql.identifier(MESSAGES)} ${sql.identifier(M)} where ${changed('i')} and ${i('Direction')} = 'incoming' and ${col(M, 'Direction')} = 'outgoing' and ${col(M, 'LeadId')} = ${i('LeadId')} and ${col(M, 'FirstReplyAt')} = ${i('CreatedAt')}`,
  );
  return rows.map((row) => Number(row.day)).sort((a, b) => a - b);
}

/** Every day from the first send's to the last send's (the first catch-up). */
async function allDays(db: Db): Promise<number[]> {
  const created = col(M, 'CreatedAt');
  const [row] = await selectRows<{ first: unknown; last: unknown }>(
    db,
    sql`select ${as(sql`min(${dayOf(db, created)})`, 'first')}, ${as(sql`max(${dayOf(db, created)})`, 'last')} from ${sql.identifier(MESSAGES)} ${sql.identifier(M)} where ${col(M, 'Direction')} = 'outgoing'`,
  );
  if (row?.first === null || row?.first === undefined) return [];
  const first = Number(row.first);
  return Array.from({ length: Number(row.last) - first + 1 }, (_, k) => first + k);
}

/** Consecutive days as [from, to) runs of at most `longest` days. */
function runsOf(days: number[], longest = Number.MAX_SAFE_INTEGER): [number, number][] {
  const runs: [number, number][] = [];
  for (const day of days) {
    const last = runs.at(-1);
    if (last && last[1] === day && last[1] - last[0] < longest) last[1] = day + 1;
    else runs.push([day, day + 1]);
  }
  return runs;
}

async function readWatermark(db: Db): Promise<Date> {
  const [row] = await selectRows<{ watermark: unknown }>(
    db,
    sql`select ${as(sql`${sql.identifier('Watermark')}`, 'watermark')} from ${sql.identifier(STATE)}`,
  );
  if (!row) throw new Error(`${STATE} has no row: migration 0052 inserts it`);
  const value = row.watermark;
  return value instanceof Date ? value : new Date(Number(value));
}

async function run(db: Db, query: SQL): Promise<void> {
  if (db.dialect === 'mssql') await asMssql(db).orm.execute(query);
  else await db.orm.run(query);
}

/**
 * Lets the rollup catch up with the log to `now - ROLLUP_SETTLE_MS` (when it is a step or more
 * behind) and returns its watermark: every send changed at or before it is counted in the rollup.
 */
export async function refreshAnalyticsDays(db: Db, now = new Date()): Promise<Date> {
  const target = new Date(now.getTime() - ROLLUP_SETTLE_MS);
  const seen = await readWatermark(db);
  if (target.getTime() - seen.getTime() < ROLLUP_STEP_MS) return seen;
  return withTransaction(db, async (tx) => {
    if (tx.dialect === 'mssql') {
      await asMssql(tx).orm.execute(
        sql.raw(`DECLARE @result int;
EXEC @result = sp_getapplock @Resource = N'Dripline.analytics-days', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = ${MSSQL_LOCK_TIMEOUT_MS};
IF @result < 0 THROW 50000, N'Timed out waiting for the analytics rollup lock held by another process', 1;`),
      );
    }
    // Another process may have caught up while this one waited for the lock.
    const watermark = await readWatermark(tx);
    if (target.getTime() - watermark.getTime() < ROLLUP_STEP_MS) return watermark;
    const days = watermark.getTime() === 0 ? await allDays(tx) : await changedDays(tx, watermark, target);
    for (const [from, to] of runsOf(days, DAYS_PER_STATEMENT)) {
      await recomputeDays(tx, from, to);
    }
    await run(tx, sql`update ${sql.identifier(STATE)} set ${sql.identifier('Watermark')} = ${at(tx, target)}`);
    return target;
  });
}

/** Replaces the rollup of days [from, to) with their counts from the log (IX_WhatsAppMessages_Direction_CreatedAt_Replies). */
async function recomputeDays(db: Db, from: number, to: number): Promise<void> {
  const day = sql.identifier('Day');
  await run(db, sql`delete from ${sql.identifier(SEND_DAYS)} where ${day} >= ${from} and ${day} < ${to}`);
  const s = (column: string) => col('s', column);
  const classified = sql.join(
    [
      as(dayOf(db, col(M, 'CreatedAt')), 'd'),
      as(replyHourOf(db), 'h'),
      ...(['sent', 'delivered', 'read', 'failed', 'pending'] as const).map((m) => as(OUTCOME_FLAGS[m], m)),
    ],
    sql`, `,
  );
  const columns = sql.join(
    ['Day', 'ReplyHour', ...COUNT_COLUMNS].map((c) => sql.identifier(c)),
    sql`, `,
  );
  await run(
    db,
    sql`insert into ${sql.identifier(SEND_DAYS)} (${columns}) select ${s('d')}, ${s('h')}, count(*), sum(${s('sent')}), sum(${s('delivered')}), sum(${s('read')}), sum(${s('failed')}), sum(${s('pending')}) from (select ${classified} from ${sql.identifier(MESSAGES)} ${sql.identifier(M)} where ${whereDays(db, from, to)}) ${sql.identifier('s')} group by ${s('d')}, ${s('h')}`,
  );
}

/**
 * The outcomes of the sends created in [from, to), as getSendOutcomes counts them for
 * `{ kind: 'period' }`: whole days from the rollup, the rest live. A reply window that is not a
 * whole number of hours cannot be read from the rollup, so the whole period is then read live.
 */
export async function getPeriodSendOutcomes(
  db: Db,
  params: { from: Date; to: Date; replyWindowSeconds: number; now?: Date },
): Promise<SendOutcomeCounts> {
  const live = async (from: Date, to: Date) =>
    (
      await getSendOutcomes(db, { set: { kind: 'period', from, to }, replyWindowSeconds: params.replyWindowSeconds })
    )[0]!;
  const firstWhole = Math.ceil(params.from.getTime() / DAY_MS);
  const endWhole = Math.floor(params.to.getTime() / DAY_MS);
  if (params.replyWindowSeconds % 3_600 !== 0 || firstWhole >= endWhole) return live(params.from, params.to);
  const hours = params.replyWindowSeconds / 3_600;
  if (!Number.isInteger(hours) || hours < 0 || hours > MAX_REPLY_HOURS)
    throw new RangeError(
      `the reply window must be 0 to ${MAX_REPLY_WINDOW_SECONDS} s, got ${params.replyWindowSeconds}`,
    );

  const watermark = await refreshAnalyticsDays(db, params.now);
  const liveDays = (await changedDays(db, watermark)).filter((d) => d >= firstWhole && d < endWhole);
  const day = sql.identifier('Day');
  const skipped = liveDays.length > 0 ? sql` and ${day} not in (${sql.raw(liveDays.join(', '))})` : sql``;
  const sum = (column: string) => sql`sum(${sql.identifier(column)})`;
  const replyHour = sql.identifier('ReplyHour');
  const [rolled] = await selectRows<Record<string, unknown>>(
    db,
    sql`select ${sql.join(
      [
        as(sum('Total'), 'total'),
        as(sum('Sent'), 'sent'),
        as(sum('Delivered'), 'delivered'),
        as(sum('Read'), 'read'),
        as(
          sql`sum(${flag(sql`${replyHour} >= 1 and ${replyHour} <= ${sql.raw(String(hours))}`)} * ${sql.identifier('Total')})`,
          'replied',
        ),
        as(sum('Failed'), 'failed'),
        as(sum('Pending'), 'pending'),
      ],
      sql`, `,
    )} from ${sql.identifier(SEND_DAYS)} where ${day} >= ${firstWhole} and ${day} < ${endWhole}${skipped}`,
  );
  const ranges: [Date, Date][] = [];
  if (params.from.getTime() < firstWhole * DAY_MS) ranges.push([params.from, new Date(firstWhole * DAY_MS)]);
  for (const [from, to] of runsOf(liveDays)) ranges.push([new Date(from * DAY_MS), new Date(to * DAY_MS)]);
  if (endWhole * DAY_MS < params.to.getTime()) ranges.push([new Date(endWhole * DAY_MS), params.to]);
  const parts = await Promise.all(ranges.map(([from, to]) => live(from, to)));
  const total: SendOutcomeCounts = {
    stepIndex: null,
    total: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    replied: 0,
    failed: 0,
    pending: 0,
  };
  for (const key of ['total', 'sent', 'delivered', 'read', 'replied', 'failed', 'pending'] as const) {
    total[key] = Number(rolled?.[key] ?? 0) + parts.reduce((n, part) => n + part[key], 0);
  }
  return total;
}
