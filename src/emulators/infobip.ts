/**
 * Local Infobip EMULATOR: a development and test stand-in speaking the documented wire formats of
 * providers.md §2: People list (`GET /people/2/persons`), SMS logs (`GET /sms/3/logs`), WhatsApp
 * template sends (`POST /whatsapp/1/message/template`) with delivery and seen reports posted back,
 * `App <key>` auth, both error envelopes, and the People limit of 5 requests/s (429, `E429`).
 * Never a replacement for the real service.
 *
 * Large data sets cost next to nothing: generated people and logs are derived from their index and
 * a seed when asked for, never stored. The People filter follows OUR convention for the
 * last-contacted custom attribute (see buildPeopleFilter in src/providers/infobip.ts), and is
 * checked as People checks it: a custom attribute the account has (`GET/POST
 * /people/2/customAttributes`), range operators on number and date attributes only, date values
 * in People's format.
 *
 * Control surface, in-process (`emulator.state`) and over HTTP (`/__emulator/*`): request counts
 * per endpoint, a fault queue (429, 5xx, malformed records), accepted sends, reports on demand,
 * extra people and logs, a person contacted again (`POST /__emulator/people/:id/contact`),
 * settings, reset.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import {
  DEFAULT_LAST_CHANNEL_ATTRIBUTE,
  DEFAULT_LAST_CONTACTED_ATTRIBUTE,
  INFOBIP_LOGS_RETENTION_MS,
  INFOBIP_MAX_PAGE_SIZE,
  formatInfobipTimestamp,
  parseInfobipTimestamp,
} from '../providers/infobip';
import { infobipBasicAuthHeader } from '../providers/infobip-webhook';
import { isBodyParseError, listenEmulator, postWebhookBody, sleep, type ListeningEmulator } from './emulator-http';
import {
  DEFAULT_EMULATOR_TEMPLATES,
  EmulatorTemplateSchema,
  countVariables,
  storeTemplate,
  templateKey,
  type EmulatorTemplate,
  type StoredTemplate,
} from './interakt-templates';
import { buttonParameterKind } from '../providers/types';

/** What `npm run emulator -- --provider infobip` accepts as `App <key>` when no INFOBIP_API_KEY is set. */
export const INFOBIP_EMULATOR_API_KEY = 'emulator-key';
export const INFOBIP_EMULATOR_SENDER = '447860099299';
const WEBHOOK_TIMEOUT_MS = 3_000;
const REQUEST_LOG_LIMIT = 2_000;

/** `attributes` is People's custom-attribute API, counted against People's rate limit. */
export type InfobipEndpoint = 'people' | 'attributes' | 'logs' | 'send' | 'templates';

/** People derived from their index: `count` of them, the same for the same seed. */
export interface GeneratedPeopleSpec {
  count?: number;
  seed?: number;
  /** Contact times fall in [anchor - contactSpreadMs, anchor). Default: emulator creation, 7 days. */
  anchor?: Date;
  contactSpreadMs?: number;
  /** Every n-th person has an unusable phone (too short, not a number, not a mobile). Default 23; 0 = none. */
  invalidEvery?: number;
  /** Every n-th person repeats the previous person's number in another format. Default 31; 0 = none. */
  duplicateEvery?: number;
  /** Every n-th person is malformed (no id, or phones not a list). Default 0 = none. */
  malformedEvery?: number;
  /** Values of the last-channel attribute, rotated. Default WHATSAPP, SMS. */
  channels?: string[];
  /** Persons as Infobip would return them, served after the generated ones (may be malformed on purpose). */
  records?: unknown[];
}

export interface GeneratedLogsSpec {
  count?: number;
  seed?: number;
  /** Sent times are spread evenly over [anchor - spreadMs, anchor). Default: emulator creation, 47 hours. */
  anchor?: Date;
  spreadMs?: number;
  /** SMS log entries as Infobip would return them (`sentAt` in its format). */
  records?: unknown[];
}

export interface InfobipEmulatorOptions {
  /** The key requests must carry as `Authorization: App <key>`. */
  apiKey: string;
  people?: GeneratedPeopleSpec;
  smsLogs?: GeneratedLogsSpec;
  lastContactedAttribute?: string;
  lastChannelAttribute?: string;
  /**
   * The account's People custom attributes (`GET /people/2/customAttributes/{name}`). Default: the
   * last-contacted attribute as DATE_TIME and the channel attribute as STRING, as the README tells
   * an admin to create them. Give the last-contacted one as STRING to stand for an account set up
   * the old way: People then refuses a window filter on it.
   */
  customAttributes?: InfobipCustomAttributeSpec[];
  /** Enforced limits; null switches one off. Defaults: 5 People requests/s, 120 log requests/min. */
  rateLimits?: { peoplePerSecond?: number | null; logsPerMinute?: number | null };
  /**
   * Logs reach back 48 hours. `clamp` (default) serves what is left, as data past retention is
   * simply gone; `reject` answers 400 naming sentSince. Which the real API does is UNCONFIRMED.
   */
  logsRetention?: 'clamp' | 'reject';
  /** When set, sends from any other sender (than it and `extraSenders`) are refused. */
  whatsappSender?: string;
  /** The account's other registered senders: each may send, and lists the same templates. */
  extraSenders?: string[];
  /**
   * The sender's registered templates (added to, or replacing by name + language, the defaults the
   * Interakt and Meta emulators have too). Sends are checked against them: name, language,
   * approval, placeholders, header, and the buttons Infobip binds by position.
   */
  templates?: EmulatorTemplate[];
  includeDefaultTemplates?: boolean;
  /** The account's report subscription, used when a message has no notifyUrl. */
  webhookUrl?: string;
  /** BASIC credentials presented with every report, as a subscription's security profile does. */
  webhookAuth?: { username: string; password: string };
  /** Post a delivery report (and a seen report) by itself after each accepted send. Default true. */
  autoReports?: boolean;
  seenReports?: boolean;
  /** Counted from acceptance. Defaults 200 / 500 ms. */
  reportDelaysMs?: { delivered: number; seen: number };
  /** The emulator's clock (retention, generated anchors). */
  now?: () => number;
}

export const PEOPLE_DATA_TYPES = [
  'STRING',
  'DECIMAL',
  'INTEGER',
  'BOOLEAN',
  'DATE',
  'DATE_TIME',
  'LIST_OF_OBJECTS',
] as const;
export type PeopleDataType = (typeof PEOPLE_DATA_TYPES)[number];

export interface InfobipCustomAttributeSpec {
  name: string;
  dataType: PeopleDataType;
}

const EndpointSchema = z.enum(['people', 'attributes', 'logs', 'send', 'templates', 'any']);
const FaultCommon = {
  /** How many matching requests this fault applies to. Default 1. */
  times: z.number().int().positive().optional(),
  endpoint: EndpointSchema.optional(),
};
export const InfobipEmulatorFaultSchema = z.discriminatedUnion('kind', [
  /** 429 in the E429 envelope (or the older requestError one), with Retry-After unless null. */
  z.object({
    kind: z.literal('rate_limit'),
    retryAfterSeconds: z.number().int().nonnegative().nullable().optional(),
    shape: z.enum(['E429', 'requestError']).optional(),
    ...FaultCommon,
  }),
  z.object({
    kind: z.literal('server_error'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
    ...FaultCommon,
  }),
  /** The page is served with `count` malformed records mixed in (People and logs only). */
  z.object({ kind: z.literal('malformed'), count: z.number().int().positive().optional(), ...FaultCommon }),
]);
export type InfobipEmulatorFault = z.infer<typeof InfobipEmulatorFaultSchema>;

export interface InfobipRecordedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  endpoint: InfobipEndpoint | 'other';
  /** Whether Authorization carried exactly `App <apiKey>` (the key itself is never recorded). */
  authorized: boolean;
  responseStatus: number | null;
}

export interface InfobipAcceptedMessage {
  messageId: string;
  bulkId: string;
  acceptedAt: string;
  /** The message object exactly as received. */
  message: Record<string, unknown>;
  lastReport: string | null;
}

export type InfobipReportKind = 'delivery' | 'seen' | 'inbound';

export interface InfobipWebhookDelivery {
  seq: number;
  at: string;
  url: string;
  kind: InfobipReportKind;
  messageIds: string[];
  rawBody: string;
  responseStatus: number | null;
  error: string | null;
}

/** A DLR status group and, for failures, Infobip's error. */
export interface InfobipReportRequest {
  messageId: string;
  groupName?: 'PENDING' | 'DELIVERED' | 'UNDELIVERABLE' | 'EXPIRED' | 'REJECTED';
  /** Status name; default per group (DELIVERED_TO_HANDSET, UNDELIVERABLE_NOT_DELIVERED, …). */
  name?: string;
  errorId?: number;
  errorName?: string;
  errorDescription?: string;
  permanent?: boolean;
}

export interface InfobipInboundRequest {
  /**
   * The user's number, digits or E.164, or a business-scoped user id (e.g. `US.1349120865530274`)
   * for a user WhatsApp names by username only: then `from` carries the id, as Infobip writes it.
   */
  from: string;
  text?: string;
  /** A quick-reply tap (`BUTTON`). */
  buttonText?: string;
  buttonPayload?: string;
  /** The message id of ours this answers. */
  replyTo?: string;
  profileName?: string;
}

