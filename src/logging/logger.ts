/**
 * The one logger factory. Every server process (API, worker) creates its pino logger here, once,
 * in its entry point, and passes it down. What may reach a line is decided here, not at each call
 * site:
 *
 * - fields named like secrets (authorization, apiKey, token, secret, password, signature headers)
 *   are censored, and phone fields are masked to their last four digits (pino `redact`, one level
 *   deep: `phone` and `lead.phone`, not `a.b.phone`);
 * - every message goes through `redactText` (phones, e-mail addresses, CTA tokens, credentials);
 * - errors are described by `describeError` (class, code, SQL without its values), never dumped;
 * - a request is logged by method, path without its query string (and `/track/…` not even its
 *   path), status and duration, never its headers or body;
 * - a line written while a request is being served carries its `reqId`, whichever logger wrote it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type DestinationStream, type Level, type Logger, type LoggerOptions } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Config } from '../config';
import { describeError, maskPhone, redactText } from './redact';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface CreateLoggerOptions {
  level: Level | 'silent';
  /** The process (`api`, `worker`): a field of every JSON line, left out of pretty ones (`npm start` prefixes them). */
  name?: string;
  /** `pretty`: one human-readable line per event, for a terminal (never in production; config.ts refuses it). */
  format?: LogFormat;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/** Field names whose values are secrets wherever they appear (top level or one level down). */
const SECRET_FIELDS = [
  'authorization',
  'apiKey',
  'accessToken',
  'token',
  'secret',
  'webhookSecret',
  'password',
  'signature',
];
/** Field names holding a phone number: masked (last four digits kept), not dropped. */
const PHONE_FIELDS = ['phone', 'fromPhone', 'callerNumber', 'calledNumber'];
const EMAIL_FIELDS = ['email'];
/** Headers that authenticate a request; our request serializer leaves headers out, this is for anyone logging a raw one. */
const SECRET_HEADERS = [
  'authorization',
  'x-api-key',
  'cookie',
  'set-cookie',
  'interakt-signature',
  'x-interakt-signature',
  'x-hub-signature-256',
];

const REDACT_PATHS = [
  ...[...SECRET_FIELDS, ...PHONE_FIELDS, ...EMAIL_FIELDS].flatMap((field) => [field, `*.${field}`]),
  ...SECRET_HEADERS.flatMap((header) => [
    `req.headers["${header}"]`,
    `res.headers["${header}"]`,
    `headers["${header}"]`,
  ]),
];

function censor(value: unknown, path: string[]): unknown {
  const field = path[path.length - 1] ?? '';
  if (PHONE_FIELDS.includes(field) && typeof value === 'string') return maskPhone(value);
  if (EMAIL_FIELDS.includes(field)) return '[email]';
  return '[redacted]';
}

/** The request a line belongs to, for lines written by any logger while it is served. */
const requestScope = new AsyncLocalStorage<{ reqId: string }>();

/** Runs `fn` (and everything it starts) as part of request `reqId`: its log lines carry the id. */
export function runInRequestScope<T>(reqId: string, fn: () => T): T {
  return requestScope.run({ reqId }, fn);
}

/**
 * Runs `fn` outside any request: work a request merely woke (a batch applying many requests'
 * webhook events) must not be logged under that one request's id.
 */
export function runOutsideRequestScope<T>(fn: () => T): T {
  return requestScope.exit(fn);
}

/** Our ids are SQL Server INTs; a longer run of digits in a path may be a phone number. */
const MAX_ID = 2_147_483_647;

/**
 * The path without its query string (which may hold a search for a name or phone). CTA links
 * (`/track/<leadId>?token=…`, the token possibly percent-encoded into the path) by pattern only.
 * Id segments are kept as they are; any other segment is redacted like a message.
 */
export function loggablePath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  if (path === '/track' || path.startsWith('/track/')) return '/track/:leadId';
  return path
    .split('/')
    .map((segment) => (/^\d{1,10}$/.test(segment) && Number(segment) <= MAX_ID ? segment : redactText(segment)))
    .join('/');
}

const serializers = {
  err: serializeError,
  error: serializeError,
  req: (req: IncomingMessage & { originalUrl?: string }) => ({
    method: req.method,
    path: loggablePath(req.originalUrl ?? req.url ?? ''),
  }),
  res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
};

function serializeError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return { message: describeError(error) };
  const e = error as { name?: unknown; code?: unknown };
  return {
    type: typeof e.name === 'string' ? e.name : 'Error',
    ...((typeof e.code === 'string' || typeof e.code === 'number') && { code: e.code }),
    message: describeError(error),
  };
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level,
    ...(options.name !== undefined && { name: options.name }),
    redact: { paths: REDACT_PATHS, censor },
    serializers,
    // A fresh object each time: pino merges the line's own fields into what the mixin returns.
    mixin: () => {
      const scope = requestScope.getStore();
      return scope ? { reqId: scope.reqId } : {};
    },
    hooks: {
      logMethod(args, method) {
        // `log.error(error)` would make the raw error message the line's message: describe it instead.
        const [first, ...rest] = args as unknown[];
        if (first instanceof Error) {
          const message = typeof rest[0] === 'string' ? redactText(rest[0]) : describeError(first);
          return method.apply(this, [{ err: first }, message] as Parameters<typeof method>);
        }
        const redacted = args.map((arg: unknown) => (typeof arg === 'string' ? redactText(arg) : arg));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
  const target = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(pinoOptions, options.format === 'pretty' ? prettyLines(target) : target);
}

/**
 * One readable line per event (`npm start` prefixes each with its process), formatted where it is
 * written rather than in pino-pretty's stream pipeline: nothing is buffered, so the last lines
 * before a crash are not lost. Colours only when the terminal takes them (pino-pretty's default).
 */
function prettyLines(target: DestinationStream): DestinationStream {
  const format = prettyFactory({
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,req,res,route,responseTime',
  });
  return { write: (line: string) => target.write(format(line)) };
}

/** Pretty lines for a person at a terminal; JSON everywhere else (and always in production). */
export function chooseLogFormat(
  configured: LogFormat | undefined,
  nodeEnv: string,
  stdoutIsTerminal: boolean,
): LogFormat {
  if (nodeEnv === 'production') return 'json';
  return configured ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/** The logger of a server process (`api`, `worker`), as its configuration asks. */
export function createProcessLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'NODE_ENV'>,
  name: string,
): Logger {
  return createLogger({
    level: config.LOG_LEVEL,
    name,
    format: chooseLogFormat(config.LOG_FORMAT, config.NODE_ENV, process.stdout.isTTY === true),
  });
}

/**
 * The Temporal SDK's logger interface over pino, for `Runtime.install({ logger })`: the SDK's own
 * lines, the workflows' `log` and the activities' context logger all come out as our JSON lines.
 */
export function temporalLogger(logger: Logger) {
  const write = (level: string, message: string, meta?: Record<string | symbol, unknown>) => {
    const method = TEMPORAL_LEVELS[level] ?? 'info';
    if (meta) logger[method](meta, message);
    else logger[method](message);
  };
  return {
    log: write,
    trace: (message: string, meta?: Record<string | symbol, unknown>) => write('TRACE', message, meta),
    debug: (message: string, meta?: Record<string | symbol, unknown>) => write('DEBUG', message, meta),
    info: (message: string, meta?: Record<string | symbol, unknown>) => write('INFO', message, meta),
    warn: (message: string, meta?: Record<string | symbol, unknown>) => write('WARN', message, meta),
    error: (message: string, meta?: Record<string | symbol, unknown>) => write('ERROR', message, meta),
  };
}

const TEMPORAL_LEVELS: Record<string, Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
