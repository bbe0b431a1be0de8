/**
 * When a marketing message may go: send windows in the lead's time zone, quiet days, the
 * frequency cap, opt-out keywords and the timeline a drip will follow. Pure and deterministic:
 * every function takes the time it reasons about as an argument (workflow code passes workflow
 * time), so the drip workflow, the API's timeline preview and a campaign recipient compute the
 * same answers. Workflow-safe: Intl is the only outside thing it touches, and it reads the time
 * zone database of the runtime, not the clock.
 */

import type { IsoWeekday, SendWindow } from '../db/schema/values';
export type { IsoWeekday, SendWindow, SequenceSendRules } from '../db/schema/values';

/** Where and when one lead may receive one flow's messages. */
export interface SendRules {
  /** IANA zone the window and quiet days are read in. */
  timeZone: string;
  /** null: any time of day. */
  window: SendWindow | null;
  /** Local dates (`YYYY-MM-DD`) on which nothing is sent, e.g. public holidays. */
  quietDates: string[];
}

/** At most `max` marketing messages per lead in any rolling `periodSeconds`. */
export interface FrequencyCap {
  max: number;
  periodSeconds: number;
}

/** The rules one drip step is sent under, resolved for its lead when the step's wait begins. */
export interface DripSendPlan {
  rules: SendRules;
  cap: FrequencyCap | null;
  /** Whether the step counts against (and waits for) the frequency cap: marketing, not transactional. */
  capped: boolean;
}

/** The failure type (and skip reason) of a marketing send held back by the frequency cap. */
export const FREQUENCY_CAPPED = 'frequency_capped';

/** A window that lets everything through. */
export const ANY_TIME: SendRules = { timeZone: 'UTC', window: null, quietDates: [] };

/**
 * How far ahead a window is looked for. The schemas refuse a window with no day; only quiet days
 * covering every allowed day for ten years could exhaust it, and then the rules are ignored (the
 * message goes when due) rather than a workflow failing on them.
 */
const MAX_DAYS_AHEAD = 3660;

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: IsoWeekday;
  /** `YYYY-MM-DD`. */
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

const WEEKDAYS: Record<string, IsoWeekday> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The wall-clock time in `timeZone` at the instant `ms`. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  return {
    year,
    month,
    day,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday!] ?? 1,
    date: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
  };
}

/** The zone's offset from UTC at the instant `ms`, in ms (Kolkata +19,800,000). */
function offsetAt(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  const seconds = Math.floor(ms / 1000) % 60;
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, seconds < 0 ? seconds + 60 : seconds);
  return asUtc - (ms - (ms % 1000));
}

/**
 * The instant the clocks of `timeZone` show this local date and time. A time skipped by a
 * daylight-saving change (02:30 on the March night in New York) is read with the offset before
 * the change, which lands after the gap (03:30 EDT); a time shown twice takes the first.
 */
export function zonedInstant(timeZone: string, year: number, month: number, day: number, minuteOfDay: number): number {
  const wall = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  if (first === second) return first;
  // Two candidates around a change: take the earlier that really shows this wall time, else the later.
  const shows = (ms: number) => ms + offsetAt(ms, timeZone) === wall;
  if (shows(Math.min(first, second))) return Math.min(first, second);
  if (shows(Math.max(first, second))) return Math.max(first, second);
  return wall - offsetAt(wall - 86_400_000, timeZone);
}

