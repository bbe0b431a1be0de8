/**
 * Signed CTA links: the seed's `<lead_id>:<timestamp>:<hash>` made stronger. A token binds the
 * lead, the flow, the button's action and an expiry, names the key that signed it, and carries no
 * phone number or other personal data:
 *
 *   <leadId>.<flowId>.<i|n>.<expUnixSeconds>.<kid>.<mac>
 *
 * where `mac` is base64url(HMAC-SHA256(key, domain-separated claims)) cut to 16 bytes (128 bits,
 * out of reach of online guessing). Every character is URL-unreserved, so the token rides inside a
 * template's dynamic URL-button suffix without encoding. Pure functions, no I/O: the keyring is
 * read by signing-keys.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CTA_ACTIONS, type CtaAction } from './contract';

export interface CtaSigningKey {
  kid: string;
  /** At least CTA_SECRET_MIN_BYTES random bytes. */
  secret: Buffer;
}

export interface CtaKeyring {
  /** Signs new tokens. */
  current: CtaSigningKey;
  /** Every key whose tokens still verify, by kid (the current one included). */
  keys: ReadonlyMap<string, CtaSigningKey>;
}

export interface CtaTokenClaims {
  leadId: number;
  flowId: number;
  action: CtaAction;
  expiresAt: Date;
  kid: string;
}

export type CtaTokenFailure = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'wrong_lead' | 'wrong_action';

export type CtaTokenCheck = { ok: true; claims: CtaTokenClaims } | { ok: false; reason: CtaTokenFailure };

export const CTA_SECRET_MIN_BYTES = 32;
export const CTA_MAC_BYTES = 16;
/** Kids are chosen by signing-keys.ts; this is what a token may carry, bounded so parsing stays cheap. */
export const CTA_KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Separates these MACs from any other use of the same key, and lets a v2 format coexist. */
const MAC_DOMAIN = 'dripline/cta-link/v1';
const ACTION_CODES: Record<CtaAction, string> = { interested: 'i', not_interested: 'n' };
const ACTIONS_BY_CODE = new Map<string, CtaAction>(CTA_ACTIONS.map((action) => [ACTION_CODES[action], action]));

/** No leading zeros, so each claim has exactly one spelling; 15 digits stays a safe integer. */
const ID_PATTERN = /^[1-9][0-9]{0,14}$/;
const EXPIRY_PATTERN = /^[1-9][0-9]{0,11}$/;
const MAC_LENGTH = Math.ceil((CTA_MAC_BYTES * 4) / 3);
const MAC_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${MAC_LENGTH}}$`);
/** Longer than any token we sign: refused before it is split. */
const MAX_TOKEN_LENGTH = 15 + 15 + 1 + 12 + 32 + MAC_LENGTH + 5;

const isPositiveId = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && String(n).length <= 15;

function mac(key: CtaSigningKey, leadId: string, flowId: string, actionCode: string, exp: string): string {
  return createHmac('sha256', key.secret)
    .update([MAC_DOMAIN, key.kid, leadId, flowId, actionCode, exp].join('\n'))
    .digest()
    .subarray(0, CTA_MAC_BYTES)
    .toString('base64url');
}

/** A token for one button of one message. Throws on claims that could not be verified later. */
export function signCtaToken(
  keyring: CtaKeyring,
  claims: { leadId: number; flowId: number; action: CtaAction; expiresAt: Date },
): string {
  const { current } = keyring;
  if (!isPositiveId(claims.leadId)) throw new RangeError(`leadId must be a positive integer, got ${claims.leadId}`);
  if (!isPositiveId(claims.flowId)) throw new RangeError(`flowId must be a positive integer, got ${claims.flowId}`);
  const actionCode = ACTION_CODES[claims.action];
  if (actionCode === undefined) throw new RangeError(`action must be one of ${CTA_ACTIONS.join(', ')}`);
  const expSeconds = Math.floor(claims.expiresAt.getTime() / 1000);
  if (!Number.isFinite(expSeconds) || !EXPIRY_PATTERN.test(String(expSeconds)))
    throw new RangeError('expiresAt must be a valid date after 1970');
  if (!CTA_KID_PATTERN.test(current.kid)) throw new RangeError('the current signing key has a malformed kid');
  if (current.secret.length < CTA_SECRET_MIN_BYTES)
    throw new RangeError(`CTA signing keys must be at least ${CTA_SECRET_MIN_BYTES} bytes`);

  const parts = [String(claims.leadId), String(claims.flowId), actionCode, String(expSeconds)] as const;
  return [...parts, current.kid, mac(current, ...parts)].join('.');
}

/**
 * Whether `token` is one we signed, still valid, for this lead and this action. Never throws on
 * any input. The MAC is checked before any claim is believed, so the reasons after
 * `bad_signature` describe genuine tokens (an old link, a forwarded link, the other button).
 */
export function verifyCtaToken(
  keyring: CtaKeyring,
  token: string,
  expected: { leadId: number; action: string },
  now: Date,
): CtaTokenCheck {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 6) return { ok: false, reason: 'malformed' };
  const [leadId, flowId, actionCode, exp, kid, givenMac] = parts as [string, string, string, string, string, string];
  const action = ACTIONS_BY_CODE.get(actionCode);
  if (
    !ID_PATTERN.test(leadId) ||
    !ID_PATTERN.test(flowId) ||
    action === undefined ||
    !EXPIRY_PATTERN.test(exp) ||
    !CTA_KID_PATTERN.test(kid) ||
    !MAC_PATTERN.test(givenMac)
  ) {
    return { ok: false, reason: 'malformed' };
  }

  const key = keyring.keys.get(kid) ?? (keyring.current.kid === kid ? keyring.current : undefined);
  if (!key) return { ok: false, reason: 'unknown_key' };

  // Compared as the canonical base64url text, so a second spelling of the same bytes is refused.
  const expectedMac = Buffer.from(mac(key, leadId, flowId, actionCode, exp), 'ascii');
  const given = Buffer.from(givenMac, 'ascii');
  // timingSafeEqual throws on a length mismatch; MAC_PATTERN fixed the length, checked again here.
  if (given.length !== expectedMac.length || !timingSafeEqual(given, expectedMac))
    return { ok: false, reason: 'bad_signature' };

  const claims: CtaTokenClaims = {
    leadId: Number(leadId),
    flowId: Number(flowId),
    action,
    expiresAt: new Date(Number(exp) * 1000),
    kid,
  };
  if (now.getTime() >= claims.expiresAt.getTime()) return { ok: false, reason: 'expired' };
  if (claims.leadId !== expected.leadId) return { ok: false, reason: 'wrong_lead' };
  if (claims.action !== expected.action) return { ok: false, reason: 'wrong_action' };
  return { ok: true, claims };
}

/**
 * The value of a template's dynamic URL button whose URL is `<base>/track/{{1}}`: WhatsApp
 * appends it to the approved prefix, giving `<base>/track/<leadId>?token=…&action=…`.
 */
export function ctaButtonSuffix(leadId: number, token: string, action: CtaAction): string {
  return `${leadId}?token=${token}&action=${action}`;
}
