/**
 * A lead's time zone: their own (Clients.TimeZone) when set; else the zone of their phone's
 * country when that country has only one; else the account's default. libphonenumber-js gives the
 * country; the map below lists the single-zone countries Dripline's leads mostly come from (a
 * country with several zones, such as the US, India's neighbours aside, is left to the default).
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Countries with one IANA zone for the whole country (as their people keep time). */
export const SINGLE_ZONE_COUNTRIES: Readonly<Record<string, string>> = {
  AE: 'Asia/Dubai',
  AT: 'Europe/Vienna',
  BD: 'Asia/Dhaka',
  BE: 'Europe/Brussels',
  BH: 'Asia/Bahrain',
  CH: 'Europe/Zurich',
  CZ: 'Europe/Prague',
  DK: 'Europe/Copenhagen',
  EG: 'Africa/Cairo',
  FI: 'Europe/Helsinki',
  GB: 'Europe/London',
  GR: 'Europe/Athens',
  HK: 'Asia/Hong_Kong',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IL: 'Asia/Jerusalem',
  IN: 'Asia/Kolkata',
  IT: 'Europe/Rome',
  JP: 'Asia/Tokyo',
  KE: 'Africa/Nairobi',
  KR: 'Asia/Seoul',
  KW: 'Asia/Kuwait',
  LK: 'Asia/Colombo',
  NG: 'Africa/Lagos',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  NP: 'Asia/Kathmandu',
  OM: 'Asia/Muscat',
  PH: 'Asia/Manila',
  PK: 'Asia/Karachi',
  PL: 'Europe/Warsaw',
  QA: 'Asia/Qatar',
  RO: 'Europe/Bucharest',
  SA: 'Asia/Riyadh',
  SE: 'Europe/Stockholm',
  SG: 'Asia/Singapore',
  TH: 'Asia/Bangkok',
  TR: 'Europe/Istanbul',
  VN: 'Asia/Ho_Chi_Minh',
  ZA: 'Africa/Johannesburg',
};

export type TimeZoneSource = 'lead' | 'phone' | 'default';

export function leadTimeZone(
  lead: { timeZone: string | null; phone: string },
  defaultTimeZone: string,
): { timeZone: string; source: TimeZoneSource } {
  if (lead.timeZone) return { timeZone: lead.timeZone, source: 'lead' };
  const country = parsePhoneNumberFromString(lead.phone)?.country;
  const zone = country ? SINGLE_ZONE_COUNTRIES[country] : undefined;
  if (zone) return { timeZone: zone, source: 'phone' };
  return { timeZone: defaultTimeZone, source: 'default' };
}
