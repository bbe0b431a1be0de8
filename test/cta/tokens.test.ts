import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ctaButtonSuffix,
  signCtaToken,
  verifyCtaToken,
  type CtaKeyring,
  type CtaSigningKey,
} from '../../src/cta/tokens';

const key = (kid: string): CtaSigningKey => ({ kid, secret: randomBytes(32) });
const ring = (current: CtaSigningKey, ...older: CtaSigningKey[]): CtaKeyring => ({
  current,
  keys: new Map([current, ...older].map((k) => [k.kid, k])),
});

const NOW = new Date('2026-03-01T10:00:00Z');
const IN_A_WEEK = new Date('2026-03-08T10:00:00Z');
const claims = { leadId: 4821, flowId: 7, action: 'interested' as const, expiresAt: IN_A_WEEK };
const keyA = key('keyA');
const keyring = ring(keyA);

/** Swaps one dot-separated field of a token. */
const withField = (token: string, index: number, value: string): string => {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
};

describe('CTA tokens', () => {
  it('verifies a token it signed and returns its claims', () => {
    const token = signCtaToken(keyring, claims);
    expect(verifyCtaToken(keyring, token, { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: true,
      claims: { leadId: 4821, flowId: 7, action: 'interested', expiresAt: IN_A_WEEK, kid: 'keyA' },
    });
  });

  it('uses only URL-unreserved characters, so the token survives a URL suffix unencoded', () => {
    const token = signCtaToken(keyring, { ...claims, leadId: 987654321012, flowId: 123456 });
    expect(token).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
  });

  it('carries no phone number or other personal data: only ids, action, expiry, kid and MAC', () => {
    const token = signCtaToken(keyring, claims);
    const [leadId, flowId, action, exp, kid, mac] = token.split('.');
    expect([leadId, flowId, action, exp, kid]).toEqual(['4821', '7', 'i', String(IN_A_WEEK.getTime() / 1000), 'keyA']);
    expect(mac).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('refuses a token whose lead, flow, action or expiry was changed, as bad_signature', () => {
    const token = signCtaToken(keyring, claims);
    const later = String(IN_A_WEEK.getTime() / 1000 + 86_400);
    expect(verifyCtaToken(keyring, withField(token, 0, '4822'), { leadId: 4822, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyCtaToken(keyring, withField(token, 1, '8'), { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyCtaToken(keyring, withField(token, 2, 'n'), { leadId: 4821, action: 'not_interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyCtaToken(keyring, withField(token, 3, later), { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it("refuses a token whose MAC was changed in any one character, including the last one's unused bits", () => {
    const token = signCtaToken(keyring, claims);
    const mac = token.split('.')[5]!;
    for (let i = 0; i < mac.length; i++) {
      const flipped = mac.slice(0, i) + (mac[i] === 'A' ? 'B' : 'A') + mac.slice(i + 1);
      expect(
        verifyCtaToken(keyring, withField(token, 5, flipped), { leadId: 4821, action: 'interested' }, NOW),
      ).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses a token signed with a key of the same kid but another secret', () => {
    const forged = signCtaToken(ring(key('keyA')), claims);
    expect(verifyCtaToken(keyring, forged, { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a token naming a kid the keyring does not hold as unknown_key, and a relabelled kid as bad_signature', () => {
    const keyB = key('keyB');
    const both = ring(keyA, keyB);
    const token = signCtaToken(keyring, claims);
    expect(verifyCtaToken(keyring, withField(token, 4, 'keyZ'), { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
    expect(verifyCtaToken(both, withField(token, 4, 'keyB'), { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses an expired token, from the second of its expiry on', () => {
    const token = signCtaToken(keyring, claims);
    expect(
      verifyCtaToken(keyring, token, { leadId: 4821, action: 'interested' }, new Date(IN_A_WEEK.getTime() - 1000)).ok,
    ).toBe(true);
    expect(verifyCtaToken(keyring, token, { leadId: 4821, action: 'interested' }, IN_A_WEEK)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it("refuses another lead's genuine token as wrong_lead", () => {
    const othersToken = signCtaToken(keyring, { ...claims, leadId: 5000 });
    expect(verifyCtaToken(keyring, othersToken, { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'wrong_lead',
    });
  });

  it('refuses the interested token used with action=not_interested as wrong_action', () => {
    const token = signCtaToken(keyring, claims);
    expect(verifyCtaToken(keyring, token, { leadId: 4821, action: 'not_interested' }, NOW)).toEqual({
      ok: false,
      reason: 'wrong_action',
    });
    expect(verifyCtaToken(keyring, token, { leadId: 4821, action: 'anything' }, NOW)).toEqual({
      ok: false,
      reason: 'wrong_action',
    });
  });

  it('checks the signature before expiry, lead or action: a forged expired token for another lead is bad_signature', () => {
    const token = signCtaToken(keyring, { ...claims, expiresAt: new Date('2020-01-01T00:00:00Z') });
    const forged = withField(token, 0, '9999');
    expect(verifyCtaToken(keyring, forged, { leadId: 1, action: 'not_interested' }, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('answers malformed, without throwing, for inputs of many shapes and lengths', () => {
    const token = signCtaToken(keyring, claims);
    const mac = token.split('.')[5]!;
    const malformed = [
      '',
      '.',
      '.....',
      'abc',
      token + '.',
      token + '.extra',
      token.split('.').slice(0, 5).join('.'),
      withField(token, 0, '04821'),
      withField(token, 0, '0'),
      withField(token, 0, '-4821'),
      withField(token, 0, '4821 '),
      withField(token, 0, '1e3'),
      withField(token, 0, '9'.repeat(16)),
      withField(token, 1, ''),
      withField(token, 2, 'x'),
      withField(token, 2, 'interested'),
      withField(token, 3, '0'),
      withField(token, 3, '9'.repeat(13)),
      withField(token, 3, '12.5'),
      withField(token, 4, ''),
      withField(token, 4, 'k'.repeat(33)),
      withField(token, 4, 'key%41'),
      withField(token, 5, mac.slice(0, -1)),
      withField(token, 5, mac + 'A'),
      withField(token, 5, mac.slice(0, -1) + '='),
      withField(token, 5, mac.slice(0, -2) + '+/'),
      withField(token, 5, ''),
      token.replaceAll('.', ':'),
      'x'.repeat(10_000),
      `${token}${'A'.repeat(5000)}`,
      '\u0000'.repeat(40),
      'é'.repeat(30),
    ];
    for (const input of malformed) {
      expect(
        verifyCtaToken(keyring, input, { leadId: 4821, action: 'interested' }, NOW),
        JSON.stringify(input.slice(0, 60)),
      ).toEqual({ ok: false, reason: 'malformed' });
    }
    for (const notAString of [undefined, null, 42, {}, []]) {
      expect(
        verifyCtaToken(keyring, notAString as unknown as string, { leadId: 4821, action: 'interested' }, NOW),
      ).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('keeps links signed before a rotation valid, and signs new ones with the new key', () => {
    const before = signCtaToken(keyring, claims);
    const keyB = key('keyB');
    const rotated = ring(keyB, keyA);
    const after = signCtaToken(rotated, claims);
    expect(after.split('.')[4]).toBe('keyB');
    expect(verifyCtaToken(rotated, before, { leadId: 4821, action: 'interested' }, NOW).ok).toBe(true);
    expect(verifyCtaToken(rotated, after, { leadId: 4821, action: 'interested' }, NOW).ok).toBe(true);
  });

  it('stops verifying links of a retired key', () => {
    const keyB = key('keyB');
    const before = signCtaToken(ring(keyA), claims);
    const retired = ring(keyB);
    expect(verifyCtaToken(retired, before, { leadId: 4821, action: 'interested' }, NOW)).toEqual({
      ok: false,
      reason: 'unknown_key',
    });
  });

  it('refuses to sign with a short key or claims it could not verify later', () => {
    expect(() => signCtaToken(ring({ kid: 'short', secret: randomBytes(16) }), claims)).toThrow(RangeError);
    expect(() => signCtaToken(keyring, { ...claims, leadId: 0 })).toThrow(RangeError);
    expect(() => signCtaToken(keyring, { ...claims, flowId: 1.5 })).toThrow(RangeError);
    expect(() => signCtaToken(keyring, { ...claims, action: 'maybe' as never })).toThrow(RangeError);
    expect(() => signCtaToken(keyring, { ...claims, expiresAt: new Date('nope') })).toThrow(RangeError);
  });

  it('builds the URL-button suffix that turns <base>/track/{{1}} into the click URL', () => {
    const token = signCtaToken(keyring, claims);
    const suffix = ctaButtonSuffix(4821, token, 'interested');
    expect(suffix).toBe(`4821?token=${token}&action=interested`);
    const url = new URL(`https://crm.example.com/track/${suffix}`);
    expect(url.pathname).toBe('/track/4821');
    expect(url.searchParams.get('token')).toBe(token);
    expect(url.searchParams.get('action')).toBe('interested');
  });
});
