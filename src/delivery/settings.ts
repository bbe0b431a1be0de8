/**
 * The account's delivery defaults, kept in MasterData (category `delivery`, key `rules`, one JSON
 * value) so an admin changes them through the API without a restart: the time zone for leads
 * whose own cannot be known, the send window and quiet days every marketing flow inherits, the
 * frequency cap, the opt-out / opt-in keywords and their confirmations, and how long a send the
 * provider held back for the user's marketing limit (Meta 131049) waits before it is tried again.
 */
import type { Db } from '../db/client';
import { getMasterDataCategory, setMasterDataValues } from '../db/queries';
import { DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS, type FrequencyCap, type SendWindow } from './contract';

export const DELIVERY_SETTINGS_CATEGORY = 'delivery';
const RULES_KEY = 'rules';

/** An approved template in Message Master; its body `{{1}}`, if it has one, is the lead's name. */
export interface KeywordReplyTemplate {
  templateName: string;
  templateLanguage: string;
}

/** The template confirming each kind of keyword; null: no confirmation. */
export interface KeywordReplies {
  optOut: KeywordReplyTemplate | null;
  optIn: KeywordReplyTemplate | null;
}

/**
 * Meta's own advice for 131049 is to retry "later"; six hours was the delay before it became a
 * setting, and stays the default.
 */
export const DEFAULT_MARKETING_LIMIT_RETRY_MINUTES = 360;
/**
 * At most a day: a drip step's send is given up after two days of trying (SEND_OPTIONS'
 * scheduleToCloseTimeout), so a longer delay would never see its retry.
 */
export const MAX_MARKETING_LIMIT_RETRY_MINUTES = 1440;

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
  /** The confirmation sent once to a lead whose keyword opted them out or back in. */
  keywordReplies: KeywordReplies;
  /**
   * How long a send the provider held back because the user has had enough marketing for now
   * (Meta 131049) waits before the send activity tries it again; null: it is not retried
   * automatically, the step or recipient fails with the provider's code, for a retry from the API.
   */
  marketingLimitRetryMinutes: number | null;
}

/** A change to the settings: `keywordReplies` may name one kind and keep the other. */
export type DeliverySettingsPatch = Partial<Omit<DeliverySettings, 'keywordReplies'>> & {
  keywordReplies?: Partial<KeywordReplies>;
};

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  defaultTimeZone: 'UTC',
  window: null,
  quietDates: [],
  frequencyCap: null,
  optOutKeywords: [],
  optInKeywords: [],
  keywordReplies: { optOut: null, optIn: null },
  marketingLimitRetryMinutes: DEFAULT_MARKETING_LIMIT_RETRY_MINUTES,
};

export async function readDeliverySettings(db: Db): Promise<DeliverySettings> {
  const rows = await getMasterDataCategory(db, DELIVERY_SETTINGS_CATEGORY);
  const stored = rows.find((row) => row.key === RULES_KEY)?.value;
  if (!stored) return DEFAULT_DELIVERY_SETTINGS;
  try {
    const parsed = JSON.parse(stored) as Partial<DeliverySettings>;
    return {
      ...DEFAULT_DELIVERY_SETTINGS,
      ...parsed,
      keywordReplies: { ...DEFAULT_DELIVERY_SETTINGS.keywordReplies, ...parsed.keywordReplies },
    };
  } catch {
    return DEFAULT_DELIVERY_SETTINGS;
  }
}

/** Merges `patch` into the stored settings and returns the result. */
export async function writeDeliverySettings(db: Db, patch: DeliverySettingsPatch): Promise<DeliverySettings> {
  const current = await readDeliverySettings(db);
  const merged: DeliverySettings = {
    ...current,
    ...patch,
    keywordReplies: { ...current.keywordReplies, ...patch.keywordReplies },
  };
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
