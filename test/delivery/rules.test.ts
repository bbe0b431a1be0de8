/**
 * What a campaign (or any marketing sender) asks before a send, on a real SQLite file: may this
 * lead be messaged now, and if not why and when; and the atomic slot claim at send time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client';
import { createLead, updateLead } from '../../src/db/queries';
import { claimSendSlot, mayMarket } from '../../src/delivery/rules';
import { writeDeliverySettings } from '../../src/delivery/settings';
import { createTestDb } from '../support/db';
import { nextPhone } from '../support/drip-harness';

const cap = { max: 1, periodSeconds: 24 * 3600 };
// Monday 15 March 2027: 10:00 and 23:00 in Kolkata.
const MORNING = new Date('2027-03-15T04:30:00.000Z');
const NIGHT = new Date('2027-03-15T17:30:00.000Z');

describe('mayMarket and claimSendSlot', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createTestDb();
    await writeDeliverySettings(db, {
      window: { days: [1, 2, 3, 4, 5, 6], start: '09:00', end: '20:00' },
      frequencyCap: cap,
    });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers allowed inside the window, outside_window with the next opening at night', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    expect(await mayMarket(db, { leadId: lead.id, flow: null, at: MORNING })).toEqual({ allowed: true });
    expect(await mayMarket(db, { leadId: lead.id, flow: null, at: NIGHT })).toEqual({
      allowed: false,
      reason: 'outside_window',
      nextAllowedAt: new Date('2027-03-16T03:30:00.000Z'),
    });
  });

  it('answers frequency_capped once the slot is taken, with when it frees; a second claim loses', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    expect(await claimSendSlot(db, { leadId: lead.id, claimKey: 'campaign-1:7', at: MORNING, cap })).toEqual({
      claimed: true,
    });
    const later = new Date(MORNING.getTime() + 3_600_000);
    expect(await mayMarket(db, { leadId: lead.id, flow: null, at: later })).toEqual({
      allowed: false,
      reason: 'frequency_capped',
      nextAllowedAt: new Date(MORNING.getTime() + 24 * 3_600_000),
    });
    expect(await claimSendSlot(db, { leadId: lead.id, claimKey: 'drip-9:0', at: later, cap })).toEqual({
      claimed: false,
      freeAt: new Date(MORNING.getTime() + 24 * 3_600_000),
    });
  });

  it('refuses opted-out leads whatever the time', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    await updateLead(db, lead.id, { optedOut: true });
    expect(await mayMarket(db, { leadId: lead.id, flow: null, at: MORNING })).toEqual({
      allowed: false,
      reason: 'opted_out',
    });
  });

  it('lets a transactional flow through at night and past the cap', async () => {
    const lead = await createLead(db, { name: 'Asha', phone: nextPhone() });
    await claimSendSlot(db, { leadId: lead.id, claimKey: 'x', at: NIGHT, cap });
    expect(await mayMarket(db, { leadId: lead.id, flow: { transactional: true }, at: NIGHT })).toEqual({
      allowed: true,
    });
  });
});
