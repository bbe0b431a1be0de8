/**
 * Phone numbers are stored as E.164 everywhere inside Dripline; provider formats are derived at
 * the edge. The `max` metadata is needed: the default `min` set only checks lengths and cannot
 * tell a mobile from a landline, and WhatsApp only reaches mobiles.
 */
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type NumberType,
} from 'libphonenumber-js/max';

export type { CountryCode };

export type NormalizedPhone = { ok: true; e164: string } | { ok: false; reason: string };

const WHATSAPP_CAPABLE_TYPES: ReadonlySet<NumberType> = new Set<NumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

// Anything beyond digits and the usual separators means the field holds something else (a name,
// an email, "N/A"), and libphonenumber would happily extract digits out of it.
const PHONE_CHARACTERS = /^[\d\s+\-().]+$/;

export const isCountryCode = (value: string): value is CountryCode => isSupportedCountry(value);

/**
 * Reads a number as a person typed it (`09876543210`, `+91-98765-43210`, `0091…`) and returns it
 * as E.164, or says in words why it cannot be messaged on WhatsApp.
 */
export function normalizePhone(input: string, defaultCountry: CountryCode): NormalizedPhone {
  const text = input.trim();
  if (text === '') return { ok: false, reason: 'phone number is empty' };
  if (!PHONE_CHARACTERS.test(text) || !/\d/.test(text)) {
    return { ok: false, reason: `not a phone number: "${text}"` };
  }

  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (!parsed || !parsed.isPossible()) {
    // The length check chokes on brackets and dashes, so it gets the bare digits (and the `+`).
    const lengthProblem = validatePhoneNumberLength(text.replace(/[^\d+]/g, ''), defaultCountry);
    switch (lengthProblem) {
      case 'TOO_SHORT':
        return { ok: false, reason: `phone number is too short: "${text}"` };
      case 'TOO_LONG':
        return { ok: false, reason: `phone number is too long: "${text}"` };
      case 'INVALID_COUNTRY':
        return { ok: false, reason: `unknown country calling code in "${text}"` };
      case 'INVALID_LENGTH':
        return { ok: false, reason: `phone number has an invalid length: "${text}"` };
      default:
        return { ok: false, reason: `not a phone number: "${text}"` };
    }
  }

  if (!parsed.isValid()) {
    const where = parsed.country ?? `+${parsed.countryCallingCode}`;
    return { ok: false, reason: `not a valid ${where} phone number: "${text}"` };
  }

  const type = parsed.getType();
  if (type === undefined || !WHATSAPP_CAPABLE_TYPES.has(type)) {
    const described = type ? type.toLowerCase().replace(/_/g, ' ') : 'unknown type';
    return { ok: false, reason: `not a mobile number (${described}): "${text}"` };
  }

  return { ok: true, e164: parsed.number };
}

export interface SplitPhone {
  /** Country calling code with the plus, e.g. `+91`. */
  countryCode: string;
  /** National significant number: no country code, no trunk `0`. */
  nationalNumber: string;
}

/** Splits an E.164 number the way Interakt wants it. Throws when given anything but E.164. */
export function splitE164(e164: string): SplitPhone {
  if (!/^\+\d{2,15}$/.test(e164)) throw new Error(`not an E.164 phone number: "${e164}"`);
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) throw new Error(`not an E.164 phone number: "${e164}"`);
  return { countryCode: `+${parsed.countryCallingCode}`, nationalNumber: parsed.nationalNumber };
}

/**
 * The country calling code of an E.164 number with its plus (`+919876543210` → `+91`), as the
 * message log's CountryCode keeps it; null for anything that is not E.164 (a business-scoped user
 * id, a number a provider gave us unnormalised).
 */
export function callingCodeOf(phone: string): string | null {
  if (!/^\+\d{6,15}$/.test(phone)) return null;
  const parsed = parsePhoneNumberFromString(phone);
  return parsed ? `+${parsed.countryCallingCode}` : null;
}

/** E.164 without the plus, as Meta, Infobip and Interakt webhooks write it. */
export const e164Digits = (e164: string): string => e164.replace(/^\+/, '');
