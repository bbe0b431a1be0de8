/**
 * Interakt's settings, kept in MasterData (category `interakt`, one row per key) so an admin can
 * change them through the API without a restart. Secrets (API key, webhook secret) are sealed
 * with the SecretBox before they are written and are only ever shown masked. When MasterData
 * holds no value, the environment's INTERAKT_API_KEY / INTERAKT_WEBHOOK_SECRET apply, so a
 * deployment configured before these settings existed keeps working unchanged.
 *
 * The default country is stored as the CRM enters it, a calling code such as `+91`. Phone
 * parsing needs an ISO country; the calling code's main country is used (`+1` → US, `+44` → GB),
 * which gives the same E.164 for any number of the countries sharing that code.
 */
import metadata from 'libphonenumber-js/metadata.max.json';
import type { CountryCode } from 'libphonenumber-js';
import type { Db } from '../db/client';
import { getMasterDataCategory, setMasterDataValues, type MasterDataEntry } from '../db/queries';
import type { SecretBox } from './secret-box';
import type { LeadField } from '../shared';

export const INTERAKT_SETTINGS_CATEGORY = 'interakt';

/** Everything but the secrets: readable without the SecretBox (lead creation needs only these). */
export interface InteraktOptions {
  /** Off: sends wait (retried as a configuration problem) and no welcome is started. Default on. */
  enabled: boolean;
  /** Calling code with the plus, e.g. `+91`; null means DEFAULT_COUNTRY applies. */
  defaultCountryCode: string | null;
  welcomeOnCreate: boolean;
  welcomeTemplateName: string | null;
  welcomeTemplateLanguage: string;
  /** Media for a document header, e.g. a policies PDF. */
  welcomeHeaderMediaUrl: string | null;
  welcomeFileName: string | null;
  /** Mirror leads to Interakt (Track APIs): their mapped traits on create and update, and milestones as events. */
  trackingEnabled: boolean;
  /** Interakt trait name → the lead field it mirrors. Only these are ever sent. */
  trackedTraits: Record<string, LeadField>;
}

export type SecretSource = 'settings' | 'environment' | null;

/** Sealed in MasterData; null when neither it nor the environment holds one. */
export interface InteraktSecrets {
  apiKey: string | null;
  webhookSecret: string | null;
}

export interface InteraktSettings extends InteraktOptions, InteraktSecrets {
  apiKeySource: SecretSource;
  webhookSecretSource: SecretSource;
}

/** The environment's values, used while MasterData holds none. */
export interface InteraktSettingsFallback {
  apiKey?: string | undefined;
  webhookSecret?: string | undefined;
}

/** A partial update of the options and the secrets. A secret or optional text set to null (or '') is removed. */
export type InteraktSettingsPatch = Partial<InteraktOptions & InteraktSecrets>;

const SECRET_KEYS = new Set<keyof InteraktSettingsPatch>(['apiKey', 'webhookSecret']);
const BOOLEAN_KEYS = new Set<keyof InteraktSettingsPatch>(['enabled', 'welcomeOnCreate', 'trackingEnabled']);
/** Stored as JSON text. */
const JSON_KEYS = new Set<keyof InteraktSettingsPatch>(['trackedTraits']);

const DEFAULT_OPTIONS: InteraktOptions = {
  enabled: true,
  defaultCountryCode: null,
  welcomeOnCreate: false,
  welcomeTemplateName: null,
  welcomeTemplateLanguage: 'en',
  welcomeHeaderMediaUrl: null,
  welcomeFileName: null,
  trackingEnabled: false,
  trackedTraits: {},
};

/** What AES-GCM binds each sealed value to, so values cannot be swapped between settings. */
const secretContext = (key: string): string => `${INTERAKT_SETTINGS_CATEGORY}/${key}`;

/** Stored rows by key; an empty value means "not set". */
async function readStored(db: Db): Promise<Map<string, string>> {
  const rows = await getMasterDataCategory(db, INTERAKT_SETTINGS_CATEGORY);
  return new Map(rows.filter((row) => row.value !== '').map((row) => [row.key, row.value]));
}

function optionsFrom(stored: Map<string, string>): InteraktOptions {
  const flag = (key: string, fallback: boolean): boolean => {
    const value = stored.get(key);
    return value === undefined ? fallback : value === 'true';
  };
  return {
    enabled: flag('enabled', DEFAULT_OPTIONS.enabled),
    defaultCountryCode: stored.get('defaultCountryCode') ?? null,
    welcomeOnCreate: flag('welcomeOnCreate', DEFAULT_OPTIONS.welcomeOnCreate),
    welcomeTemplateName: stored.get('welcomeTemplateName') ?? null,
    welcomeTemplateLanguage: stored.get('welcomeTemplateLanguage') ?? DEFAULT_OPTIONS.welcomeTemplateLanguage,
    welcomeHeaderMediaUrl: stored.get('welcomeHeaderMediaUrl') ?? null,
    welcomeFileName: stored.get('welcomeFileName') ?? null,
    trackingEnabled: flag('trackingEnabled', DEFAULT_OPTIONS.trackingEnabled),
    trackedTraits: traitMap(stored.get('trackedTraits')),
  };
}

