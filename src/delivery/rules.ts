/**
 * The services a sending flow asks before a marketing message goes (drips through their
 * activities; campaigns the same way): which rules apply to this lead, may a message go now and if
 * not when and why, and the atomic claim of a frequency-cap slot at send time.
 */
import type { Db } from '../db/client';
import { claimMarketingSlot, getLead, listMarketingClaims, releaseMarketingSlot, type Lead } from '../db/queries';
import {
  capFreeAt,
  nextAllowedSend,
  type DripSendPlan,
  type FrequencyCap,
  type SendRules,
  type SequenceSendRules,
} from './contract';
import { readDeliverySettings, type DeliverySettings } from './settings';
import { leadTimeZone } from './time-zone';

/**
 * The rules one flow's messages go to one lead under: the flow's own window and quiet days over
 * the account's, read in the lead's zone. A transactional flow has no window and no cap.
 */
export function sendPlanFor(
  lead: Pick<Lead, 'timeZone' | 'phone'>,
  flow: SequenceSendRules | null,
  settings: DeliverySettings,
): DripSendPlan {
  const { timeZone } = leadTimeZone(lead, settings.defaultTimeZone);
  if (flow?.transactional) return { rules: { timeZone, window: null, quietDates: [] }, cap: null, capped: false };
  const rules: SendRules = {
    timeZone,
    window: flow?.window === undefined ? settings.window : flow.window,
    quietDates: [...settings.quietDates, ...(flow?.quietDates ?? [])],
  };
  return { rules, cap: settings.frequencyCap, capped: settings.frequencyCap !== null };
}

export type MarketingVerdict =
  | { allowed: true }
  | { allowed: false; reason: 'opted_out' | 'suppressed' | 'lead_not_found' }
  | { allowed: false; reason: 'outside_window' | 'frequency_capped'; nextAllowedAt: Date };

/**
 * May this lead be sent a marketing message (of a flow with these rules) at `at`? If not, why, and
 * for the window and the cap, the first time it could. Advisory: the cap is only enforced by
 * `claimSendSlot` at the moment of sending.
 */
export async function mayMarket(
  db: Db,
  params: { leadId: number; flow: SequenceSendRules | null; at: Date },
): Promise<MarketingVerdict> {
  const lead = await getLead(db, params.leadId);
  if (!lead) return { allowed: false, reason: 'lead_not_found' };
  if (lead.optedOut) return { allowed: false, reason: 'opted_out' };
  if (lead.marketingSuppressedAt) return { allowed: false, reason: 'suppressed' };
  const plan = sendPlanFor(lead, params.flow, await readDeliverySettings(db));
  const claims = plan.cap ? await listMarketingClaims(db, { leadId: lead.id, max: plan.cap.max }) : [];
  const at = params.at.getTime();
  const next = nextAllowedSend(at, plan.rules, plan.capped ? plan.cap : null, times(claims));
  if (next === at) return { allowed: true };
  const windowOnly = nextAllowedSend(at, plan.rules, null, []);
  return {
    allowed: false,
    reason: windowOnly !== at ? 'outside_window' : 'frequency_capped',
    nextAllowedAt: new Date(next),
  };
}

export type SlotClaim = { claimed: true } | { claimed: false; freeAt: Date };

/**
 * Takes one of the lead's frequency-cap slots for the send keyed `claimKey`, atomically: of two
 * sends racing for the last slot, one gets it. A repeat of the same key keeps its slot. Without a
 * cap, always claimed.
 */
export async function claimSendSlot(
  db: Db,
  params: { leadId: number; claimKey: string; at: Date; cap: FrequencyCap | null },
): Promise<SlotClaim> {
  if (!params.cap) return { claimed: true };
  const result = await claimMarketingSlot(db, { ...params, cap: params.cap });
  if (result.claimed) return { claimed: true };
  return { claimed: false, freeAt: new Date(capFreeAt(times(result.claimedAt), params.cap, params.at.getTime())) };
}

/** Gives back the slot of a send that failed for good. */
export function releaseSendSlot(db: Db, params: { leadId: number; claimKey: string }): Promise<boolean> {
  return releaseMarketingSlot(db, params);
}

const times = (dates: readonly Date[]): number[] => dates.map((date) => date.getTime());
