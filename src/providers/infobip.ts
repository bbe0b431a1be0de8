/**
 * Infobip client (providers.md §2): the People API and SMS logs that the CRM sync reads, and
 * WhatsApp template sends. Auth is `App <key>` against the account's own base URL. Every failure
 * is a `ProviderError` whose kind says what a retry can achieve; the client never retries by
 * itself (Temporal retries the activity), but it paces its own requests to the documented rates so
 * a sync never provokes a 429 on its own.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ProviderError } from './errors';
import { e164Digits } from './phone';
import { callProvider, parseRetryAfter, readCredential } from './transport';
import {
  buttonParameterKind,
  type HeaderFormat,
  type MessagingProvider,
  type SendAccepted,
  type TemplateSend,
} from './types';
import type { ProviderName } from '../shared';

export const INFOBIP_PROVIDER_NAME: ProviderName = 'infobip';

/** Documented per-account limits (§2.5): People 5 requests/s, SMS logs 120 requests/min. */
export const INFOBIP_PEOPLE_REQUESTS_PER_SECOND = 5;
export const INFOBIP_LOGS_REQUESTS_PER_MINUTE = 120;
export const INFOBIP_MAX_PAGE_SIZE = 1000;
/** SMS logs reach back this far only (§2.5); a window starting earlier comes back incomplete. */
export const INFOBIP_LOGS_RETENTION_MS = 48 * 60 * 60 * 1000;
export const DEFAULT_LAST_CONTACTED_ATTRIBUTE = 'LastContactedAt';
export const DEFAULT_LAST_CHANNEL_ATTRIBUTE = 'LastContactedChannel';

export interface InfobipClientOptions {
  /** The account's own base URL, e.g. https://xyz.api.infobip.com (or the emulator's). */
  baseUrl: string;
  /** Sent as `Authorization: App <key>`; read per request, so a rotated key needs no restart. */
  getApiKey: () => string | Promise<string>;
  timeoutMs: number;
  /** Client-side pacing of People requests; default 5 (the documented account limit). */
  peopleRequestsPerSecond?: number;
  /** Client-side pacing of SMS log requests; default 120. */
  logsRequestsPerMinute?: number;
  /** Custom People attributes holding the last contact time / channel (People has no such built-in field). */
  lastContactedAttribute?: string;
  lastChannelAttribute?: string;
  /** The registered WhatsApp sender number, for sends: the default sender. */
  whatsappSender?: string;
  /** The account's other registered senders a send may name as its `sender`. */
  extraSenders?: string[];
  /** Where delivery and seen reports go; without it they go to the account's subscription. */
  notifyUrl?: string;
  fetch?: typeof fetch;
}

/** A malformed record never fails its page: it is reported, and the sync counts it. */
export type InfobipRecord<T> = { ok: true; value: T } | { ok: false; raw: unknown; reason: string };

export interface InfobipPerson {
  profileId: string;
  externalId?: string;
  firstName?: string;
  lastName?: string;
  /** As Infobip has them: not normalised. */
  phones: string[];
  lastContactedAt?: Date;
  lastChannel?: string;
  /** When Infobip created the profile: the People list's order. */
  createdAt?: Date;
  modifiedAt?: Date;
}

/**
 * Where the next People page starts (keyset paging, see listPeople): the people created at or
 * after `createdAt`, less those created at that very instant already read (`seen`).
 */
export interface InfobipPeopleCursor {
  /** `createdAt` of the last person read, as Infobip wrote it; null before any was read. */
  createdAt: string | null;
  /** Ids of the people created at `createdAt` already read (a content hash for a person without an id). */
  seen: string[];
  /** 1-based page of the `createdAt >= …` list: above 1 only while people of one instant fill whole pages. */
  page: number;
}

export interface InfobipPeoplePage {
  /** The people of this page not read before; a page may hold none and still be followed by more. */
  records: InfobipRecord<InfobipPerson>[];
  hasMore: boolean;
  /** Where the next page starts; null when this was the last. */
  next: InfobipPeopleCursor | null;
  /** Asked for on the first page only. */
  totalCount?: number;
}

export interface InfobipSmsLog {
  messageId: string;
  /** As Infobip has it: not normalised. */
  destination: string;
  sentAt: Date;
  /** `status.groupName`, e.g. DELIVERED. */
  status?: string;
}

export interface InfobipLogsPage {
  records: InfobipRecord<InfobipSmsLog>[];
  nextCursor: string | null;
}

/** A People custom attribute as `GET /people/2/customAttributes/{name}` describes it. */
export interface InfobipCustomAttribute {
  name: string;
  /** `STRING`, `DECIMAL`, `INTEGER`, `BOOLEAN`, `DATE`, `DATE_TIME`, `LIST_OF_OBJECTS`. */
  dataType: string;
}

