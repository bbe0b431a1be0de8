/**
 * The per-day rollup on a real SQLite file: the KPIs' send outcomes from whole days of the rollup
 * plus live partial days equal the same counts read live from the log, when the rollup is first
 * built, while a late webhook is younger than the watermark (its day read live), after the rollup
 * caught up with it, and after a reply stored later changed a past send's FirstReplyAt. The clock
 * (Date only) is moved by hand, so the writes' UpdatedAt and the reads' "now" follow one timeline.
 */
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/client';
import {
  applyMessageStatus,
  claimOutgoingMessage,
  createLead,
  getPeriodSendOutcomes,
  getSendOutcomes,
  insertIncomingMessage,
  markMessageAccepted,
} from '../../src/db/queries';
import { createTestDb } from '../support/db';

const DAY = 86_400_000;
const MINUTE = 60_000;
const T0 = new Date('2030-03-10T09:30:00.000Z');
const PERIOD = { from: new Date(T0.getTime() - 7 * DAY - 5 * 3_600_000), to: new Date(T0.getTime() + 3_600_000) };
const WINDOWS = [3_600, 86_400, 720 * 3_600];

describe('the per-day rollup of the sends', () => {
  let db: Db;
  let leadId: number;

  const at = (minutes: number) => vi.setSystemTime(new Date(T0.getTime() + minutes * MINUTE));
  /** Every reply window: the rollup-backed counts and the live ones over the same period. */
  const both = async () =>
    Promise.all(
      WINDOWS.map(async (replyWindowSeconds) => ({
        rolled: await getPeriodSendOutcomes(db, { ...PERIOD, replyWindowSeconds }),
        live: (await getSendOutcomes(db, { set: { kind: 'period', ...PERIOD }, replyWindowSeconds }))[0],
      })),
    );
  const rollupRows = async () => (await db.orm.select().from(db.schema.analyticsSendDays)).length;

  /** A send created `daysAgo` days before T0 (history written now, as a backfilled log would be). */
  async function sendFrom(key: string, daysAgo: number, outcome: 'accepted' | 'pending' = 'accepted') {
    const row = await claimOutgoingMessage(db, {
      idempotencyKey: key,
      leadId,
      phone: '+919800000777',
      provider: 'interakt',
      templateName: 'follow_up',
      templateLanguage: 'en',
      messageContent: {},
      referenceType: 'manual',
      referenceId: key,
      workflowId: null,
      stepIndex: null,
      callbackData: key,
    });
    const created = new Date(T0.getTime() - daysAgo * DAY);
    const t = db.schema.whatsAppMessages;
    await db.orm.update(t).set({ createdAt: created }).where(eq(t.id, row.id));
    if (outcome === 'accepted')
      await markMessageAccepted(db, {
        id: row.id,
        providerMessageId: `p-${key}`,
        at: new Date(created.getTime() + 1_000),
      });
    return row;
  }

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
    db = await createTestDb();
    leadId = (await createLead(db, { name: 'Rollup lead', phone: '+919800000777' })).id;
    await sendFrom('old-1', 6);
    await sendFrom('old-2', 3);
    await sendFrom('old-3', 3, 'pending');
    await sendFrom('edge', 7.1); // on the period's partial first day
  });
  afterEach(() => at(0));
  afterAll(async () => {
    vi.useRealTimers();
    await db?.close();
  });

  it('builds on the first read and gives the live counts', async () => {
    at(10);
    for (const { rolled, live } of await both()) expect(rolled).toEqual(live);
    expect(await rollupRows()).toBeGreaterThan(0);
  });

  it('reads a day changed after its watermark live, then from the rollup once it caught up: a late webhook counts at once', async () => {
    at(11);
    await applyMessageStatus(db, { providerMessageId: 'p-old-2', status: 'read', at: new Date() });
    const [, day] = await both();
    expect(day!.rolled).toEqual(day!.live);
    expect(day!.rolled).toMatchObject({ read: 1, delivered: 1 });
    at(20);
    for (const { rolled, live } of await both()) expect(rolled).toEqual(live);
  });

  it('recomputes the days of past sends whose first reply a new incoming message is', async () => {
    at(21);
    await insertIncomingMessage(db, {
      provider: 'interakt',
      providerMessageId: 'late-reply',
      phone: '+919800000777',
      leadId,
      messageContent: { text: 'Still interested' },
      receivedAt: new Date(),
    });
    at(30);
    const [hour, day, month] = await both();
    for (const { rolled, live } of [hour!, day!, month!]) expect(rolled).toEqual(live);
    // Three to seven days after the three sends that went out: replies within 720 hours, not within 24.
    expect([hour!.rolled.replied, day!.rolled.replied, month!.rolled.replied]).toEqual([0, 0, 3]);
  });
});