/** The stored trait map; anything but an object of strings (a hand edit) reads as no traits. */
function traitMap(text: string | undefined): Record<string, LeadField> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, LeadField] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}

export async function readInteraktOptions(db: Db): Promise<InteraktOptions> {
  return optionsFrom(await readStored(db));
}

export async function readInteraktSettings(
  db: Db,
  box: SecretBox,
  fallback: InteraktSettingsFallback = {},
): Promise<InteraktSettings> {
  const stored = await readStored(db);
  const secret = (key: 'apiKey' | 'webhookSecret', fromEnv: string | undefined): [string | null, SecretSource] => {
    const sealed = stored.get(key);
    if (sealed !== undefined) return [box.open(sealed, secretContext(key)), 'settings'];
    return fromEnv ? [fromEnv, 'environment'] : [null, null];
  };
  const [apiKey, apiKeySource] = secret('apiKey', fallback.apiKey);
  const [webhookSecret, webhookSecretSource] = secret('webhookSecret', fallback.webhookSecret);
  return { ...optionsFrom(stored), apiKey, apiKeySource, webhookSecret, webhookSecretSource };
}

export async function writeInteraktSettings(db: Db, box: SecretBox, patch: InteraktSettingsPatch): Promise<void> {
  const entries: MasterDataEntry[] = [];
  for (const [key, raw] of Object.entries(patch) as [
    keyof InteraktSettingsPatch,
    InteraktSettingsPatch[keyof InteraktSettingsPatch],
  ][]) {
    if (raw === undefined) continue;
    const isSecret = SECRET_KEYS.has(key);
    let value = raw === null ? '' : JSON_KEYS.has(key) ? JSON.stringify(raw) : String(raw);
    if (BOOLEAN_KEYS.has(key) && typeof raw !== 'boolean') throw new TypeError(`${key} must be a boolean`);
    if (isSecret && value !== '') value = box.seal(value, secretContext(key));
    entries.push({ key, value, isSecret });
  }
  await setMasterDataValues(db, INTERAKT_SETTINGS_CATEGORY, entries);
}

/**
 * The worker's `getApiKey`: the current key, read per send. One indexed read of a handful of rows
 * and one AES-GCM open per send is nothing next to the provider call, and it means a rotated key
 * is used by the very next send, with no cache to invalidate and no restart.
 */
export function interaktApiKeyReader(
  db: Db,
  box: SecretBox,
  fallback: InteraktSettingsFallback,
): () => Promise<string> {
  return async () => {
    const settings = await readInteraktSettings(db, box, fallback);
    if (!settings.enabled)
      throw new Error('Interakt is disabled in settings (PUT /settings/interakt {"enabled": true})');
    if (!settings.apiKey)
      throw new Error('no Interakt API key is configured (PUT /settings/interakt, or INTERAKT_API_KEY)');
    return settings.apiKey;
  };
}

/**
 * The webhook secret to verify Interakt's signatures with: the one saved in settings, else the
 * environment's. Webhooks are the API's hottest path, so the answer is reused for `ttlMs`; a
 * secret changed through the API applies to webhooks within that time.
 */
export function interaktWebhookSecretReader(
  db: Db,
  box: SecretBox,
  fallback: InteraktSettingsFallback,
  ttlMs = 5_000,
  now: () => number = Date.now,
): () => Promise<string | null> {
  let cached: { secret: string | null; until: number } | null = null;
  return async () => {
    if (cached && cached.until > now()) return cached.secret;
    const { webhookSecret } = await readInteraktSettings(db, box, fallback);
    cached = { secret: webhookSecret, until: now() + ttlMs };
    return webhookSecret;
  };
}

/** `••••••••1a2b`: enough to tell two keys apart, never enough to use one. Short values show nothing. */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `••••••••${value.slice(-4)}` : '••••••••';
}

/** ISO country whose numbers a bare national number is read as, for a calling code like `+91`. */
export function countryForCallingCode(callingCode: string): CountryCode | undefined {
  const digits = /^\+(\d{1,4})$/.exec(callingCode.trim())?.[1];
  if (!digits) return undefined;
  // The first country listed for a calling code is its main one (US for +1, GB for +44).
  const countries: Record<string, string[] | undefined> = metadata.country_calling_codes;
  return countries[digits]?.[0] as CountryCode | undefined;
}

/** The country for phone parsing: the settings' calling code when set and known, else `fallback`. */
export function defaultCountryOf(
  options: Pick<InteraktOptions, 'defaultCountryCode'>,
  fallback: CountryCode,
): CountryCode {
  return (options.defaultCountryCode && countryForCallingCode(options.defaultCountryCode)) || fallback;
}