/** The type the last-contacted attribute must have: People range filters work on numbers and dates only. */
export const LAST_CONTACTED_DATA_TYPE = 'DATE_TIME';

export interface InfobipClient {
  /**
   * Checks, before a sync reads People, that the last-contacted attribute exists and is a
   * DATE_TIME: the window filter compares it with #gte / #lt, which People applies to number and
   * date attributes only. Throws a configuration `ProviderError` saying how to create it.
   */
  checkPeopleAttributes(): Promise<InfobipCustomAttribute>;
  /**
   * People whose last-contacted attribute is in [contactedSince, contactedUntil), a page at a time
   * from `after` (absent or null: the first page), each person once however the list shifts
   * between pages. Follow `next` until it is null.
   */
  listPeople(query: {
    contactedSince: Date;
    contactedUntil: Date;
    limit: number;
    channels?: string[];
    after?: InfobipPeopleCursor | null;
  }): Promise<InfobipPeoplePage>;
  /** SMS logs sent in the window, cursor-paged. */
  listSmsLogs(query: {
    sentSince: Date;
    sentUntil: Date;
    limit: number;
    cursor?: string | null;
  }): Promise<InfobipLogsPage>;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

/**
 * People's own date-time format, `yyyy-MM-dd'T'HH:mm:ss` in UTC (as its `createdAt` and
 * `modifiedAt` are written): the format a DATE_TIME custom attribute holds and is filtered by.
 * Whole seconds: the milliseconds are dropped.
 */
export function formatPeopleDateTime(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** Infobip's wire format `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, written in UTC: `2024-05-01T09:30:00.000+0000`. */
export function formatInfobipTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads the timestamps Infobip writes: `…SSS+0000` / `-0300` offsets (no colon, which
 * `Date.parse` does not promise to accept), ISO with `Z`, People's zone-less `yyyy-MM-dd'T'HH:mm:ss`
 * (UTC) and bare dates. Also epoch milliseconds, since a custom attribute may hold a number.
 */
export function parseInfobipTimestamp(value: unknown): Date | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '0', zone] = match;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  let at = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const offsetMinutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
    at -= (digits.startsWith('-') ? -1 : 1) * offsetMinutes * 60_000;
  }
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// ---------------------------------------------------------------------------------------------
// Pacing

/**
 * Spaces request starts evenly at the documented rate, plus a small margin so that network jitter
 * cannot squeeze two requests into one of the server's windows. Kept per account and endpoint for
 * the whole process: clients built per activity call still share one pace.
 */
interface Pacer {
  nextAt: number;
}
const PACERS = new Map<string, Pacer>();
const PACING_MARGIN_MS = 15;

async function paced(key: string, intervalMs: number): Promise<void> {
  const pacer = PACERS.get(key) ?? { nextAt: 0 };
  PACERS.set(key, pacer);
  const now = Date.now();
  const at = Math.max(now, pacer.nextAt);
  pacer.nextAt = at + intervalMs;
  if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
}

/** After a 429 the server's window is full: nobody on this account goes before it says. */
function holdPacer(key: string, ms: number): void {
  const pacer = PACERS.get(key);
  if (pacer) pacer.nextAt = Math.max(pacer.nextAt, Date.now() + ms);
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Infobip's older envelope (§2.2): `messageId` is an error token such as BAD_REQUEST, not a message id. */
interface RequestErrorBody {
  requestError?: { serviceException?: { messageId?: unknown; text?: unknown; validationErrors?: unknown } };
}
/** The newer envelope most endpoints use (§2.2). */
interface ErrorCodeBody {
  errorCode?: unknown;
  description?: unknown;
  action?: unknown;
  violations?: unknown;
}

type Endpoint = 'people' | 'logs' | 'send' | 'templates';

/** Used when a 429 names no Retry-After: a second clears People's window; a minute window needs longer. */
const DEFAULT_RETRY_AFTER_MS: Record<Endpoint, number> = { people: 1_000, logs: 30_000, send: 1_000, templates: 1_000 };

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/** Token and readable text from either error shape, or undefined when the body is neither. */
export function readInfobipError(body: unknown): { token: string; message: string } | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const service = (body as RequestErrorBody).requestError?.serviceException;
  if (service && typeof service === 'object') {
    const token = text(service.messageId) ?? 'ERROR';
    const parts = [text(service.text) ?? token];
    const validation = service.validationErrors;
    if (validation && typeof validation === 'object') {
      const fields = Object.entries(validation as Record<string, unknown>).map(
        ([field, problems]) =>
          `${field}: ${Array.isArray(problems) ? problems.map(String).join(', ') : String(problems)}`,
      );
      if (fields.length > 0) parts.push(`validation errors: ${fields.join('; ')}`);
    }
    return { token, message: parts.join('; ') };
  }
  const coded = body as ErrorCodeBody;
  const token = text(coded.errorCode);
  if (!token) return undefined;
  const parts = [text(coded.description) ?? token];
  if (Array.isArray(coded.violations) && coded.violations.length > 0) {
    const violations = coded.violations.map((violation: unknown) => {
      const { property, violation: what } = (violation ?? {}) as { property?: unknown; violation?: unknown };
      return [text(property), text(what)].filter(Boolean).join(': ');
    });
    parts.push(`violations: ${violations.filter(Boolean).join('; ')}`);
  }
  const action = text(coded.action);
  if (action) parts.push(`action: ${action}`);
  return { token, message: parts.join('; ') };
}

