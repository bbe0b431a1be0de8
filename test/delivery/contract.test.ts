/**
 * The send rules' pure core: windows in the lead's zone across daylight-saving changes, quiet
 * days, the cap's next free slot, the planned timeline, and keyword matching.
 */
import { describe, expect, it } from 'vitest';
import {
  capFreeAt,
  isInsideWindow,
  matchKeyword,
  nextAllowedSend,
  nextWindowOpening,
  planSends,
  zonedInstant,
  type SendRules,
} from '../../src/delivery/contract';
import { leadTimeZone } from '../../src/delivery/time-zone';

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7] as const;
const rules = (timeZone: string, extra: Partial<SendRules> = {}): SendRules => ({
  timeZone,
  window: { days: [...EVERY_DAY], start: '09:00', end: '20:00' },
  quietDates: [],
  ...extra,
});
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('nextWindowOpening', () => {
  it('moves a send due at 02:00 in Kolkata to 09:00 the same local day', () => {
    expect(iso(nextWindowOpening(at('2027-03-13T20:30:00Z'), rules('Asia/Kolkata')))).toBe('2027-03-14T03:30:00.000Z');
  });

  it('opens at 09:00 local in New York on both sides of the March change: 14:00Z before, 13:00Z after', () => {
    const ny = rules('America/New_York');
    expect(iso(nextWindowOpening(at('2027-03-13T07:00:00Z'), ny))).toBe('2027-03-13T14:00:00.000Z');
    // 01:00 EST on the night of the change: the clocks jump at 02:00, the window still opens at 09:00 EDT.
    expect(iso(nextWindowOpening(at('2027-03-14T06:00:00Z'), ny))).toBe('2027-03-14T13:00:00.000Z');
    // And back in November: 09:00 EST is 14:00Z again.
    expect(iso(nextWindowOpening(at('2027-11-07T06:30:00Z'), ny))).toBe('2027-11-07T14:00:00.000Z');
  });

  it('leaves a send inside the window where it is, and moves one after closing to the next day', () => {
    const kolkata = rules('Asia/Kolkata');
    expect(nextWindowOpening(at('2027-03-15T06:00:00Z'), kolkata)).toBe(at('2027-03-15T06:00:00Z'));
    expect(iso(nextWindowOpening(at('2027-03-15T14:30:00Z'), kolkata))).toBe('2027-03-16T03:30:00.000Z');
  });

  it('skips days outside the window (Mon–Sat: Sunday goes to Monday) and quiet dates', () => {
    const monToSat = rules('Asia/Kolkata', { window: { days: [1, 2, 3, 4, 5, 6], start: '09:00', end: '20:00' } });
    // Sunday 14 March 2027, 10:00 IST.
    expect(iso(nextWindowOpening(at('2027-03-14T04:30:00Z'), monToSat))).toBe('2027-03-15T03:30:00.000Z');
    const quiet = rules('Asia/Kolkata', { quietDates: ['2027-03-15', '2027-03-16'] });
    expect(iso(nextWindowOpening(at('2027-03-15T04:30:00Z'), quiet))).toBe('2027-03-17T03:30:00.000Z');
    expect(isInsideWindow(at('2027-03-15T04:30:00Z'), quiet)).toBe(false);
  });

  it('reads a local time skipped by the change as the time after the gap', () => {
    expect(iso(zonedInstant('America/New_York', 2027, 3, 14, 150))).toBe('2027-03-14T07:30:00.000Z');
  });
});

describe('the frequency cap', () => {
  const cap = { max: 1, periodSeconds: 24 * 3600 };

  it('frees a slot a period after the claim that holds it', () => {
    const claimed = at('2027-03-15T04:00:00Z');
    expect(capFreeAt([claimed], cap, claimed + HOUR)).toBe(claimed + DAY);
    expect(capFreeAt([claimed], cap, claimed + DAY)).toBe(claimed + DAY);
    expect(capFreeAt([claimed], { max: 2, periodSeconds: 86_400 }, claimed + HOUR)).toBe(claimed + HOUR);
  });

  it('applies the window again after the cap: a slot freeing at night waits for the morning', () => {
    const claimed = at('2027-03-15T14:00:00Z'); // 19:30 IST; with a 25-hour period it frees at 20:30 IST
    const next = nextAllowedSend(claimed + HOUR, rules('Asia/Kolkata'), { max: 1, periodSeconds: 25 * 3600 }, [
      claimed,
    ]);
    expect(iso(next)).toBe('2027-03-17T03:30:00.000Z');
  });

  it('plans each send from the previous send, each taking a slot for the next', () => {
    const planned = planSends({
      fromMs: at('2027-03-15T04:00:00Z'),
      delaysSeconds: [0, 3600, 3 * 86_400],
      rules: rules('Asia/Kolkata'),
      cap,
      claimedAtMs: [],
      capped: true,
    });
    expect(planned.map((step) => iso(step.sendAt))).toEqual([
      '2027-03-15T04:00:00.000Z',
      '2027-03-16T04:00:00.000Z',
      '2027-03-19T04:00:00.000Z',
    ]);
    expect(iso(planned[1]!.dueAt)).toBe('2027-03-15T05:00:00.000Z');
  });
});

describe('keywords', () => {
  const keywords = { optOut: ['STOP', 'UNSUBSCRIBE', 'baja', 'रोकें'], optIn: ['START'] };

  it('matches STOP in any case with surrounding punctuation and spaces', () => {
    for (const text of ['stop', ' sToP!!! ', '"Stop."', '¡STOP!', 'unsubscribe 🙏', '¡Baja!', 'रोकें।'])
      expect(matchKeyword(text, keywords), text).toBe('opt_out');
    expect(matchKeyword('Start.', keywords)).toBe('opt_in');
  });

  it('does not match a keyword inside a sentence, or nothing at all', () => {
    for (const text of ['please stop calling', 'stopped', '!!!', '', null])
      expect(matchKeyword(text, keywords)).toBeNull();
  });
});

describe("a lead's time zone", () => {
  it('is their own, else their phone country’s single zone, else the account default', () => {
    expect(leadTimeZone({ timeZone: 'Europe/Paris', phone: '+919876543210' }, 'UTC')).toEqual({
      timeZone: 'Europe/Paris',
      source: 'lead',
    });
    expect(leadTimeZone({ timeZone: null, phone: '+919876543210' }, 'UTC')).toEqual({
      timeZone: 'Asia/Kolkata',
      source: 'phone',
    });
    expect(leadTimeZone({ timeZone: null, phone: '+12025550123' }, 'America/Chicago')).toEqual({
      timeZone: 'America/Chicago',
      source: 'default',
    });
  });
});
