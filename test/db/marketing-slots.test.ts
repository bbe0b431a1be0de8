/**
 * The frequency cap's slots on a real SQLite file: two sends racing for a lead's last slot, one
 * wins; a retried send keeps its own slot; a slot frees a period after its claim; a send that
 * failed for good gives its slot back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { claimMarketingSlot, createLead, listMarketingClaims, releaseMarketingSlot } from '../../src/db/queries';
import { createTestDb } from '../support/db';
import { nextPhone } from '../support/drip-harness';

const DAY_S = 24 * 3600;
const cap = { max: 1, periodSeconds: DAY_S };
const T0 = new Date('2027-03-15T04:00:00.000Z');
const later = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

describe('LeadMarketingSlots', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  const newLead = async () => (await createLead(db, { name: 'Asha', phone: nextPhone() })).id;

  it('lets exactly one of many sends racing for the last slot take it', async () => {
    const leadId = await newLead();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimMarketingSlot(db, { leadId, claimKey: `race-${i}`, at: T0, cap })),
    );
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
    expect(
      results
        .filter((result) => !result.claimed)
        .every((result) => !result.claimed && result.claimedAt[0]?.getTime() === T0.getTime()),
    ).toBe(true);
    expect(await listMarketingClaims(db, { leadId, max: 1 })).toEqual([T0]);
  });

  it('gives a retried send its own slot back rather than a second one', async () => {
    const leadId = await newLead();
    expect(await claimMarketingSlot(db, { leadId, claimKey: 'drip-1:0', at: T0, cap })).toEqual({
      claimed: true,
      slotNo: 0,
      repeat: false,
    });
    expect(await claimMarketingSlot(db, { leadId, claimKey: 'drip-1:0', at: later(1), cap })).toEqual({
      claimed: true,
      slotNo: 0,
      repeat: true,
    });
    expect((await claimMarketingSlot(db, { leadId, claimKey: 'drip-2:0', at: later(1), cap })).claimed).toBe(false);
  });

  it('frees a slot a period after its claim, and at once when the send is given up', async () => {
    const leadId = await newLead();
    await claimMarketingSlot(db, { leadId, claimKey: 'a', at: T0, cap });
    expect((await claimMarketingSlot(db, { leadId, claimKey: 'b', at: later(23), cap })).claimed).toBe(false);
    expect((await claimMarketingSlot(db, { leadId, claimKey: 'b', at: later(24), cap })).claimed).toBe(true);

    expect(await releaseMarketingSlot(db, { leadId, claimKey: 'b' })).toBe(true);
    expect((await claimMarketingSlot(db, { leadId, claimKey: 'c', at: later(25), cap })).claimed).toBe(true);
  });

  it('counts per lead, up to the cap’s max', async () => {
    const [first, second] = [await newLead(), await newLead()];
    const two = { max: 2, periodSeconds: DAY_S };
    expect((await claimMarketingSlot(db, { leadId: first, claimKey: 'x1', at: T0, cap: two })).claimed).toBe(true);
    expect((await claimMarketingSlot(db, { leadId: first, claimKey: 'x2', at: T0, cap: two })).claimed).toBe(true);
    expect((await claimMarketingSlot(db, { leadId: first, claimKey: 'x3', at: T0, cap: two })).claimed).toBe(false);
    expect((await claimMarketingSlot(db, { leadId: second, claimKey: 'x3', at: T0, cap: two })).claimed).toBe(true);
  });
});