function classifyResponse(
  endpoint: Endpoint,
  response: Response,
  body: unknown,
  raw: string,
  redact: (text: string) => string,
): ProviderError {
  const status = response.status;
  const infobip = readInfobipError(body);
  const reason = redact(infobip?.message ?? raw.replace(/\s+/g, ' ').trim().slice(0, 300));
  const label = infobip ? `${infobip.token} (HTTP ${status})` : `HTTP ${status}`;
  const details = { httpStatus: status };

  if (status === 429 || infobip?.token === 'E429' || infobip?.token === 'TOO_MANY_REQUESTS') {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? DEFAULT_RETRY_AFTER_MS[endpoint];
    return new ProviderError('retryable', 'rate_limited', `Infobip rate limit hit, ${label}: ${reason}`, {
      ...details,
      retryAfterMs,
    });
  }
  if (status === 401 || status === 403) {
    return new ProviderError(
      'config',
      status === 403 ? 'forbidden' : 'unauthorized',
      `Infobip refused the API key or its scopes, ${label}${reason ? `: ${reason}` : ''}`,
      details,
    );
  }
  if (status >= 500 || status === 408) {
    return new ProviderError(
      'retryable',
      `http_${status}`,
      `Infobip server error, ${label}${reason ? `: ${reason}` : ''}`,
      details,
    );
  }
  if (status >= 300 && status < 400) {
    return new ProviderError(
      'config',
      'unexpected_redirect',
      `Infobip answered with a redirect (HTTP ${status}); check INFOBIP_BASE_URL`,
      details,
    );
  }
  if (status >= 400) {
    return new ProviderError(
      'permanent',
      infobip ? `infobip_${infobip.token.toLowerCase()}` : 'rejected',
      `Infobip rejected the request, ${label}: ${reason || 'no reason given'}`,
      details,
    );
  }
  // A 2xx we cannot read: a GET is safe to repeat, a send may have been accepted.
  return new ProviderError(
    endpoint === 'send' ? 'ambiguous' : 'retryable',
    'unexpected_response',
    `Infobip answered HTTP ${status} with an unreadable body: ${reason || 'empty body'}`,
    details,
  );
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The shared request path

interface RequestContext {
  base: string;
  options: InfobipClientOptions;
}

async function request(
  context: RequestContext,
  endpoint: Endpoint,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body: unknown,
  pace?: { key: string; intervalMs: number },
): Promise<unknown> {
  const apiKey = await readCredential(context.options.getApiKey, 'Infobip API key', 'api_key');
  const redact = (value: string): string => value.split(apiKey).join('[redacted]');
  if (pace) await paced(pace.key, pace.intervalMs);
  let answer: { response: Response; text: string };
  try {
    answer = await callProvider({
      provider: 'Infobip',
      method,
      url: `${context.base}${pathAndQuery}`,
      authorization: `App ${apiKey}`,
      body,
      timeoutMs: context.options.timeoutMs,
      redact,
      fetch: context.options.fetch,
    });
  } catch (error) {
    // A read has no effect to be unsure about: a lost or timed-out GET is simply asked again.
    if (method === 'GET' && error instanceof ProviderError && error.kind === 'ambiguous') {
      throw new ProviderError('retryable', error.code, error.message, error.details);
    }
    throw error;
  }
  const { response, text: raw } = answer;
  const parsed = parseJson(raw);
  if (response.ok && parsed !== undefined && readInfobipError(parsed) === undefined) return parsed;
  const error = classifyResponse(endpoint, response, parsed, raw, redact);
  if (pace && error.code === 'rate_limited') holdPacer(pace.key, error.details.retryAfterMs ?? 0);
  throw error;
}

const baseOf = (options: Pick<InfobipClientOptions, 'baseUrl'>): string => options.baseUrl.replace(/\/+$/, '');

/** One GET against the account's base URL, classified like every other Infobip call (for infobip-templates.ts). */
export function infobipGet(
  options: Pick<InfobipClientOptions, 'baseUrl' | 'getApiKey' | 'timeoutMs' | 'fetch'>,
  pathAndQuery: string,
): Promise<unknown> {
  return request(
    { base: baseOf(options), options: options as InfobipClientOptions },
    'templates',
    'GET',
    pathAndQuery,
    undefined,
  );
}

function checkPageSize(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > INFOBIP_MAX_PAGE_SIZE) {
    throw new ProviderError(
      'permanent',
      'invalid_request',
      `limit must be an integer from 1 to ${INFOBIP_MAX_PAGE_SIZE}, got ${limit}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// People and logs

/**
 * The People filter for a contact window. Infobip People has no "last contacted" field (§2.5), so
 * this is OUR convention: each person carries two custom attributes that our sends and Infobip
 * flows keep up to date,
 *   - `LastContactedAt` (name configurable), a **DATE_TIME** custom attribute: range operators
 *     (#gt, #gte, #lt, #lte) are documented for number and date attributes only, so a text
 *     attribute holding an ISO string cannot be filtered by a window. Create it once with
 *     `POST /people/2/customAttributes {"name": "LastContactedAt", "dataType": "DATE_TIME"}`;
 *     checkPeopleAttributes refuses to sync without it. Values are written, and compared, in
 *     People's date-time format `yyyy-MM-dd'T'HH:mm:ss` (UTC);
 *   - `LastContactedChannel` (configurable), a STRING: `WHATSAPP`, `SMS`, … (upper case).
 * The filter uses the documented operator form `{"#op": {field: value}}` (the doc's example is
 * `{"#contains": {"tags": "VIP Client"}}`), custom attributes addressed as
 * `customAttributes.<name>`:
 *   {"#and": [{"#gte": {"customAttributes.LastContactedAt": "2024-05-01T09:30:00"}},
 *             {"#lt":  {"customAttributes.LastContactedAt": "2024-05-01T10:30:00"}},
 *             {"#or": [{"customAttributes.LastContactedChannel": "WHATSAPP"}, …]}]}   (channels only)
 * The window is widened to whole seconds (since rounded down, until up): a contact in the
 * window's first or last fraction of a second is read, perhaps by two runs, which applies
 * idempotently (last contact never moves backwards).
 * UNCONFIRMED against a live account: the path under which custom attributes are filtered, and
 * whether a DATE_TIME value may carry milliseconds or a zone. The emulator implements exactly this.
 */
export function buildPeopleFilter(
  query: { contactedSince: Date; contactedUntil: Date; channels?: string[]; createdFrom?: string | null },
  attributes: { lastContacted: string; lastChannel: string },
): Record<string, unknown> {
  const at = `customAttributes.${attributes.lastContacted}`;
  const since = Math.floor(query.contactedSince.getTime() / 1000) * 1000;
  const until = Math.ceil(query.contactedUntil.getTime() / 1000) * 1000;
  const clauses: Record<string, unknown>[] = [
    { '#gte': { [at]: formatPeopleDateTime(new Date(since)) } },
    { '#lt': { [at]: formatPeopleDateTime(new Date(until)) } },
  ];
  const channels = query.channels?.filter((channel) => channel.trim() !== '') ?? [];
  if (channels.length > 0) {
    const channel = `customAttributes.${attributes.lastChannel}`;
    clauses.push({ '#or': channels.map((value) => ({ [channel]: value.trim().toUpperCase() })) });
  }
  if (query.createdFrom) clauses.push({ '#gte': { createdAt: query.createdFrom } });
  return { '#and': clauses };
}

/**
 * Pages are ordered by `createdAt:asc`, the one documented order key that does not move while we
 * page: a person created meanwhile lands after the last page.
 */
export const PEOPLE_ORDER_BY = 'createdAt:asc';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const idText = (value: unknown): string | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);

/**
 * A shift of the list cannot hide anybody because pages are keyed, not numbered: a person
 * contacted again during the run leaves the filter, and with page numbers everyone after them
 * would move up one place, the first of the next page onto a page already read, never to be seen
 * (the contact itself is in the next run's window, the person it pushed out is not). So each page
 * asks for `createdAt >= <the last createdAt read>` and drops the people of that instant already
 * read. Only when people of a single instant (createdAt has whole seconds) fill whole pages does
 * it page by number within that instant, where a shift can again move someone of that instant.
 * The ids remembered for one instant are capped (they travel in every heartbeat); past the cap a
 * person of that instant may be read twice, which applies idempotently but counts twice.
 */
const MAX_SEEN_AT_ONE_INSTANT = 5_000;

function personKey(raw: unknown): string | undefined {
  if (!isObject(raw)) return undefined;
  return (
    idText(raw.id) ?? `sha256:${createHash('sha256').update(JSON.stringify(raw)).digest('base64url').slice(0, 22)}`
  );
}

function createdAtOf(raw: unknown): { text: string; ms: number } | undefined {
  if (!isObject(raw) || typeof raw.createdAt !== 'string') return undefined;
  const at = parseInfobipTimestamp(raw.createdAt);
  return at ? { text: raw.createdAt, ms: at.getTime() } : undefined;
}

/** Where the page after `persons` (read from `after`) starts. */
function nextPeopleCursor(after: InfobipPeopleCursor | null, persons: unknown[]): InfobipPeopleCursor {
  const boundary = after?.createdAt ? parseInfobipTimestamp(after.createdAt)?.getTime() : undefined;
  let last: { text: string; ms: number } | undefined;
  for (const raw of persons) {
    const at = createdAtOf(raw);
    if (at && (!last || at.ms > last.ms)) last = at;
  }
  const keysAt = (ms: number | undefined) =>
    ms === undefined ? [] : persons.filter((raw) => createdAtOf(raw)?.ms === ms).flatMap((raw) => personKey(raw) ?? []);
  if (!last || (boundary !== undefined && last.ms <= boundary)) {
    // The whole page is of the instant we started from: it may go on, so the next page of it.
    const seen = [...new Set([...(after?.seen ?? []), ...keysAt(boundary)])].slice(-MAX_SEEN_AT_ONE_INSTANT);
    return { createdAt: after?.createdAt ?? null, seen, page: (after?.page ?? 1) + 1 };
  }
  return { createdAt: last.text, seen: keysAt(last.ms), page: 1 };
}

export function readPerson(
  raw: unknown,
  attributes: { lastContacted: string; lastChannel: string },
): InfobipRecord<InfobipPerson> {
  const bad = (reason: string): InfobipRecord<InfobipPerson> => ({ ok: false, raw, reason });
  if (!isObject(raw)) return bad('person is not an object');
  const profileId = idText(raw.id);
  if (!profileId) return bad('person has no id');

  const contact = raw.contactInformation;
  if (contact !== undefined && contact !== null && !isObject(contact))
    return bad(`person ${profileId}: contactInformation is not an object`);
  const phoneList = isObject(contact) ? contact.phone : undefined;
  if (phoneList !== undefined && phoneList !== null && !Array.isArray(phoneList)) {
    return bad(`person ${profileId}: contactInformation.phone is not a list`);
  }
  const phones: string[] = [];
  for (const entry of phoneList ?? []) {
    const number = isObject(entry) ? idText(entry.number) : undefined;
    if (number === undefined) return bad(`person ${profileId}: a phone entry has no number`);
    phones.push(number);
  }

  const custom = isObject(raw.customAttributes) ? raw.customAttributes : {};
  const person: InfobipPerson = { profileId, phones };
  const rawContacted = custom[attributes.lastContacted];
  if (rawContacted !== undefined && rawContacted !== null) {
    const at = parseInfobipTimestamp(rawContacted);
    if (!at)
      return bad(`person ${profileId}: ${attributes.lastContacted} is not a date: ${JSON.stringify(rawContacted)}`);
    person.lastContactedAt = at;
  }
  const channel = text(custom[attributes.lastChannel]);
  if (channel) person.lastChannel = channel;
  const externalId = text(raw.externalId);
  if (externalId) person.externalId = externalId;
  const firstName = text(raw.firstName);
  if (firstName) person.firstName = firstName;
  const lastName = text(raw.lastName);
  if (lastName) person.lastName = lastName;
  const createdAt = parseInfobipTimestamp(raw.createdAt);
  if (createdAt) person.createdAt = createdAt;
  const modifiedAt = parseInfobipTimestamp(raw.modifiedAt);
  if (modifiedAt) person.modifiedAt = modifiedAt;
  return { ok: true, value: person };
}

export function readSmsLog(raw: unknown): InfobipRecord<InfobipSmsLog> {
  const bad = (reason: string): InfobipRecord<InfobipSmsLog> => ({ ok: false, raw, reason });
  if (!isObject(raw)) return bad('log entry is not an object');
  const messageId = idText(raw.messageId);
  if (!messageId) return bad('log entry has no messageId');
  const destination = idText(raw.destination);
  if (!destination) return bad(`log ${messageId}: no destination`);
  const sentAt = parseInfobipTimestamp(raw.sentAt);
  if (!sentAt) return bad(`log ${messageId}: sentAt is not a timestamp: ${JSON.stringify(raw.sentAt)}`);
  const log: InfobipSmsLog = { messageId, destination, sentAt };
  const status = isObject(raw.status) ? text(raw.status.groupName) : undefined;
  if (status) log.status = status;
  return { ok: true, value: log };
}

export function createInfobipClient(options: InfobipClientOptions): InfobipClient {
  const context: RequestContext = { base: baseOf(options), options };
  const attributes = {
    lastContacted: options.lastContactedAttribute ?? DEFAULT_LAST_CONTACTED_ATTRIBUTE,
    lastChannel: options.lastChannelAttribute ?? DEFAULT_LAST_CHANNEL_ATTRIBUTE,
  };
  const peoplePace = {
    key: `${context.base} people`,
    intervalMs:
      Math.ceil(1000 / (options.peopleRequestsPerSecond ?? INFOBIP_PEOPLE_REQUESTS_PER_SECOND)) + PACING_MARGIN_MS,
  };
  const logsPace = {
    key: `${context.base} logs`,
    intervalMs:
      Math.ceil(60_000 / (options.logsRequestsPerMinute ?? INFOBIP_LOGS_REQUESTS_PER_MINUTE)) + PACING_MARGIN_MS,
  };

  return {
    async checkPeopleAttributes() {
      const name = attributes.lastContacted;
      const create = `create it once with POST /people/2/customAttributes {"name": "${name}", "dataType": "${LAST_CONTACTED_DATA_TYPE}"}`;
      let body: unknown;
      try {
        body = await request(
          context,
          'people',
          'GET',
          `/people/2/customAttributes/${encodeURIComponent(name)}`,
          undefined,
          peoplePace,
        );
      } catch (error) {
        if (error instanceof ProviderError && error.details.httpStatus === 404) {
          throw new ProviderError(
            'config',
            'people_attribute_missing',
            `Infobip People has no custom attribute "${name}", which the sync filters by: ${create}`,
            error.details,
          );
        }
        throw error;
      }
      const dataType = isObject(body) ? text(body.dataType) : undefined;
      if (dataType?.toUpperCase() !== LAST_CONTACTED_DATA_TYPE) {
        throw new ProviderError(
          'config',
          'people_attribute_type',
          `Infobip People's custom attribute "${name}" is ${dataType ?? 'of no stated type'}, not ${LAST_CONTACTED_DATA_TYPE}: ` +
            `People filters a window (#gte, #lt) only on number and date attributes. Delete it and ${create}`,
        );
      }
      return { name: text(isObject(body) ? body.name : undefined) ?? name, dataType: LAST_CONTACTED_DATA_TYPE };
    },

    async listPeople(query) {
      checkPageSize(query.limit);
      const after = query.after ?? null;
      if (after && (!Number.isInteger(after.page) || after.page < 1)) {
        throw new ProviderError(
          'permanent',
          'invalid_request',
          `the People cursor's page is 1-based, got ${after.page}`,
        );
      }
      // The people of the boundary instant read before come back first: asking for that many more
      // keeps pages full. Within one instant pages go by number, so their size must not change.
      const limit = after?.page === 1 ? Math.min(query.limit + after.seen.length, INFOBIP_MAX_PAGE_SIZE) : query.limit;
      const params = new URLSearchParams({
        limit: String(limit),
        page: String(after?.page ?? 1),
        orderBy: PEOPLE_ORDER_BY,
        filter: JSON.stringify(buildPeopleFilter({ ...query, createdFrom: after?.createdAt ?? null }, attributes)),
      });
      // The total costs the server a count; one look on the first page is enough for progress.
      if (!after) params.set('includeTotalCount', 'true');
      const body = await request(
        context,
        'people',
        'GET',
        `/people/2/persons?${params.toString()}`,
        undefined,
        peoplePace,
      );
      const envelope = isObject(body) ? body : {};
      const persons: unknown[] = Array.isArray(envelope.persons) ? envelope.persons : [];
      const boundary = after?.createdAt ? parseInfobipTimestamp(after.createdAt)?.getTime() : undefined;
      const seen = new Set(after?.seen ?? []);
      const unread = persons.filter((raw) => {
        if (boundary === undefined || createdAtOf(raw)?.ms !== boundary) return true;
        const key = personKey(raw);
        return key === undefined || !seen.has(key);
      });
      // A short page is the last; a full one may be followed by an empty one, which is harmless.
      const hasMore = persons.length >= limit;
      const page: InfobipPeoplePage = {
        records: unread.map((person) => readPerson(person, attributes)),
        hasMore,
        next: hasMore ? nextPeopleCursor(after, persons) : null,
      };
      if (typeof envelope.totalCount === 'number') page.totalCount = envelope.totalCount;
      return page;
    },

    async listSmsLogs(query) {
      checkPageSize(query.limit);
      const params = new URLSearchParams({
        sentSince: formatInfobipTimestamp(query.sentSince),
        sentUntil: formatInfobipTimestamp(query.sentUntil),
        limit: String(query.limit),
        useCursor: 'true',
      });
      if (query.cursor) params.set('cursor', query.cursor);
      const body = await request(context, 'logs', 'GET', `/sms/3/logs?${params.toString()}`, undefined, logsPace);
      const envelope = isObject(body) ? body : {};
      const results = Array.isArray(envelope.results) ? envelope.results : [];
      const cursor = isObject(envelope.cursor) ? envelope.cursor : {};
      return { records: results.map(readSmsLog), nextCursor: text(cursor.nextCursor) ?? null };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sends

export type InfobipTemplateHeader =
  | { type: 'TEXT'; placeholder: string }
  | { type: 'DOCUMENT'; mediaUrl: string; filename: string }
  | { type: 'IMAGE' | 'VIDEO'; mediaUrl: string };

export interface InfobipTemplateMessage {
  from: string;
  /** International format, digits only (every documented example omits the `+`). */
  to: string;
  messageId: string;
  content: {
    templateName: string;
    language: string;
    templateData: {
      body: { placeholders: string[] };
      header?: InfobipTemplateHeader;
      buttons?: InfobipTemplateButton[];
    };
  };
  callbackData?: string;
  notifyUrl?: string;
}

/** The body of `POST /whatsapp/1/message/template` (§2.2). */
export interface InfobipTemplateSendBody {
  messages: InfobipTemplateMessage[];
}

/**
 * Our message id, derived from our callbackData (the send's idempotency key), so reports correlate
 * on `messageId` (the WhatsApp DLR schema may not carry callbackData, §2.3) and a resend of the
 * same key reuses the id. Whether Infobip deduplicates a reused id is UNCONFIRMED; we do not rely
 * on it, the message log does.
 */
export function infobipMessageId(callbackData: string | undefined): string {
  if (!callbackData) return `dl-${randomUUID()}`;
  return `dl-${createHash('sha256').update(callbackData).digest('base64url').slice(0, 32)}`;
}

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp']);
const VIDEO_EXTENSIONS = new Set(['mp4', '3gp', '3gpp']);

function urlPath(value: string): string | undefined {
  try {
    return new URL(value).pathname;
  } catch {
    return undefined;
  }
}

function lastPathSegment(url: string): string | undefined {
  const segment = urlPath(url)?.split('/').pop();
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Only when the caller does not know the header kind: as for Meta, a file name means a document. */
function inferHeaderFormat(value: string, fileName: string | undefined): HeaderFormat {
  if (fileName) return 'document';
  const path = /^https?:\/\//i.test(value) ? urlPath(value) : undefined;
  if (path === undefined) return 'text';
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  if (IMAGE_EXTENSIONS.has(extension)) return 'image';
  if (VIDEO_EXTENSIONS.has(extension)) return 'video';
  return 'document';
}

function templateHeader(message: TemplateSend): InfobipTemplateHeader | undefined {
  const values = message.headerValues ?? [];
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    throw new ProviderError(
      'permanent',
      'invalid_request',
      `An Infobip template header takes one value, received ${values.length}`,
    );
  }
  const value = values[0]!;
  const format = message.headerFormat ?? inferHeaderFormat(value, message.fileName);
  if (format === 'text') return { type: 'TEXT', placeholder: value };
  if (format === 'image') return { type: 'IMAGE', mediaUrl: value };
  if (format === 'video') return { type: 'VIDEO', mediaUrl: value };
  // Infobip requires a file name for documents; the URL's last segment is what a reader would see.
  return { type: 'DOCUMENT', mediaUrl: value, filename: message.fileName || lastPathSegment(value) || 'document' };
}

export type InfobipTemplateButton = { type: 'QUICK_REPLY' | 'URL' | 'COPY_CODE' | 'FLOW'; parameter: string };

const INFOBIP_BUTTON_TYPE = {
  quick_reply: 'QUICK_REPLY',
  dynamic_url: 'URL',
  copy_code: 'COPY_CODE',
  flow: 'FLOW',
} as const;

const invalid = (message: string): ProviderError => new ProviderError('permanent', 'invalid_request', message);

function checkButtonIndexes(buttonValues: Record<string, string[]>): Array<[number, string[]]> {
  return Object.entries(buttonValues)
    .filter(([, values]) => values.length > 0)
    .map(([index, values]): [number, string[]] => {
      if (!/^\d+$/.test(index)) throw invalid(`Button index must be a 0-based number, got "${index}"`);
      if (values.length > 1) throw invalid(`A button takes one parameter, button ${index} has ${values.length}`);
      return [Number(index), values];
    });
}

/**
 * `templateData.buttons` (§2.2): Infobip binds them BY POSITION, so every button of the template
 * that takes a parameter (quick reply, dynamic URL, copy code, flow) is listed, in template order,
 * each with its parameter, and no other button is. A quick reply's parameter is the payload a tap
 * sends back: the value given for it, else its text. Static URL and phone buttons are left out.
 * Without the template's buttons (a caller that did not look the template up), the values can only
 * be taken for URL buttons, in index order: a template with other buttons is then refused upstream.
 */
export function infobipTemplateButtons(
  message: Pick<TemplateSend, 'buttonValues' | 'templateButtons'>,
): InfobipTemplateButton[] {
  const values = new Map(checkButtonIndexes(message.buttonValues ?? {}));
  if (!message.templateButtons) {
    return [...values].sort(([a], [b]) => a - b).map(([, [parameter]]) => ({ type: 'URL', parameter: parameter! }));
  }
  const buttons: InfobipTemplateButton[] = [];
  message.templateButtons.forEach((button, index) => {
    const kind = buttonParameterKind(button);
    const given = values.get(index)?.[0];
    values.delete(index);
    if (kind === 'none') {
      if (given !== undefined) throw invalid(`Button ${index} (${button.type}) takes no parameter`);
      return;
    }
    const parameter = given ?? (kind === 'quick_reply' ? button.text : undefined);
    if (parameter === undefined || parameter === '')
      throw invalid(
        `Button ${index} (${button.type}) needs its parameter for Infobip, which lists buttons by position`,
      );
    buttons.push({ type: INFOBIP_BUTTON_TYPE[kind], parameter });
  });
  const [stray] = values.keys();
  if (stray !== undefined) throw invalid(`The template has no button ${stray}`);
  return buttons;
}

export function buildInfobipSendBody(
  message: TemplateSend,
  options: { whatsappSender: string; notifyUrl?: string },
): InfobipTemplateSendBody {
  if (!/^\+\d{6,15}$/.test(message.to)) {
    throw new ProviderError(
      'permanent',
      'invalid_recipient',
      `Recipient is not an E.164 phone number: "${message.to}"`,
    );
  }
  const templateData: InfobipTemplateMessage['content']['templateData'] = {
    body: { placeholders: message.bodyValues ?? [] },
  };
  const header = templateHeader(message);
  if (header) templateData.header = header;
  const buttons = infobipTemplateButtons(message);
  if (buttons.length > 0) templateData.buttons = buttons;

  const out: InfobipTemplateMessage = {
    from: e164Digits(options.whatsappSender.trim()),
    to: e164Digits(message.to),
    messageId: infobipMessageId(message.callbackData),
    content: { templateName: message.templateName, language: message.languageCode, templateData },
  };
  if (message.callbackData) out.callbackData = message.callbackData;
  if (options.notifyUrl) out.notifyUrl = options.notifyUrl;
  return { messages: [out] };
}

export function createInfobipProvider(options: InfobipClientOptions): MessagingProvider {
  const context: RequestContext = { base: baseOf(options), options };

  const defaultSender = options.whatsappSender?.trim() ? e164Digits(options.whatsappSender.trim()) : undefined;
  const senders = new Set([defaultSender, ...(options.extraSenders ?? []).map((sender) => e164Digits(sender.trim()))]);

  async function sendTemplate(message: TemplateSend): Promise<SendAccepted> {
    const sender = message.sender ? e164Digits(message.sender) : defaultSender;
    if (!sender)
      throw new ProviderError(
        'config',
        'sender_missing',
        'No Infobip WhatsApp sender is configured (INFOBIP_WHATSAPP_SENDER)',
      );
    if (!senders.has(sender))
      throw new ProviderError('config', 'unknown_sender', `Sender ${sender} is not one of this deployment's senders`);
    const body = buildInfobipSendBody(message, { whatsappSender: sender, notifyUrl: options.notifyUrl });
    const response = await request(context, 'send', 'POST', '/whatsapp/1/message/template', body);
    const first = isObject(response) && Array.isArray(response.messages) ? response.messages[0] : undefined;
    const messageId = isObject(first) ? text(first.messageId) : undefined;
    const status = isObject(first) && isObject(first.status) ? first.status : {};
    if (text(status.groupName) === 'REJECTED') {
      const reason = text(status.description) ?? text(status.name) ?? 'REJECTED';
      throw new ProviderError('permanent', 'rejected', `Infobip rejected the message: ${reason}`, { httpStatus: 200 });
    }
    if (!messageId) {
      throw new ProviderError(
        'ambiguous',
        'unexpected_response',
        'Infobip accepted the request but returned no messageId',
      );
    }
    return { provider: INFOBIP_PROVIDER_NAME, providerMessageId: messageId, sender };
  }

  return { name: INFOBIP_PROVIDER_NAME, ...(defaultSender && { defaultSender }), sendTemplate };
}
