/**
 * The frequency cap's ledger: LeadMarketingSlots holds, per lead, one row per slot of the cap
 * (SlotNo 0 … max-1) with the time and idempotency key of the marketing message that last took it.
 * Taking a slot is one conditional UPDATE (the slot is free, or its claim is a period old), which
 * both SQLite and SQL Server apply atomically: of two sends racing for the last free slot, one
 * updates a row and the other updates none. Claims are keyed by the send's idempotency key, so a
 * retried send finds its own claim instead of taking a second slot.
 */
import { and, asc, eq, isNull, lt, lte, or } from 'drizzle-orm';
import type { Db } from '../client';
import { isUniqueViolation } from '../errors';
import { affectedRows } from './common';

export interface SlotCap {
  max: number;
  periodSeconds: number;
}

export interface ClaimMarketingSlotParams {
  leadId: number;
  /** The send's idempotency key. */
  claimKey: string;
  /** When the send goes (workflow time for drips). */
  at: Date;
  cap: SlotCap;
}

export type ClaimMarketingSlotResult =
  | { claimed: true; slotNo: number; repeat: boolean }
  /** Every slot is taken: `claimedAt` are their claims' times, to compute when one frees. */
  | { claimed: false; claimedAt: Date[] };

export async function claimMarketingSlot(db: Db, params: ClaimMarketingSlotParams): Promise<ClaimMarketingSlotResult> {
  const t = db.schema.leadMarketingSlots;
  const { leadId, claimKey, at, cap } = params;
  const slots = await db.orm
    .select({ slotNo: t.slotNo, claimedAt: t.claimedAt, claimKey: t.claimKey })
    .from(t)
    .where(and(eq(t.leadId, leadId), lt(t.slotNo, cap.max)))
    .orderBy(asc(t.slotNo));
  const own = slots.find((slot) => slot.claimKey === claimKey);
  if (own) return { claimed: true, slotNo: own.slotNo, repeat: true };

  // Create the lead's slot rows the first time; a concurrent creator's rows are as good as ours.
  for (let slotNo = 0; slotNo < cap.max; slotNo += 1) {
    if (slots.some((slot) => slot.slotNo === slotNo)) continue;
    try {
      await db.orm.insert(t).values({ leadId, slotNo, claimedAt: null, claimKey: null });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
  }

  const expired = new Date(at.getTime() - cap.periodSeconds * 1000);
  for (let slotNo = 0; slotNo < cap.max; slotNo += 1) {
    const result = await db.orm
      .update(t)
      .set({ claimedAt: at, claimKey })
      .where(and(eq(t.leadId, leadId), eq(t.slotNo, slotNo), or(isNull(t.claimedAt), lte(t.claimedAt, expired))));
    if (affectedRows(result) > 0) return { claimed: true, slotNo, repeat: false };
  }
  const taken = await listMarketingClaims(db, { leadId, max: cap.max });
  return { claimed: false, claimedAt: taken };
}

/** Frees the slot a send took when the send failed for good: it reached no one. */
export async function releaseMarketingSlot(db: Db, params: { leadId: number; claimKey: string }): Promise<boolean> {
  const t = db.schema.leadMarketingSlots;
  const result = await db.orm
    .update(t)
    .set({ claimedAt: null, claimKey: null })
    .where(and(eq(t.leadId, params.leadId), eq(t.claimKey, params.claimKey)));
  return affectedRows(result) > 0;
}

/** The times of the lead's current claims in slots 0 … max-1 (oldest first). */
export async function listMarketingClaims(db: Db, params: { leadId: number; max: number }): Promise<Date[]> {
  const t = db.schema.leadMarketingSlots;
  const rows = await db.orm
    .select({ claimedAt: t.claimedAt })
    .from(t)
    .where(and(eq(t.leadId, params.leadId), lt(t.slotNo, params.max)))
    .orderBy(asc(t.slotNo));
  return rows
    .map((row) => row.claimedAt)
    .filter((claimedAt): claimedAt is Date => claimedAt !== null)
    .sort((a, b) => a.getTime() - b.getTime());
}