export interface InfobipEmulatorSettings {
  webhookUrl?: string | undefined;
  webhookAuth?: { username: string; password: string } | undefined;
  autoReports?: boolean;
  seenReports?: boolean;
  rateLimits?: { peoplePerSecond?: number | null; logsPerMinute?: number | null };
}

export interface InfobipEmulatorState {
  /** Requests per API endpoint since the last reset (control requests are not counted). */
  requestCounts(): Record<InfobipEndpoint | 'other', number>;
  requests(): InfobipRecordedRequest[];
  acceptedMessages(): InfobipAcceptedMessage[];
  webhookDeliveries(): InfobipWebhookDelivery[];
  pendingFaults(): InfobipEmulatorFault[];
  injectFault(fault: InfobipEmulatorFault): void;
  addPeople(records: unknown[]): void;
  /**
   * A person contacted again, as our sends and Infobip flows record it: the last-contacted
   * attribute (and channel, when given) set, modifiedAt moved to now. Generated or added people
   * alike; throws when no person has that id.
   */
  contactPerson(id: string | number, contact: { at: Date; channel?: string }): void;
  addSmsLogs(records: unknown[]): void;
  templates(): StoredTemplate[];
  /** Registers (or replaces, by name + language) a template of the sender. */
  upsertTemplate(template: EmulatorTemplate): StoredTemplate;
  /** Defines (or redefines) a People custom attribute, as an admin would in the web interface. */
  defineCustomAttribute(attribute: InfobipCustomAttributeSpec): void;
  configure(settings: InfobipEmulatorSettings): void;
  deliverReport(report: InfobipReportRequest): Promise<InfobipWebhookDelivery>;
  deliverSeenReport(messageId: string): Promise<InfobipWebhookDelivery>;
  deliverInboundMessage(message: InfobipInboundRequest): Promise<InfobipWebhookDelivery>;
  /** Back to the state right after creation; pending reports dropped. */
  reset(): void;
}

export interface InfobipEmulator {
  app: express.Express;
  listen(port?: number, host?: string): Promise<ListeningEmulator>;
  state: InfobipEmulatorState;
  reset(): void;
}

// ---------------------------------------------------------------------------------------------
// Deterministic data

/** A 32-bit mix of seed, index and salt (splitmix-style): cheap, stable, well spread. */
function mix(seed: number, index: number, salt: number): number {
  let x =
    (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(salt + 7, 0x27d4eb2f)) >>>
    0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const FIRST_NAMES = [
  'Asha',
  'Ravi',
  'Meera',
  'Arjun',
  'Priya',
  'Kiran',
  'Neha',
  'Vikram',
  'Anita',
  'Rahul',
  'Sana',
  'Dev',
];
const LAST_NAMES = ['Sharma', 'Iyer', 'Patel', 'Khan', 'Reddy', 'Das', 'Nair', 'Gupta', 'Singh', 'Menon'];

/**
 * A distinct Indian mobile number per index: `i * 7919` modulo 10^8 is a bijection (7919 is prime
 * to 10), behind prefixes 98/99/97 that are mobile ranges.
 */
function nationalMobile(seed: number, index: number): string {
  const prefix = ['98', '99', '97'][((seed % 3) + 3) % 3]!;
  return `${prefix}${String((index * 7919 + (seed >>> 0) * 104_729) % 100_000_000).padStart(8, '0')}`;
}

/** The same number the ways people type it: with and without `+`, spaces, dashes, trunk 0, 00. */
function formatMobile(national: string, variant: number): string {
  const a = national.slice(0, 5);
  const b = national.slice(5);
  switch (variant % 8) {
    case 0:
      return `+91${national}`;
    case 1:
      return `91${national}`;
    case 2:
      return `+91 ${a} ${b}`;
    case 3:
      return `${a}-${b}`;
    case 4:
      return `0${national}`;
    case 5:
      return national;
    case 6:
      return `+91-${a}-${b}`;
    default:
      return `0091${national}`;
  }
}

const INVALID_PHONES = ['12345', 'not a number', '+91 12345 67890', '+91 98765'];

export type GeneratedPersonKind = 'valid' | 'invalid' | 'duplicate' | 'malformed';

interface ResolvedPeopleSpec {
  count: number;
  seed: number;
  anchor: number;
  spread: number;
  invalidEvery: number;
  duplicateEvery: number;
  malformedEvery: number;
  channels: string[];
}

function resolvePeopleSpec(spec: GeneratedPeopleSpec | undefined, now: number): ResolvedPeopleSpec {
  return {
    count: spec?.count ?? 0,
    seed: spec?.seed ?? 1,
    anchor: spec?.anchor?.getTime() ?? now,
    spread: spec?.contactSpreadMs ?? 7 * 24 * 60 * 60 * 1000,
    invalidEvery: spec?.invalidEvery ?? 23,
    duplicateEvery: spec?.duplicateEvery ?? 31,
    malformedEvery: spec?.malformedEvery ?? 0,
    channels: spec?.channels?.length ? spec.channels : ['WHATSAPP', 'SMS'],
  };
}

const every = (n: number, index: number): boolean => n > 0 && index % n === n - 1;

/** What generated person `index` is, so a test can count what a sync should make of the set. */
export function generatedPersonKind(index: number, spec: GeneratedPeopleSpec = {}): GeneratedPersonKind {
  const resolved = resolvePeopleSpec(spec, 0);
  if (every(resolved.malformedEvery, index)) return 'malformed';
  if (every(resolved.invalidEvery, index)) return 'invalid';
  // A duplicate repeats the previous person's number, so only a usable one makes a duplicate.
  if (index > 0 && every(resolved.duplicateEvery, index) && generatedPersonKind(index - 1, spec) === 'valid')
    return 'duplicate';
  return 'valid';
}

/** People's own timestamp format: `yyyy-MM-dd'T'HH:mm:ss`, UTC, no zone. */
const peopleTimestamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

/** Generated person `index` was created this long before the anchor, plus `index` seconds: one person a second. */
const GENERATED_CREATED_BEFORE_ANCHOR_MS = 30 * 24 * 60 * 60 * 1000;

/** Which generated person was created at `createdAt` (People's format), so a test can tell where a keyset page starts. */
export function generatedPersonIndexAt(createdAt: string, anchor: Date): number {
  const at = parseInfobipTimestamp(createdAt);
  if (!at) throw new Error(`not a People timestamp: ${createdAt}`);
  // createdAt keeps whole seconds of anchor - 30 days + index seconds.
  return Math.ceil((at.getTime() - (anchor.getTime() - GENERATED_CREATED_BEFORE_ANCHOR_MS)) / 1000);
}

function generatePerson(
  index: number,
  spec: ResolvedPeopleSpec,
  attributes: { lastContacted: string; lastChannel: string },
): Record<string, unknown> {
  const { seed } = spec;
  const kind = generatedPersonKind(index, {
    invalidEvery: spec.invalidEvery,
    duplicateEvery: spec.duplicateEvery,
    malformedEvery: spec.malformedEvery,
  });
  const contactedAt = spec.anchor - 1 - (mix(seed, index, 1) % Math.max(1, spec.spread));
  const phoneIndex = kind === 'duplicate' ? index - 1 : index;
  const phone =
    kind === 'invalid'
      ? INVALID_PHONES[mix(seed, index, 2) % INVALID_PHONES.length]!
      : formatMobile(nationalMobile(seed, phoneIndex), kind === 'duplicate' ? index + 3 : index);
  const person: Record<string, unknown> = {
    id: 370_000_000_000_000 + seed * 10_000_000 + index,
    firstName: FIRST_NAMES[mix(seed, index, 3) % FIRST_NAMES.length],
    lastName: LAST_NAMES[mix(seed, index, 4) % LAST_NAMES.length],
    createdAt: peopleTimestamp(spec.anchor - GENERATED_CREATED_BEFORE_ANCHOR_MS + index * 1000),
    modifiedAt: peopleTimestamp(contactedAt),
    tags: [],
    customAttributes: {
      // A DATE_TIME attribute: People's own format, whole seconds.
      [attributes.lastContacted]: peopleTimestamp(contactedAt),
      [attributes.lastChannel]: spec.channels[mix(seed, index, 5) % spec.channels.length],
    },
    contactInformation: { phone: [{ number: phone }], email: [] },
  };
  if (index % 3 === 0) person.externalId = `crm-${seed}-${index}`;
  if (kind === 'malformed') {
    if (index % 2 === 0) delete person.id;
    else person.contactInformation = { phone: 'not a list' };
  }
  return person;
}

interface ResolvedLogsSpec {
  count: number;
  seed: number;
  start: number;
  step: number;
}

function generateLog(index: number, spec: ResolvedLogsSpec): Record<string, unknown> {
  const sentAt = spec.start + index * spec.step;
  return {
    sender: 'InfoSMS',
    // Logs write international digits; a few accounts' older entries lack the country code.
    destination: index % 10 === 9 ? nationalMobile(spec.seed + 1, index) : `91${nationalMobile(spec.seed + 1, index)}`,
    bulkId: `bulk-${spec.seed}-${Math.floor(index / 100)}`,
    messageId: `log-${spec.seed}-${index}`,
    sentAt: formatInfobipTimestamp(new Date(sentAt)),
    doneAt: formatInfobipTimestamp(new Date(sentAt + 2_000)),
    messageCount: 1,
    price: { pricePerMessage: 0.01, currency: 'EUR' },
    status: {
      groupId: 3,
      groupName: 'DELIVERED',
      id: 5,
      name: 'DELIVERED_TO_HANDSET',
      description: 'Message delivered to handset',
    },
    error: { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false },
    platform: { entityId: null, applicationId: null },
    content: { text: 'Your appointment is confirmed.' },
  };
}

// ---------------------------------------------------------------------------------------------
// The People filter (our convention, see buildPeopleFilter)

class BadRequest extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Predicate = (person: Record<string, unknown>) => boolean;

/** What a filter path holds: a People field's type, a custom attribute's data type, or unknown. */
export type PeopleFieldType = (path: string) => PeopleDataType | undefined;

/** People's own fields: names are text, the two timestamps date-times. */
const PERSON_FIELD_TYPES: Readonly<Record<string, PeopleDataType>> = {
  firstName: 'STRING',
  lastName: 'STRING',
  externalId: 'STRING',
  createdAt: 'DATE_TIME',
  modifiedAt: 'DATE_TIME',
};

const RANGE_OPERATORS = new Set(['#gt', '#gte', '#lt', '#lte']);
const RANGE_TYPES: ReadonlySet<PeopleDataType> = new Set(['DECIMAL', 'INTEGER', 'DATE', 'DATE_TIME']);
/** People's date-time and date formats (`yyyy-MM-dd'T'HH:mm:ss`, `yyyy-MM-dd`), as filter values are written. */
const DATE_TIME_VALUE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const DATE_VALUE = /^\d{4}-\d{2}-\d{2}$/;

const COMPARATORS = new Set([
  '#eq',
  '#ne',
  '#gt',
  '#gte',
  '#lt',
  '#lte',
  '#contains',
  '#notContain',
  '#startsWith',
  '#endsWith',
]);

function fieldValue(person: Record<string, unknown>, path: string): unknown {
  let value: unknown = person;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    // Custom attribute names are case-insensitive in People.
    value =
      part in record
        ? record[part]
        : Object.entries(record).find(([key]) => key.toLowerCase() === part.toLowerCase())?.[1];
  }
  return value;
}