export function minuteOfDay(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** Whether a message may go at `ms` under these rules. */
export function isInsideWindow(ms: number, rules: SendRules): boolean {
  const local = localTime(ms, rules.timeZone);
  if (rules.quietDates.includes(local.date)) return false;
  if (!rules.window) return true;
  if (!rules.window.days.includes(local.weekday)) return false;
  const minute = local.hour * 60 + local.minute;
  return minute >= minuteOfDay(rules.window.start) && minute < minuteOfDay(rules.window.end);
}

/**
 * The first instant at or after `dueMs` at which a message may go: `dueMs` itself when it is
 * inside the window, else the next opening of the window in the lead's local time on an allowed,
 * non-quiet day. Daylight-saving changes move the UTC instant, never the local opening time.
 */
export function nextWindowOpening(dueMs: number, rules: SendRules): number {
  if (isInsideWindow(dueMs, rules)) return dueMs;
  const start = rules.window ? minuteOfDay(rules.window.start) : 0;
  const due = localTime(dueMs, rules.timeZone);
  for (let dayOffset = 0; dayOffset <= MAX_DAYS_AHEAD; dayOffset += 1) {
    // Noon of the candidate day, so the calendar date is right whatever the zone's offsets.
    const noon = zonedInstant(rules.timeZone, due.year, due.month, due.day, 12 * 60) + dayOffset * 86_400_000;
    const day = localTime(noon, rules.timeZone);
    const opening = zonedInstant(rules.timeZone, day.year, day.month, day.day, start);
    if (opening < dueMs) continue;
    if (isInsideWindow(opening, rules)) return opening;
  }
  return dueMs;
}

/**
 * The first instant at or after `atMs` at which the lead has a free slot under the cap, given the
 * times of the marketing messages already claimed for them. A claim holds its slot for the
 * period: it frees at `claimedAt + period`.
 */
export function capFreeAt(claimedAtMs: readonly number[], cap: FrequencyCap | null, atMs: number): number {
  if (!cap) return atMs;
  const periodMs = cap.periodSeconds * 1000;
  const live = claimedAtMs.filter((claimedAt) => claimedAt + periodMs > atMs).sort((a, b) => a - b);
  if (live.length < cap.max) return atMs;
  return live[live.length - cap.max]! + periodMs;
}

/**
 * The instant a message due at `dueMs` may go, given the window and the cap: the window's next
 * opening, pushed on to the next free slot and then to the window again, until both agree.
 */
export function nextAllowedSend(
  dueMs: number,
  rules: SendRules,
  cap: FrequencyCap | null,
  claimedAtMs: readonly number[],
): number {
  let at = dueMs;
  for (let round = 0; round < 1000; round += 1) {
    const open = nextWindowOpening(at, rules);
    const free = capFreeAt(claimedAtMs, cap, open);
    if (free === open) return open;
    at = free;
  }
  // Unreachable with a window that opens: each round moves past a claim. Never fail the caller.
  return at;
}

export interface PlannedStep {
  stepIndex: number;
  /** When the step's delay ends. */
  dueAt: number;
  /** When it will be sent: the first time the window and the cap allow. */
  sendAt: number;
}

/**
 * Every remaining step's send time, as the drip workflow will send them: each step is due its
 * delay after the previous step's send (the first after `fromMs`), then waits for the window and
 * the cap. Each planned send takes a slot of the cap for the steps after it.
 */
export function planSends(params: {
  fromMs: number;
  delaysSeconds: readonly number[];
  rules: SendRules;
  cap: FrequencyCap | null;
  /** Marketing messages already claimed for the lead. */
  claimedAtMs: readonly number[];
  /** Transactional flows ignore the cap. */
  capped: boolean;
  firstStepIndex?: number;
}): PlannedStep[] {
  const claims = [...params.claimedAtMs];
  const planned: PlannedStep[] = [];
  let previous = params.fromMs;
  params.delaysSeconds.forEach((delaySeconds, offset) => {
    const dueAt = previous + delaySeconds * 1000;
    const sendAt = nextAllowedSend(dueAt, params.rules, params.capped ? params.cap : null, claims);
    if (params.capped) claims.push(sendAt);
    planned.push({ stepIndex: (params.firstStepIndex ?? 0) + offset, dueAt, sendAt });
    previous = sendAt;
  });
  return planned;
}

// ---------------------------------------------------------------------------------------------
// Keywords.

export const DEFAULT_OPT_OUT_KEYWORDS = ['STOP', 'UNSUBSCRIBE'] as const;
export const DEFAULT_OPT_IN_KEYWORDS = ['START'] as const;

/** Longest inbound text read for a keyword: a keyword is a word or two, never a paragraph. */
const MAX_KEYWORD_TEXT = 100;

/**
 * A keyword as it is compared: Unicode-normalised (NFKC), case folded, surrounding punctuation,
 * symbols and spaces dropped, inner runs of spaces made one. `" Stop!! "` → `stop`,
 * `"¡Baja!"` → `baja`.
 */
export function normaliseKeyword(text: string): string {
  return text
    .slice(0, MAX_KEYWORD_TEXT * 2)
    .normalize('NFKC')
    .toLocaleLowerCase('und')
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '')
    .replace(/\s+/gu, ' ');
}

export type KeywordMatch = 'opt_out' | 'opt_in' | null;

/** Whether an inbound text is, on its own, one of the opt-out or opt-in keywords. */
export function matchKeyword(
  text: string | null,
  keywords: { optOut: readonly string[]; optIn: readonly string[] },
): KeywordMatch {
  if (text === null || text.length > MAX_KEYWORD_TEXT) return null;
  const said = normaliseKeyword(text);
  if (said === '') return null;
  if (keywords.optOut.some((keyword) => normaliseKeyword(keyword) === said)) return 'opt_out';
  if (keywords.optIn.some((keyword) => normaliseKeyword(keyword) === said)) return 'opt_in';
  return null;
}
