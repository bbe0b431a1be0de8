import { describe, expect, it } from 'vitest';
import { maskPhone } from '../../src/logging/redact';
import { isCountryCode, normalizePhone, splitE164 } from '../../src/providers/phone';

describe('normalizePhone', () => {
  it.each([
    '9876543210',
    '09876543210',
    '+91 98765 43210',
    '+91-98765-43210',
    '+91-9876-543-210',
    '919876543210',
    '00919876543210',
    '(+91) 98765-43210',
    '+91 098765 43210',
    '  9876543210  ',
  ])('reads the Indian mobile typed as %j as +919876543210', (input) => {
    expect(normalizePhone(input, 'IN')).toEqual({ ok: true, e164: '+919876543210' });
  });

  it('keeps a foreign number written with + instead of reading it as Indian', () => {
    expect(normalizePhone('+44 7911 123456', 'IN')).toEqual({ ok: true, e164: '+447911123456' });
  });

  it('accepts FIXED_LINE_OR_MOBILE numbers, where the plan cannot tell them apart', () => {
    expect(normalizePhone('+1 415 555 2671', 'IN')).toEqual({ ok: true, e164: '+14155552671' });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['abc', /not a phone number/],
    ['N/A', /not a phone number/],
    ['98765abc43210', /not a phone number/],
    ['98765', /too short/],
    ['987654321012345678', /too long/],
    ['+91 98765 4321', /not a valid IN phone number/],
    ['0919876543210', /not a valid IN phone number/],
    ['447911123456', /not a valid IN phone number/],
    ['1234567890', /not a mobile number \(fixed line\)/],
    ['+91 5876543210', /not a mobile number/],
  ])('rejects %j with a reason matching %s', (input, reason) => {
    const result = normalizePhone(input, 'IN');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('splitE164', () => {
  it('splits into the +country code and the national number without a trunk 0', () => {
    expect(splitE164('+919876543210')).toEqual({ countryCode: '+91', nationalNumber: '9876543210' });
    expect(splitE164('+447911123456')).toEqual({ countryCode: '+44', nationalNumber: '7911123456' });
    expect(splitE164('+14155552671')).toEqual({ countryCode: '+1', nationalNumber: '4155552671' });
  });

  it.each(['9876543210', '+91 98765 43210', '919876543210', ''])('refuses %j, which is not E.164', (input) => {
    expect(() => splitE164(input)).toThrow(/E\.164/);
  });
});

describe('isCountryCode', () => {
  it('tells supported ISO country codes from other strings', () => {
    expect(isCountryCode('IN')).toBe(true);
    expect(isCountryCode('XX')).toBe(false);
  });
});

describe('maskPhone', () => {
  it('hides every digit but the last four, keeping the plus and separators', () => {
    expect(maskPhone('+919812345678')).toBe('+••••••••5678');
    expect(maskPhone('+1 (202) 555-0123')).toBe('+• (•••) •••-0123');
    expect(maskPhone('12345')).toBe('•2345');
    expect(maskPhone('5678')).toBe('5678');
  });
});