function compareValues(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== 'string' || typeof b !== 'string') return undefined;
  const da = parseInfobipTimestamp(a);
  const db = parseInfobipTimestamp(b);
  if (da && db) return da.getTime() - db.getTime();
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparison(operator: string, path: string, expected: unknown): Predicate {
  return (person) => {
    const actual = fieldValue(person, path);
    const text = (value: unknown): string => (typeof value === 'string' ? value.toLowerCase() : String(value));
    switch (operator) {
      case '#eq':
        return Array.isArray(actual)
          ? actual.includes(expected)
          : compareValues(actual, expected) === 0 || actual === expected;
      case '#ne':
        return !(compareValues(actual, expected) === 0 || actual === expected);
      case '#contains':
        return Array.isArray(actual)
          ? actual.some((item) => item === expected || fieldValue(Object(item), 'name') === expected)
          : actual !== undefined && text(actual).includes(text(expected));
      case '#notContain':
        return !comparison('#contains', path, expected)(person);
      case '#startsWith':
        return actual !== undefined && text(actual).startsWith(text(expected));
      case '#endsWith':
        return actual !== undefined && text(actual).endsWith(text(expected));
      default: {
        const order = compareValues(actual, expected);
        if (order === undefined) return false;
        return operator === '#gt'
          ? order > 0
          : operator === '#gte'
            ? order >= 0
            : operator === '#lt'
              ? order < 0
              : order <= 0;
      }
    }
  };
}

/**
 * The checks People makes of one comparison: range operators (#gt, #gte, #lt, #lte) only on number
 * and date attributes (documented; on a text attribute they are refused, where an ISO string in a
 * text attribute would otherwise be compared letter by letter), a custom attribute the account
 * has, and a date value in People's format.
 */
function checkComparison(operator: string, path: string, expected: unknown, typeOf: PeopleFieldType): void {
  const custom = /^customAttributes\.(.+)$/.exec(path)?.[1];
  const type = typeOf(path);
  if (custom !== undefined && type === undefined)
    throw new BadRequest(`filter: there is no custom attribute ${custom}`, 'filter');
  if (RANGE_OPERATORS.has(operator) && (type === undefined || !RANGE_TYPES.has(type))) {
    throw new BadRequest(
      `filter: ${operator} is not supported on ${path}${type ? ` (${type})` : ''}; range operators apply to number and date attributes only`,
      'filter',
    );
  }
  if (type === 'DATE_TIME' && !(typeof expected === 'string' && DATE_TIME_VALUE.test(expected)))
    throw new BadRequest(`filter: ${path} is a DATE_TIME; compare it with a value like 2024-05-01T09:30:00`, 'filter');
  if (type === 'DATE' && !(typeof expected === 'string' && DATE_VALUE.test(expected)))
    throw new BadRequest(`filter: ${path} is a DATE; compare it with a value like 2024-05-01`, 'filter');
}

/**
 * Accepts `{"#op": {field: value}}` (the documented form), `{field: {"#op": value}}` and
 * `{field: value}`; each comparison is checked against the field's type (checkComparison).
 */
export function compilePeopleFilter(filter: unknown, typeOf: PeopleFieldType = () => undefined): Predicate {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new BadRequest('filter must be a JSON object', 'filter');
  const parts: Predicate[] = [];
  const compare = (operator: string, path: string, expected: unknown): void => {
    checkComparison(operator, path, expected, typeOf);
    parts.push(comparison(operator, path, expected));
  };
  for (const [key, value] of Object.entries(filter as Record<string, unknown>)) {
    if (key === '#and' || key === '#or') {
      if (!Array.isArray(value)) throw new BadRequest(`${key} takes a list of clauses`, 'filter');
      const clauses = value.map((clause) => compilePeopleFilter(clause, typeOf));
      parts.push(key === '#and' ? (p) => clauses.every((c) => c(p)) : (p) => clauses.some((c) => c(p)));
    } else if (key.startsWith('#')) {
      if (!COMPARATORS.has(key)) throw new BadRequest(`unknown operator ${key}`, 'filter');
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new BadRequest(`${key} takes {field: value}`, 'filter');
      for (const [path, expected] of Object.entries(value as Record<string, unknown>)) compare(key, path, expected);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [operator, expected] of Object.entries(value as Record<string, unknown>)) {
        if (!COMPARATORS.has(operator)) throw new BadRequest(`unknown operator ${operator}`, 'filter');
        compare(operator, key, expected);
      }
    } else {
      compare('#eq', key, value);
    }
  }
  return (person) => parts.every((part) => part(person));
}

/**
 * Takes a `{"#gte": {"createdAt": …}}` clause out of a top-level `#and` (the keyset bound of
 * listPeople), so the rest of the filter is matched once for every page of a sync.
 */
function splitCreatedFrom(filter: unknown): { rest: unknown; createdFrom: unknown } {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    return { rest: filter, createdFrom: undefined };
  const clauses = (filter as Record<string, unknown>)['#and'];
  if (Object.keys(filter).length !== 1 || !Array.isArray(clauses)) return { rest: filter, createdFrom: undefined };
  const isBound = (clause: unknown): clause is { '#gte': { createdAt: unknown } } => {
    if (clause === null || typeof clause !== 'object' || Object.keys(clause).length !== 1) return false;
    const gte = (clause as Record<string, unknown>)['#gte'];
    return gte !== null && typeof gte === 'object' && Object.keys(gte).length === 1 && 'createdAt' in gte;
  };
  const bounds = clauses.filter(isBound);
  if (bounds.length !== 1) return { rest: filter, createdFrom: undefined };
  return { rest: { '#and': clauses.filter((clause) => !isBound(clause)) }, createdFrom: bounds[0]!['#gte'].createdAt };
}

const ORDER_FIELDS = new Set(['firstName', 'lastName', 'createdAt', 'modifiedAt']);

// ---------------------------------------------------------------------------------------------
// Wire helpers

const serviceException = (messageId: string, text: string, validationErrors?: Record<string, string[]>) => ({
  requestError: { serviceException: { messageId, text, ...(validationErrors ? { validationErrors } : {}) } },
});

const MALFORMED_PERSON = (n: number): unknown[] => [
  { id: null, firstName: 42, note: `malformed-${n}` },
  'garbage',
  { id: `bad-${n}`, contactInformation: { phone: [{ number: null }] } },
];
const MALFORMED_LOG = (n: number): unknown[] => [
  { messageId: `bad-log-${n}`, destination: '919800000000', sentAt: 'yesterday' },
  null,
  { destination: '919800000001' },
];

class EmulatorNotFound extends Error {}
class EmulatorConflict extends Error {}

/** Infobip's names for Meta's statuses (§2.4): the first pause is FIRST_PAUSED. */
const INFOBIP_STATUS: Record<string, string> = { PAUSED: 'FIRST_PAUSED' };

