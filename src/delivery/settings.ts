/**
 * The account's delivery defaults, kept in MasterData (category `delivery`, key `rules`, one JSON
 * value) so an admin changes them through the API without a restart: the time zone for leads
 * whose own cannot be known, the send window and quiet days every marketing flow inherits, the
 * frequency cap, and the opt-out / opt-in keywords.
 */
import type { Db } from '../db/client';
import { getMasterDataCategory, setMasterDataValues } from '../db/queries';
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, type FrequencyCap, type SendWindow } from './contract';

export const DELIVERY_SETTINGS_CATEGORY = 'delivery';
const RULES_KEY = 'rules';

export interface DeliverySettings {
  /** IANA zone for leads with no zone of their own and a phone whose country has several. */
  defaultTimeZone: string;
  /** The window marketing flows inherit; null: any time of day. */
  window: SendWindow | null;
  /** Local dates (`YYYY-MM-DD`) with no marketing, in the lead's zone. */
  quietDates: string[];
  /** null: no cap. */
  frequencyCap: FrequencyCap | null;
  /** Inbound texts that opt the lead out (STOP and UNSUBSCRIBE always do). */
  optOutKeywords: string[];
  /** Inbound texts that opt the lead back in (START always does). */
  optInKeywords: string[];
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  defaultTimeZone: 'UTC',
  window: null,
  quietDates: [],
  frequencyCap: null,
  optOutKeywords: [],
  optInKeywords: [],
};

export async function readDeliverySettings(db: Db): Promise<DeliverySettings> {
  const rows = await getMasterDataCategory(db, DELIVERY_SETTINGS_CATEGORY);
  const stored = rows.find((row) => row.key === RULES_KEY)?.value;
  if (!stored) return DEFAULT_DELIVERY_SETTINGS;
  try {
    return { ...DEFAULT_DELIVERY_SETTINGS, ...(JSON.parse(stored) as Partial<DeliverySettings>) };
  } catch {
    return DEFAULT_DELIVERY_SETTINGS;
  }
}

/** Merges `patch` into the stored settings and returns the result. */
export async function writeDeliverySettings(db: Db, patch: Partial<DeliverySettings>): Promise<DeliverySettings> {
  const merged = { ...(await readDeliverySettings(db)), ...patch };
  await setMasterDataValues(db, DELIVERY_SETTINGS_CATEGORY, [
    { key: RULES_KEY, value: JSON.stringify(merged), isSecret: false },
  ]);
  return merged;
}

/** The keywords in force: the defaults plus the account's own. */
export function keywordsOf(settings: DeliverySettings): { optOut: string[]; optIn: string[] } {
  return {
    optOut: [...DEFAULT_OPT_OUT_KEYWORDS, ...settings.optOutKeywords],
    optIn: [...DEFAULT_OPT_IN_KEYWORDS, ...settings.optInKeywords],
  };
}