/** One template of `GET /whatsapp/2/senders/{sender}/templates` (§2.4). */
function infobipTemplateRow(template: StoredTemplate): Record<string, unknown> {
  const header = template.header;
  const structure: Record<string, unknown> = {
    body: {
      text: template.body,
      examples: Array.from({ length: countVariables(template.body) }, (_, i) => `example_${i + 1}`),
    },
    type: header && header.format !== 'TEXT' ? 'MEDIA' : 'TEXT',
  };
  if (header?.format === 'TEXT') structure.header = { format: 'TEXT', text: header.text };
  else if (header)
    structure.header = { format: header.format, ...(header.exampleUrl && { example: header.exampleUrl }) };
  if (template.footer) structure.footer = { text: template.footer };
  if (template.buttons?.length) {
    structure.buttons = template.buttons.map((button) =>
      button.type === 'PHONE_NUMBER'
        ? { type: button.type, text: button.text, phoneNumber: button.phone_number }
        : { ...button },
    );
  }
  return {
    id: template.waTemplateId,
    businessAccountId: 300000000000001,
    name: template.name,
    language: template.language,
    status: INFOBIP_STATUS[template.approvalStatus] ?? template.approvalStatus,
    category: template.category,
    structure,
    quality: template.quality,
    createdAt: `${template.createdAt.slice(0, 23)}+0000`,
    lastUpdatedAt: `${template.modifiedAt.slice(0, 23)}+0000`,
    platform: null,
  };
}

/**
 * A business-scoped user id: WhatsApp's address for a user known by username, which Infobip
 * accepts in `to` (≤150) and writes in `from`. Its exact shape is UNCONFIRMED; what matters is
 * that it is not a phone number (it has a letter or a dot) and has no spaces.
 */
const isUserId = (value: string): boolean => /^(?=.*[A-Za-z.])[A-Za-z0-9._-]{3,150}$/.test(value);

export function createInfobipEmulator(options: InfobipEmulatorOptions): InfobipEmulator {
  const now = options.now ?? Date.now;
  const createdAt = now();
  /** The account's senders, as international digits: the template lists and (with whatsappSender) the sends. */
  const registeredSenders = new Set(
    [options.whatsappSender ?? INFOBIP_EMULATOR_SENDER, ...(options.extraSenders ?? [])].map((sender) =>
      sender.replace(/\D/g, ''),
    ),
  );
  const attributes = {
    lastContacted: options.lastContactedAttribute ?? DEFAULT_LAST_CONTACTED_ATTRIBUTE,
    lastChannel: options.lastChannelAttribute ?? DEFAULT_LAST_CHANNEL_ATTRIBUTE,
  };
  const peopleSpec = resolvePeopleSpec(options.people, createdAt);
  const initialAttributes = (): Map<string, { name: string; dataType: PeopleDataType; createdAt: string }> =>
    new Map(
      (
        options.customAttributes ?? [
          { name: attributes.lastContacted, dataType: 'DATE_TIME' },
          { name: attributes.lastChannel, dataType: 'STRING' },
        ]
      ).map(({ name, dataType }) => [name.toLowerCase(), { name, dataType, createdAt: peopleTimestamp(createdAt) }]),
    );
  /** Custom attribute names are case-insensitive in People, as values are looked up (fieldValue). */
  let customAttributes = initialAttributes();
  const fieldType: PeopleFieldType = (path) => {
    const custom = /^customAttributes\.(.+)$/.exec(path)?.[1];
    return custom === undefined ? PERSON_FIELD_TYPES[path] : customAttributes.get(custom.toLowerCase())?.dataType;
  };
  const logsAnchor = options.smsLogs?.anchor?.getTime() ?? createdAt;
  const logsSpread = options.smsLogs?.spreadMs ?? 47 * 60 * 60 * 1000;
  const logsCount = options.smsLogs?.count ?? 0;
  const logsSpec: ResolvedLogsSpec = {
    count: logsCount,
    seed: options.smsLogs?.seed ?? 1,
    start: logsAnchor - logsSpread,
    step: logsCount > 0 ? logsSpread / logsCount : 1,
  };
  const initialSettings = {
    webhookUrl: options.webhookUrl,
    webhookAuth: options.webhookAuth,
    autoReports: options.autoReports ?? true,
    seenReports: options.seenReports ?? true,
    rateLimits: { peoplePerSecond: 5 as number | null, logsPerMinute: 120 as number | null, ...options.rateLimits },
  };
  const delays = options.reportDelaysMs ?? { delivered: 200, seen: 500 };

  let settings = structuredClone(initialSettings);
  const seedTemplates = (): Map<string, StoredTemplate> => {
    const seeded = new Map<string, StoredTemplate>();
    const all = [
      ...(options.includeDefaultTemplates === false ? [] : DEFAULT_EMULATOR_TEMPLATES),
      ...(options.templates ?? []),
    ];
    for (const template of all) {
      const key = templateKey(template.name, template.language);
      seeded.set(key, storeTemplate(template, seeded.get(key)));
    }
    return seeded;
  };
  let templates = seedTemplates();
  let extraPeople: unknown[] = [...(options.people?.records ?? [])];
  /** Generated people changed since (re-contacted): their ref's record instead of the derived one. */
  let changedPeople = new Map<number, Record<string, unknown>>();
  let extraLogs: unknown[] = [...(options.smsLogs?.records ?? [])];
  let dataVersion = 0;
  let faults: Array<{ fault: InfobipEmulatorFault; remaining: number }> = [];
  let requestLog: InfobipRecordedRequest[] = [];
  let counts = { people: 0, attributes: 0, logs: 0, send: 0, templates: 0, other: 0 };
  let messages = new Map<string, InfobipAcceptedMessage>();
  let deliveries: InfobipWebhookDelivery[] = [];
  let windows: Record<'people' | 'logs', number[]> = { people: [], logs: [] };
  let requestSeq = 0;
  let deliverySeq = 0;
  let lifecycle = new AbortController();
  /** Matching people per (filter, order): computed once per sync, then pages are slices. */
  const matchCache = new Map<string, { version: number; refs: Int32Array }>();

  const personAt = (ref: number): unknown =>
    changedPeople.get(ref) ??
    (ref < peopleSpec.count ? generatePerson(ref, peopleSpec, attributes) : extraPeople[ref - peopleSpec.count]);

  function refOfPerson(id: string | number): number | undefined {
    const generated = Number(id) - (370_000_000_000_000 + peopleSpec.seed * 10_000_000);
    if (Number.isInteger(generated) && generated >= 0 && generated < peopleSpec.count) return generated;
    const extra = extraPeople.findIndex(
      (person) =>
        person !== null && typeof person === 'object' && String((person as { id?: unknown }).id) === String(id),
    );
    return extra < 0 ? undefined : peopleSpec.count + extra;
  }

  function stopPendingWork(): void {
    lifecycle.abort();
    lifecycle = new AbortController();
  }

  // ------------------------------------------------------------------------------------------
  // Reports

  /**
   * Posts a report. The subscription's security profile (its BASIC credentials) goes only with the
   * subscription's own URL; a message's notifyUrl gets the report bare, as Infobip sends it, so an
   * endpoint that checks those credentials refuses it (§2.3). Credentials written into a notifyUrl
   * are not sent either (whether Infobip would use them is UNCONFIRMED; we do not rely on it).
   */
  async function post(
    destination: ReportDestination,
    payload: unknown,
    kind: InfobipReportKind,
    messageIds: string[],
  ): Promise<InfobipWebhookDelivery> {
    const parsed = new URL(destination.url);
    parsed.username = '';
    parsed.password = '';
    const target = parsed.toString();
    const headers: Record<string, string> = { 'User-Agent': 'Infobip-Emulator/1.0' };
    if (destination.subscription && settings.webhookAuth) {
      headers.Authorization = infobipBasicAuthHeader(settings.webhookAuth.username, settings.webhookAuth.password);
    }
    const rawBody = JSON.stringify(payload);
    const delivery: InfobipWebhookDelivery = {
      seq: ++deliverySeq,
      at: new Date(now()).toISOString(),
      url: target,
      kind,
      messageIds,
      rawBody,
      responseStatus: null,
      error: null,
    };
    deliveries.push(delivery);
    Object.assign(delivery, await postWebhookBody(target, rawBody, headers, lifecycle.signal, WEBHOOK_TIMEOUT_MS));
    return structuredClone(delivery);
  }

  interface ReportDestination {
    url: string;
    /** The account's subscription (which carries its security profile), not a message's notifyUrl. */
    subscription: boolean;
  }

  function reportUrl(message: InfobipAcceptedMessage | undefined): ReportDestination {
    const notifyUrl = message && typeof message.message.notifyUrl === 'string' ? message.message.notifyUrl : undefined;
    if (notifyUrl) return { url: notifyUrl, subscription: false };
    if (!settings.webhookUrl) throw new EmulatorConflict('No notifyUrl on the message and no webhook URL configured');
    return { url: settings.webhookUrl, subscription: true };
  }

  const STATUS_DEFAULTS: Record<
    NonNullable<InfobipReportRequest['groupName']>,
    { groupId: number; id: number; name: string; description: string }
  > = {
    PENDING: { groupId: 1, id: 7, name: 'PENDING_ENROUTE', description: 'Message sent to next instance' },
    UNDELIVERABLE: {
      groupId: 2,
      id: 9,
      name: 'UNDELIVERABLE_NOT_DELIVERED',
      description: 'Message sent not delivered',
    },
    DELIVERED: { groupId: 3, id: 5, name: 'DELIVERED_TO_HANDSET', description: 'Message delivered to handset' },
    EXPIRED: { groupId: 4, id: 15, name: 'EXPIRED_EXPIRED', description: 'Message expired' },
    REJECTED: { groupId: 5, id: 6, name: 'REJECTED_NETWORK', description: 'Network is forbidden' },
  };

  async function deliverReport(report: InfobipReportRequest): Promise<InfobipWebhookDelivery> {
    const message = messages.get(report.messageId);
    if (!message) throw new EmulatorNotFound(`No accepted message with id ${report.messageId}`);
    const groupName = report.groupName ?? 'DELIVERED';
    const defaults = STATUS_DEFAULTS[groupName];
    const failed = groupName === 'UNDELIVERABLE' || groupName === 'EXPIRED' || groupName === 'REJECTED';
    const doneAt = formatInfobipTimestamp(new Date(now()));
    const result: Record<string, unknown> = {
      bulkId: message.bulkId,
      messageId: message.messageId,
      to: message.message.to,
      sentAt: formatInfobipTimestamp(new Date(message.acceptedAt)),
      doneAt,
      messageCount: 1,
      price: { pricePerMessage: 0, currency: 'EUR' },
      status: {
        groupId: defaults.groupId,
        groupName,
        id: defaults.id,
        name: report.name ?? defaults.name,
        description: defaults.description,
        action: '',
      },
      error: failed
        ? {
            groupId: 1,
            groupName: 'HANDSET_ERRORS',
            id: report.errorId ?? 7006,
            name: report.errorName ?? 'EC_UNKNOWN_SUBSCRIBER',
            description: report.errorDescription ?? 'The number is not a WhatsApp user',
            permanent: report.permanent ?? true,
          }
        : { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false },
      contact: isUserId(String(message.message.to))
        ? { name: 'Emulated User', userId: message.message.to }
        : { name: 'Emulated User', phoneNumber: message.message.to },
    };
    if (typeof message.message.callbackData === 'string') result.callbackData = message.message.callbackData;
    message.lastReport = String((result.status as { name: string }).name);
    return post(reportUrl(message), { results: [result] }, 'delivery', [message.messageId]);
  }

  async function deliverSeenReport(messageId: string): Promise<InfobipWebhookDelivery> {
    const message = messages.get(messageId);
    if (!message) throw new EmulatorNotFound(`No accepted message with id ${messageId}`);
    message.lastReport = 'SEEN';
    const result = {
      messageId,
      from: message.message.to,
      to: message.message.from,
      sentAt: formatInfobipTimestamp(new Date(message.acceptedAt)),
      seenAt: formatInfobipTimestamp(new Date(now())),
    };
    return post(reportUrl(message), { results: [result] }, 'seen', [messageId]);
  }

  async function deliverInboundMessage(inbound: InfobipInboundRequest): Promise<InfobipWebhookDelivery> {
    // A user id travels as it is; a number as international digits.
    const from = isUserId(inbound.from.trim()) ? inbound.from.trim() : inbound.from.replace(/\D/g, '');
    if (from === '') throw new EmulatorConflict('from must be a phone number or a business-scoped user id');
    if (!settings.webhookUrl) throw new EmulatorConflict('No webhook URL configured');
    const messageId = randomUUID();
    const message: Record<string, unknown> =
      inbound.buttonText !== undefined
        ? { type: 'BUTTON', text: inbound.buttonText, payload: inbound.buttonPayload ?? inbound.buttonText }
        : { type: 'TEXT', text: inbound.text ?? '' };
    if (inbound.replyTo)
      message.context = { id: inbound.replyTo, from: options.whatsappSender ?? INFOBIP_EMULATOR_SENDER };
    const payload = {
      results: [
        {
          from,
          to: options.whatsappSender ?? INFOBIP_EMULATOR_SENDER,
          integrationType: 'WHATSAPP',
          receivedAt: formatInfobipTimestamp(new Date(now())),
          messageId,
          pairedMessageId: inbound.replyTo ?? null,
          callbackData: null,
          message,
          contact: { name: inbound.profileName ?? 'Emulated User' },
          price: { pricePerMessage: 0, currency: 'EUR' },
        },
      ],
      messageCount: 1,
      pendingMessageCount: 0,
    };
    return post({ url: settings.webhookUrl, subscription: true }, payload, 'inbound', [messageId]);
  }

  async function runAutoReports(messageId: string, acceptedAtMs: number): Promise<void> {
    const signal = lifecycle.signal;
    await sleep(acceptedAtMs + delays.delivered - Date.now(), signal);
    if (signal.aborted || !settings.autoReports) return;
    await deliverReport({ messageId }).catch(() => undefined);
    if (!settings.seenReports) return;
    await sleep(acceptedAtMs + delays.seen - Date.now(), signal);
    if (signal.aborted || !settings.autoReports) return;
    await deliverSeenReport(messageId).catch(() => undefined);
  }

  // ------------------------------------------------------------------------------------------
  // State

  const state: InfobipEmulatorState = {
    requestCounts: () => ({ ...counts }),
    requests: () => structuredClone(requestLog),
    acceptedMessages: () => structuredClone([...messages.values()]),
    webhookDeliveries: () => structuredClone(deliveries),
    pendingFaults: () => faults.map(({ fault, remaining }) => ({ ...fault, times: remaining })),
    injectFault(fault) {
      const parsed = InfobipEmulatorFaultSchema.parse(fault);
      faults.push({ fault: parsed, remaining: parsed.times ?? 1 });
    },
    addPeople(records) {
      extraPeople.push(...structuredClone(records));
      dataVersion += 1;
    },
    contactPerson(id, contact) {
      const ref = refOfPerson(id);
      if (ref === undefined) throw new EmulatorNotFound(`no person with id ${id}`);
      const person = structuredClone(personAt(ref)) as Record<string, unknown>;
      const custom =
        person.customAttributes !== null && typeof person.customAttributes === 'object'
          ? (person.customAttributes as Record<string, unknown>)
          : {};
      custom[attributes.lastContacted] = peopleTimestamp(contact.at.getTime());
      if (contact.channel) custom[attributes.lastChannel] = contact.channel.toUpperCase();
      person.customAttributes = custom;
      person.modifiedAt = peopleTimestamp(now());
      if (ref < peopleSpec.count) changedPeople.set(ref, person);
      else extraPeople[ref - peopleSpec.count] = person;
      dataVersion += 1;
    },
    addSmsLogs(records) {
      extraLogs.push(...structuredClone(records));
    },
    templates: () => structuredClone([...templates.values()]),
    upsertTemplate(template) {
      const key = templateKey(template.name, template.language);
      const stored = storeTemplate(template, templates.get(key));
      templates.set(key, stored);
      return structuredClone(stored);
    },
    defineCustomAttribute({ name, dataType }) {
      customAttributes.set(name.toLowerCase(), { name, dataType, createdAt: peopleTimestamp(now()) });
      matchCache.clear();
    },
    configure(update) {
      settings = {
        ...settings,
        ...update,
        rateLimits: { ...settings.rateLimits, ...update.rateLimits },
      };
    },
    deliverReport,
    deliverSeenReport,
    deliverInboundMessage,
    reset() {
      stopPendingWork();
      settings = structuredClone(initialSettings);
      extraPeople = [...(options.people?.records ?? [])];
      changedPeople = new Map();
      extraLogs = [...(options.smsLogs?.records ?? [])];
      customAttributes = initialAttributes();
      templates = seedTemplates();
      matchCache.clear();
      dataVersion += 1;
      faults = [];
      requestLog = [];
      counts = { people: 0, attributes: 0, logs: 0, send: 0, templates: 0, other: 0 };
      messages = new Map();
      deliveries = [];
      windows = { people: [], logs: [] };
    },
  };

  // ------------------------------------------------------------------------------------------
  // Request plumbing: auth, faults, rate limits

  const authorized = (req: Request): boolean => req.headers.authorization?.trim() === `App ${options.apiKey}`;

  function takeFault(endpoint: InfobipEndpoint): InfobipEmulatorFault | undefined {
    const index = faults.findIndex(({ fault }) => {
      if (fault.endpoint && fault.endpoint !== 'any' && fault.endpoint !== endpoint) return false;
      return !(fault.kind === 'malformed' && !(endpoint === 'people' || endpoint === 'logs'));
    });
    if (index < 0) return undefined;
    const entry = faults[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  }

  function tooManyRequests(res: Response, retryAfterSeconds: number | null, shape: 'E429' | 'requestError'): void {
    if (retryAfterSeconds !== null) res.set('Retry-After', String(retryAfterSeconds));
    res.status(429).json(
      shape === 'E429'
        ? {
            errorCode: 'E429',
            description: 'Too many requests.',
            action: 'Reduce the request rate and retry after the time given in Retry-After.',
            violations: [],
            resources: [
              { name: 'Throttling', url: 'https://www.infobip.com/docs/essentials/api-essentials/throttling' },
            ],
          }
        : serviceException('TOO_MANY_REQUESTS', 'Too many requests'),
    );
  }

  /** Sliding window over accepted requests; a refused request does not use up the window. */
  function overLimit(endpoint: 'people' | 'logs'): number | undefined {
    const limit = endpoint === 'people' ? settings.rateLimits.peoplePerSecond : settings.rateLimits.logsPerMinute;
    if (limit === null || limit === undefined) return undefined;
    const span = endpoint === 'people' ? 1_000 : 60_000;
    const at = Date.now();
    const recent = windows[endpoint].filter((t) => t > at - span);
    windows[endpoint] = recent;
    if (recent.length >= limit) return recent[0]! + span - at;
    recent.push(at);
    return undefined;
  }

  /** Auth, then an injected fault, then the rate limit; returns the malformed fault to apply, if any. */
  function admit(endpoint: InfobipEndpoint, req: Request, res: Response): { malformed?: number } | null {
    if (!authorized(req)) {
      res.status(401).json(serviceException('UNAUTHORIZED', 'Invalid login details'));
      return null;
    }
    const fault = takeFault(endpoint);
    if (fault?.kind === 'rate_limit') {
      tooManyRequests(res, fault.retryAfterSeconds === undefined ? 1 : fault.retryAfterSeconds, fault.shape ?? 'E429');
      return null;
    }
    if (fault?.kind === 'server_error') {
      const status = fault.status ?? 500;
      if (status === 500)
        res.status(500).json(serviceException('GENERAL_ERROR', 'Something went wrong. Please contact support.'));
      else res.status(status).type('html').send(`<html><body><h1>${status}</h1></body></html>`);
      return null;
    }
    if (endpoint !== 'send') {
      const waitMs = endpoint === 'templates' ? undefined : overLimit(endpoint === 'attributes' ? 'people' : endpoint);
      if (waitMs !== undefined) {
        tooManyRequests(res, Math.max(1, Math.ceil(waitMs / 1000)), 'E429');
        return null;
      }
    }
    return fault?.kind === 'malformed' ? { malformed: fault.count ?? 2 } : {};
  }

  function badRequest(res: Response, error: BadRequest): void {
    res
      .status(400)
      .json(
        serviceException('BAD_REQUEST', error.message, error.field ? { [error.field]: [error.message] } : undefined),
      );
  }

  function intParam(value: unknown, name: string, fallback: number, min: number, max: number): number {
    if (value === undefined || value === '') return fallback;
    const number = Number(value);
    if (typeof value !== 'string' || !Number.isInteger(number) || number < min || number > max) {
      throw new BadRequest(`${name} must be an integer from ${min} to ${max}`, name);
    }
    return number;
  }

  const mixIn = <T>(page: T[], garbage: T[]): T[] => {
    const at = Math.floor(page.length / 2);
    return [...page.slice(0, at), ...garbage, ...page.slice(at)];
  };

  // ------------------------------------------------------------------------------------------
  // People

  /**
   * Matching people in order. A sync pages by `createdAt >= <last read>` (keyset), so each page
   * has its own filter: the rest of the filter is matched and sorted once and cached, and the
   * createdAt bound is cut out of that list (by binary search when it is sorted by createdAt).
   */
  function matchingPeople(filterText: string | undefined, orderBy: string | undefined): Int32Array {
    let filter: unknown;
    if (filterText) {
      try {
        filter = JSON.parse(filterText);
      } catch {
        throw new BadRequest('filter is not valid JSON', 'filter');
      }
    }
    const { rest, createdFrom } = splitCreatedFrom(filter);
    const refs = matchingPeopleCached(rest === undefined ? undefined : JSON.stringify(rest), orderBy);
    if (createdFrom === undefined) return refs;
    const from = compilePeopleFilter({ '#gte': { createdAt: createdFrom } }, fieldType);
    const included = (ref: number): boolean => {
      const person = personAt(ref);
      return person !== null && typeof person === 'object' && from(person as Record<string, unknown>);
    };
    if (orderBy?.toLowerCase() !== 'createdat:asc') return refs.filter(included);
    // Sorted ascending with missing createdAt first: those before the first included are all excluded.
    let low = 0;
    let high = refs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (included(refs[mid]!)) high = mid;
      else low = mid + 1;
    }
    return refs.subarray(low);
  }

  function matchingPeopleCached(filterText: string | undefined, orderBy: string | undefined): Int32Array {
    const key = `${filterText ?? ''}\u0000${orderBy ?? ''}`;
    const cached = matchCache.get(key);
    if (cached && cached.version === dataVersion) return cached.refs;

    let predicate: Predicate = () => true;
    if (filterText) predicate = compilePeopleFilter(JSON.parse(filterText), fieldType);
    let order: { field: string; direction: 1 | -1 } | undefined;
    if (orderBy) {
      const [field = '', direction = 'asc'] = orderBy.split(':');
      if (!ORDER_FIELDS.has(field) || !['asc', 'desc'].includes(direction.toLowerCase())) {
        throw new BadRequest(
          'orderBy must be firstName, lastName, createdAt or modifiedAt, with :asc or :desc',
          'orderBy',
        );
      }
      order = { field, direction: direction.toLowerCase() === 'desc' ? -1 : 1 };
    }

    const total = peopleSpec.count + extraPeople.length;
    if (!filterText && !order) return Int32Array.from({ length: total }, (_, ref) => ref);
    const matched: number[] = [];
    const sortKeys = new Map<number, unknown>();
    for (let ref = 0; ref < total; ref += 1) {
      const person = personAt(ref);
      const record = person !== null && typeof person === 'object' ? (person as Record<string, unknown>) : {};
      if (!predicate(record)) continue;
      matched.push(ref);
      if (order) sortKeys.set(ref, record[order.field]);
    }
    if (order) {
      const { direction } = order;
      // A person without the field sorts first, so the order is total and a keyset bound can be searched.
      const compare = (a: unknown, b: unknown): number =>
        a === undefined ? (b === undefined ? 0 : -1) : b === undefined ? 1 : (compareValues(a, b) ?? 0);
      matched.sort((a, b) => compare(sortKeys.get(a), sortKeys.get(b)) * direction || a - b);
    }
    const refs = Int32Array.from(matched);
    if (matchCache.size >= 4) matchCache.delete(matchCache.keys().next().value!);
    matchCache.set(key, { version: dataVersion, refs });
    return refs;
  }

  function handlePeople(req: Request, res: Response): void {
    const admitted = admit('people', req, res);
    if (!admitted) return;
    try {
      const query = req.query as Record<string, string | undefined>;
      if (query.identifier !== undefined) throw new BadRequest('single-person lookup is not emulated', 'identifier');
      const limit = intParam(query.limit, 'limit', 20, 1, INFOBIP_MAX_PAGE_SIZE);
      const page = intParam(query.page, 'page', 1, 1, 1_000_000);
      const refs = matchingPeople(query.filter, query.orderBy);
      const start = (page - 1) * limit;
      let persons: unknown[] = Array.from(refs.subarray(start, start + limit), (ref) => personAt(ref));
      if (admitted.malformed)
        persons = mixIn(
          persons,
          Array.from({ length: admitted.malformed }, (_, n) => MALFORMED_PERSON(n)[n % 3]),
        );
      const body: Record<string, unknown> = {
        limit,
        page,
        ...(query.orderBy ? { orderBy: query.orderBy } : {}),
        persons,
      };
      if (query.includeTotalCount === 'true') body.totalCount = refs.length;
      res.json(body);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      badRequest(res, error);
    }
  }

  // ------------------------------------------------------------------------------------------
  // SMS logs

  interface LogsCursor {
    offset: number;
  }
  const encodeCursor = (cursor: LogsCursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');
  function decodeCursor(text: string): LogsCursor {
    try {
      const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<LogsCursor>;
      if (Number.isInteger(value.offset) && value.offset! >= 0) return { offset: value.offset! };
    } catch {
      // fall through
    }
    throw new BadRequest('cursor is not valid', 'cursor');
  }

  function handleLogs(req: Request, res: Response): void {
    const admitted = admit('logs', req, res);
    if (!admitted) return;
    try {
      const query = req.query as Record<string, string | undefined>;
      const current = now();
      const oldest = current - INFOBIP_LOGS_RETENTION_MS;
      const readTime = (name: 'sentSince' | 'sentUntil', fallback: number): number => {
        const value = query[name];
        if (value === undefined) return fallback;
        const at = parseInfobipTimestamp(value);
        if (!at) throw new BadRequest(`${name} must be formatted yyyy-MM-dd'T'HH:mm:ss.SSSZ`, name);
        return at.getTime();
      };
      let since = readTime('sentSince', oldest);
      const until = readTime('sentUntil', current);
      if (since < oldest) {
        if ((options.logsRetention ?? 'clamp') === 'reject')
          throw new BadRequest('sentSince is more than 48 hours ago: logs are kept for 48 hours', 'sentSince');
        since = oldest;
      }
      const limit = intParam(query.limit, 'limit', 50, 1, INFOBIP_MAX_PAGE_SIZE);
      const offset = query.cursor ? decodeCursor(query.cursor).offset : 0;

      const inWindow = (at: number): boolean => at >= since && at < until;
      const explicit = extraLogs
        .map((record) => ({
          record,
          at: parseInfobipTimestamp((record as { sentAt?: unknown } | null)?.sentAt)?.getTime(),
        }))
        // Records with an unreadable sentAt are served anyway: the client must report them, not choke.
        .filter(({ at }) => at === undefined || inWindow(at))
        .map(({ record }) => record);
      const { count, start, step } = logsSpec;
      const first = Math.min(count, Math.max(0, Math.ceil((since - start) / step)));
      const end = Math.min(count, Math.max(first, Math.ceil((until - start) / step)));
      const total = explicit.length + (end - first);

      let results: unknown[] = [];
      for (let position = offset; position < Math.min(total, offset + limit); position += 1) {
        results.push(
          position < explicit.length ? explicit[position] : generateLog(first + position - explicit.length, logsSpec),
        );
      }
      if (admitted.malformed)
        results = mixIn(
          results,
          Array.from({ length: admitted.malformed }, (_, n) => MALFORMED_LOG(n)[n % 3]),
        );
      const nextOffset = offset + limit;
      const body: Record<string, unknown> = { results };
      if (query.useCursor === 'true' || query.cursor) {
        body.cursor = { limit, nextCursor: nextOffset < total ? encodeCursor({ offset: nextOffset }) : null };
      }
      res.json(body);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      badRequest(res, error);
    }
  }

  // ------------------------------------------------------------------------------------------
  // WhatsApp template sends

  function validateMessage(raw: unknown, index: number): Record<string, string[]> {
    const problems: Record<string, string[]> = {};
    const at = (field: string, problem: string): void => {
      (problems[`messages[${index}].${field}`] ??= []).push(problem);
    };
    const message = (raw ?? {}) as Record<string, unknown>;
    if (typeof message.from !== 'string' || !/^\d{1,24}$/.test(message.from))
      at('from', 'must be the registered sender, digits only');
    else if (options.whatsappSender && !registeredSenders.has(message.from)) at('from', 'is not a registered sender');
    if (typeof message.to !== 'string' || !(/^\d{6,15}$/.test(message.to) || isUserId(message.to)))
      at('to', 'must be a number in international format, digits only, or a business-scoped user id');
    if (message.messageId !== undefined && (typeof message.messageId !== 'string' || message.messageId.length > 200))
      at('messageId', 'size must be between 0 and 200');
    if (
      message.callbackData !== undefined &&
      (typeof message.callbackData !== 'string' || message.callbackData.length > 4000)
    )
      at('callbackData', 'size must be between 0 and 4000');
    if (
      message.notifyUrl !== undefined &&
      (typeof message.notifyUrl !== 'string' ||
        !/^https?:\/\//.test(message.notifyUrl) ||
        message.notifyUrl.length > 2048)
    )
      at('notifyUrl', 'must be a valid URL');

    const content = (message.content ?? {}) as Record<string, unknown>;
    if (typeof content.templateName !== 'string' || !/^[a-z0-9_]{1,512}$/.test(content.templateName))
      at('content.templateName', 'must be lowercase letters, digits and _');
    if (typeof content.language !== 'string' || content.language === '') at('content.language', 'must not be blank');
    const data = (content.templateData ?? {}) as Record<string, unknown>;
    const placeholders = ((data.body ?? {}) as Record<string, unknown>).placeholders;
    if (!Array.isArray(placeholders)) at('content.templateData.body.placeholders', 'must not be null');
    else if (placeholders.some((value) => typeof value !== 'string' || value.trim() === ''))
      at('content.templateData.body.placeholders', 'values must not be blank');

    if (data.header !== undefined) {
      const header = (data.header ?? {}) as Record<string, unknown>;
      const isUrl = (value: unknown): boolean => typeof value === 'string' && /^https?:\/\/\S+$/.test(value);
      switch (header.type) {
        case 'TEXT':
          if (
            typeof header.placeholder !== 'string' ||
            header.placeholder.trim() === '' ||
            /[\n\t]| {5,}/.test(header.placeholder)
          ) {
            at(
              'content.templateData.header.placeholder',
              'must not be blank nor contain new lines, tabs or more than 4 consecutive spaces',
            );
          }
          break;
        case 'DOCUMENT':
          if (!isUrl(header.mediaUrl)) at('content.templateData.header.mediaUrl', 'must be a valid URL');
          if (typeof header.filename !== 'string' || header.filename === '' || header.filename.length > 240)
            at('content.templateData.header.filename', 'must not be blank');
          break;
        case 'IMAGE':
        case 'VIDEO':
          if (!isUrl(header.mediaUrl)) at('content.templateData.header.mediaUrl', 'must be a valid URL');
          break;
        default:
          at('content.templateData.header.type', 'must be one of TEXT, DOCUMENT, IMAGE, VIDEO, LOCATION');
      }
    }
    if (data.buttons !== undefined) {
      const buttons = data.buttons;
      if (!Array.isArray(buttons) || buttons.length > 10)
        at('content.templateData.buttons', 'must be a list of at most 10 buttons');
      else {
        buttons.forEach((button: unknown, n) => {
          const { type, parameter } = (button ?? {}) as Record<string, unknown>;
          if (!['QUICK_REPLY', 'URL', 'COPY_CODE', 'FLOW'].includes(String(type)))
            at(`content.templateData.buttons[${n}].type`, 'is not a supported button type');
          if (typeof parameter !== 'string' || parameter === '')
            at(`content.templateData.buttons[${n}].parameter`, 'must not be blank');
        });
        if (buttons.filter((button: unknown) => (button as { type?: unknown } | null)?.type === 'URL').length > 2) {
          at('content.templateData.buttons', 'at most 2 URL buttons');
        }
      }
    }
    if (Object.keys(problems).length === 0) checkAgainstTemplate(content, data, at);
    return problems;
  }

  /**
   * The message against the sender's registered template: it exists in that language and is
   * approved, the placeholders and header fit it, and `buttons` lists exactly the buttons that take
   * a parameter (quick reply, dynamic URL, copy code, flow), in template order (§2.2: Infobip binds
   * them by position). That Infobip refuses an unknown or unapproved template at request time,
   * rather than in a report, is UNCONFIRMED.
   */
  function checkAgainstTemplate(
    content: Record<string, unknown>,
    data: Record<string, unknown>,
    at: (field: string, problem: string) => void,
  ): void {
    const name = String(content.templateName);
    const language = String(content.language);
    const template = templates.get(templateKey(name, language));
    if (!template) {
      at('content.templateName', `no template ${name} in language ${language} is registered for this sender`);
      return;
    }
    if (template.approvalStatus !== 'APPROVED') {
      at('content.templateName', `template ${name} (${language}) is ${template.approvalStatus}, not APPROVED`);
      return;
    }
    const placeholders = ((data.body ?? {}) as { placeholders?: unknown[] }).placeholders ?? [];
    const expected = countVariables(template.body);
    if (placeholders.length !== expected)
      at(
        'content.templateData.body.placeholders',
        `the template's body has ${expected} placeholders; ${placeholders.length} given`,
      );

    const header = data.header as { type?: unknown } | undefined;
    const registered = template.header;
    const wanted = !registered
      ? null
      : registered.format === 'TEXT'
        ? countVariables(registered.text) > 0
          ? 'TEXT'
          : null
        : registered.format;
    if ((header?.type ?? null) !== wanted) {
      at(
        'content.templateData.header',
        wanted
          ? `the template has a ${wanted} header, which needs a value`
          : 'the template has no header that takes a value',
      );
    }

    const expectedButtons = (template.buttons ?? [])
      .map((button) =>
        buttonParameterKind({ type: button.type, text: button.text, ...('url' in button && { url: button.url }) }),
      )
      .filter((kind) => kind !== 'none')
      .map((kind) => ({ quick_reply: 'QUICK_REPLY', dynamic_url: 'URL', copy_code: 'COPY_CODE', flow: 'FLOW' })[kind]);
    const sent = Array.isArray(data.buttons)
      ? data.buttons.map((button) => String((button as { type?: unknown }).type))
      : [];
    if (sent.join() !== expectedButtons.join()) {
      at(
        'content.templateData.buttons',
        `must list every button that takes a parameter, in template order: [${expectedButtons.join(', ')}]; got [${sent.join(', ')}]`,
      );
    }
  }

  function handleSend(req: Request, res: Response): void {
    if (!admit('send', req, res)) return;
    const body = (req.body ?? {}) as { messages?: unknown; bulkId?: unknown };
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      res.status(400).json(serviceException('BAD_REQUEST', 'Bad request', { messages: ['must not be empty'] }));
      return;
    }
    const problems = Object.assign({}, ...body.messages.map(validateMessage)) as Record<string, string[]>;
    if (Object.keys(problems).length > 0) {
      res.status(400).json(serviceException('BAD_REQUEST', 'Bad request', problems));
      return;
    }
    const bulkId = typeof body.bulkId === 'string' ? body.bulkId : randomUUID();
    const acceptedAt = now();
    const accepted = (body.messages as Record<string, unknown>[]).map((message) => {
      const messageId =
        typeof message.messageId === 'string' && message.messageId !== '' ? message.messageId : randomUUID();
      const record: InfobipAcceptedMessage = {
        messageId,
        bulkId,
        acceptedAt: new Date(acceptedAt).toISOString(),
        message: structuredClone(message),
        lastReport: null,
      };
      messages.set(messageId, record);
      return record;
    });
    res.status(200).json({
      messages: accepted.map((record) => ({
        to: record.message.to,
        messageCount: 1,
        messageId: record.messageId,
        status: {
          groupId: 1,
          groupName: 'PENDING',
          id: 7,
          name: 'PENDING_ENROUTE',
          description: 'Message sent to next instance',
        },
      })),
      bulkId,
    });
    if (settings.autoReports) {
      for (const record of accepted) {
        if (typeof record.message.notifyUrl === 'string' || settings.webhookUrl)
          void runAutoReports(record.messageId, Date.now());
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Routes

  const ReportSchema = z.object({
    messageId: z.string().min(1),
    groupName: z.enum(['PENDING', 'DELIVERED', 'UNDELIVERABLE', 'EXPIRED', 'REJECTED']).optional(),
    name: z.string().optional(),
    errorId: z.number().int().optional(),
    errorName: z.string().optional(),
    errorDescription: z.string().optional(),
    permanent: z.boolean().optional(),
  });
  const InboundSchema = z.object({
    from: z.string().min(1),
    text: z.string().optional(),
    buttonText: z.string().optional(),
    buttonPayload: z.string().optional(),
    replyTo: z.string().optional(),
    profileName: z.string().optional(),
  });
  const SettingsSchema = z.object({
    webhookUrl: z.url().nullable().optional(),
    webhookAuth: z
      .object({ username: z.string().min(1), password: z.string().min(1) })
      .nullable()
      .optional(),
    autoReports: z.boolean().optional(),
    seenReports: z.boolean().optional(),
    rateLimits: z
      .object({
        peoplePerSecond: z.number().positive().nullable().optional(),
        logsPerMinute: z.number().positive().nullable().optional(),
      })
      .optional(),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(recordRequests);
  app.use(express.json({ limit: '5mb' }));

  const control = express.Router();
  control.get('/health', (_req, res) => {
    res.json({
      ok: true,
      emulator: 'infobip',
      people: peopleSpec.count + extraPeople.length,
      smsLogs: logsSpec.count + extraLogs.length,
    });
  });
  control.get('/requests', (_req, res) => {
    res.json({ counts: state.requestCounts(), requests: state.requests() });
  });
  control.get('/messages', (_req, res) => {
    res.json({ messages: state.acceptedMessages() });
  });
  control.get('/webhooks', (_req, res) => {
    res.json({ deliveries: state.webhookDeliveries() });
  });
  control.get('/faults', (_req, res) => {
    res.json({ faults: state.pendingFaults() });
  });
  control.post('/faults', (req, res) => {
    const body: unknown = req.body;
    const list = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && 'faults' in body && Array.isArray(body.faults)
        ? (body.faults as unknown[])
        : [body];
    for (const fault of z.array(InfobipEmulatorFaultSchema).parse(list)) state.injectFault(fault);
    res.status(201).json({ faults: state.pendingFaults() });
  });
  control.post('/people', (req, res) => {
    const { records } = z.object({ records: z.array(z.unknown()) }).parse(req.body);
    state.addPeople(records);
    res.status(201).json({ added: records.length });
  });
  control.post('/people/:id/contact', (req, res) => {
    const body = z
      .object({ at: z.iso.datetime({ offset: true }).optional(), channel: z.string().min(1).optional() })
      .parse(req.body ?? {});
    state.contactPerson(req.params.id, {
      at: body.at ? new Date(body.at) : new Date(now()),
      ...(body.channel && { channel: body.channel }),
    });
    res.json({ contacted: req.params.id });
  });
  control.get('/templates', (_req, res) => {
    res.json({ templates: state.templates() });
  });
  control.post('/templates', (req, res) => {
    res.json({ template: state.upsertTemplate(EmulatorTemplateSchema.parse(req.body)) });
  });
  control.post('/custom-attributes', (req, res) => {
    const attribute = z
      .object({ name: z.string().min(1).max(256), dataType: z.enum(PEOPLE_DATA_TYPES) })
      .parse(req.body);
    state.defineCustomAttribute(attribute);
    res.status(201).json({ attribute });
  });
  control.post('/sms-logs', (req, res) => {
    const { records } = z.object({ records: z.array(z.unknown()) }).parse(req.body);
    state.addSmsLogs(records);
    res.status(201).json({ added: records.length });
  });
  control.post('/reports', async (req, res) => {
    res.json({ delivery: await deliverReport(ReportSchema.parse(req.body)) });
  });
  control.post('/seen', async (req, res) => {
    res.json({
      delivery: await deliverSeenReport(z.object({ messageId: z.string().min(1) }).parse(req.body).messageId),
    });
  });
  control.post('/inbound', async (req, res) => {
    res.json({ delivery: await deliverInboundMessage(InboundSchema.parse(req.body)) });
  });
  control.post('/settings', (req, res) => {
    const update = SettingsSchema.parse(req.body);
    state.configure({
      ...(update.webhookUrl !== undefined ? { webhookUrl: update.webhookUrl ?? undefined } : {}),
      ...(update.webhookAuth !== undefined ? { webhookAuth: update.webhookAuth ?? undefined } : {}),
      ...(update.autoReports !== undefined ? { autoReports: update.autoReports } : {}),
      ...(update.seenReports !== undefined ? { seenReports: update.seenReports } : {}),
      ...(update.rateLimits ? { rateLimits: update.rateLimits } : {}),
    });
    res.json({ ok: true });
  });
  control.post('/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });
  app.use('/__emulator', control);

  app.get('/people/2/customAttributes/:name', (req, res) => {
    if (!admit('attributes', req, res)) return;
    const attribute = customAttributes.get(req.params.name.toLowerCase());
    if (!attribute) {
      res.status(404).json(serviceException('NOT_FOUND', `Custom attribute ${req.params.name} not found`));
      return;
    }
    res.json({
      createdAt: attribute.createdAt,
      modifiedAt: attribute.createdAt,
      name: attribute.name,
      dataType: attribute.dataType,
    });
  });
  app.post('/people/2/customAttributes', (req, res) => {
    if (!admit('attributes', req, res)) return;
    const body = (req.body ?? {}) as { name?: unknown; dataType?: unknown };
    const problems: Record<string, string[]> = {};
    if (typeof body.name !== 'string' || body.name === '' || body.name.length > 256 || /[{}[\].]/.test(body.name))
      problems.name = ['must be 1 to 256 characters without {}[].'];
    if (!PEOPLE_DATA_TYPES.includes(body.dataType as PeopleDataType))
      problems.dataType = [`must be one of ${PEOPLE_DATA_TYPES.join(', ')}`];
    if (Object.keys(problems).length > 0) {
      res.status(400).json(serviceException('BAD_REQUEST', 'Bad request', problems));
      return;
    }
    const name = body.name as string;
    if (customAttributes.has(name.toLowerCase())) {
      res
        .status(400)
        .json(serviceException('BAD_REQUEST', `Custom attribute ${name} already exists`, { name: ['already exists'] }));
      return;
    }
    const attribute = { name, dataType: body.dataType as PeopleDataType, createdAt: peopleTimestamp(now()) };
    customAttributes.set(name.toLowerCase(), attribute);
    matchCache.clear();
    res.json({ createdAt: attribute.createdAt, modifiedAt: attribute.createdAt, name, dataType: attribute.dataType });
  });
  app.get('/people/2/persons', handlePeople);
  app.get('/whatsapp/2/senders/:sender/templates', (req, res) => {
    if (!admit('templates', req, res)) return;
    if (!registeredSenders.has(req.params.sender)) {
      res.status(404).json(serviceException('NOT_FOUND', `Sender ${req.params.sender} is not registered`));
      return;
    }
    res.json({ templates: [...templates.values()].map((template) => infobipTemplateRow(template)) });
  });
  app.get('/sms/3/logs', handleLogs);
  app.post('/whatsapp/1/message/template', handleSend);
  app.use((req, res) => {
    res.status(404).json(serviceException('NOT_FOUND', `No endpoint ${req.method} ${req.path}`));
  });

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (!req.path.startsWith('/__emulator')) {
      if (isBodyParseError(error))
        res.status(400).json(serviceException('BAD_REQUEST', 'The request body is not valid JSON'));
      else res.status(500).json(serviceException('GENERAL_ERROR', 'Something went wrong. Please contact support.'));
      return;
    }
    if (error instanceof z.ZodError) res.status(400).json({ error: 'invalid_request', issues: error.issues });
    else if (error instanceof EmulatorNotFound) res.status(404).json({ error: 'not_found', message: error.message });
    else if (error instanceof EmulatorConflict) res.status(409).json({ error: 'conflict', message: error.message });
    else if (isBodyParseError(error)) res.status(400).json({ error: 'invalid_json' });
    else res.status(500).json({ error: 'internal', message: error instanceof Error ? error.message : String(error) });
  });

  function recordRequests(req: Request, res: Response, next: NextFunction): void {
    if (req.path.startsWith('/__emulator')) {
      next();
      return;
    }
    const endpoint: InfobipRecordedRequest['endpoint'] =
      req.method === 'GET' && req.path === '/people/2/persons'
        ? 'people'
        : req.path.startsWith('/people/2/customAttributes')
          ? 'attributes'
          : req.method === 'GET' && req.path === '/sms/3/logs'
            ? 'logs'
            : req.method === 'POST' && req.path === '/whatsapp/1/message/template'
              ? 'send'
              : req.method === 'GET' && /^\/whatsapp\/2\/senders\/[^/]+\/templates$/.test(req.path)
                ? 'templates'
                : 'other';
    counts[endpoint] += 1;
    const entry: InfobipRecordedRequest = {
      seq: ++requestSeq,
      at: new Date().toISOString(),
      method: req.method,
      path: req.originalUrl,
      endpoint,
      authorized: authorized(req),
      responseStatus: null,
    };
    requestLog.push(entry);
    if (requestLog.length > REQUEST_LOG_LIMIT) requestLog.splice(0, requestLog.length - REQUEST_LOG_LIMIT);
    res.on('finish', () => {
      entry.responseStatus = res.statusCode;
    });
    next();
  }

  function listen(port = 0, host = '127.0.0.1'): Promise<ListeningEmulator> {
    return listenEmulator(app, port, host, stopPendingWork);
  }

  return { app, listen, state, reset: state.reset };
}
