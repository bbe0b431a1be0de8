/**
 * What may reach a log line. Errors carry more than their authors meant: a database error names
 * the parameters of the failed statement (a lead's name, phone and email), a driver quotes the
 * duplicate key it refused, a URL error quotes the path (which can hold a CTA token). Everything
 * logged about an unknown error goes through `describeError`, which keeps what helps an operator
 * (the error's class, its code, the SQL text without its values) and masks what identifies a
 * person or authenticates a request.
 */

/**
 * Runs of 7 or more digits, with the separators people write inside phone numbers; an ISO date or
 * time (the first alternative) is matched only to be left as it is.
 */
const PHONE_LIKE = /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?|(\+?\d[\d\s().-]{5,22}\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;
/** A CTA link token: `<leadId>.<flowId>.<i|n>.<expiry>.<kid>.<mac>`. */
const CTA_TOKEN = /\b\d{1,12}\.\d{1,12}\.[in]\.\d{1,12}\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{16,}/g;
/** `Bearer …`, `App …`, `Basic …` credentials and `key=value` secrets. */
const CREDENTIAL = /\b(Bearer|Basic|App)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const SECRET_PARAM = /\b(token|api[_-]?key|secret|password|signature)=([^\s&;,]+)/gi;
/** The secret path segment of Infobip's per-message notify URL (INFOBIP_NOTIFY_SECRET). */
const NOTIFY_PATH_SECRET = /(\/webhooks\/infobip\/notify\/)[^\s/?#]+/g;

/** Longest message kept: a log line is for reading, not for storing a payload. */
const MAX_MESSAGE_LENGTH = 500;

/** Masks phone numbers (all but the last four digits), e-mail addresses, CTA tokens and credentials. */
export function redactText(text: string): string {
  const bounded = text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
  return bounded
    .replace(CTA_TOKEN, '[cta-token]')
    .replace(CREDENTIAL, (_match, scheme: string) => `${scheme} [redacted]`)
    .replace(SECRET_PARAM, (_match, name: string) => `${name}=[redacted]`)
    .replace(NOTIFY_PATH_SECRET, '$1[redacted]')
    .replace(EMAIL, '[email]')
    .replace(PHONE_LIKE, (match, phone: string | undefined) => (phone ? maskPhone(phone) : match));
}

/**
 * `+919812345678` → `+••••••••5678`: only the last four digits, enough to recognise a number in a
 * list, never to call it. Separators stay where they were. Every phone that leaves the API, a log
 * or a recorded error goes through here.
 */
export function maskPhone(phone: string): string {
  return phone.replace(/\d(?=(?:\D*\d){4})/g, '•');
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  number?: unknown;
  query?: unknown;
  params?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** How deep a chain of causes is followed: drizzle wraps the driver, which may wrap the server's error. */
const MAX_CAUSES = 4;

/**
 * One line about `error` that is safe to log: `Class[code]: message`, then each cause. A query
 * error keeps its SQL text and loses its parameters; every message goes through `redactText`.
 * Stacks are left out: they repeat the message, and ours say little about where data went.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < MAX_CAUSES; depth++) {
    parts.push(describeOne(current));
    if (typeof current !== 'object') break;
    const next = (current as ErrorLike).cause ?? (current as ErrorLike).originalError;
    if (next === current) break;
    current = next;
  }
  return parts.join(' <- ');
}

function describeOne(error: unknown): string {
  if (typeof error !== 'object' || error === null) return redactText(String(error));
  const e = error as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code =
    typeof e.code === 'string' || typeof e.code === 'number'
      ? e.code
      : typeof e.number === 'number'
        ? e.number
        : undefined;
  // A drizzle query error's message is "Failed query: <sql>\nparams: <values>": keep the SQL only.
  const message =
    typeof e.query === 'string' ? `failed query: ${e.query}` : typeof e.message === 'string' ? e.message : '';
  return `${name}${code === undefined ? '' : `[${code}]`}: ${redactText(message)}`;
}

/** The message of any thrown value, redacted, for a log line or a recorded reason. */
export const errorMessage = (error: unknown): string =>
  redactText(error instanceof Error ? error.message : typeof error === 'string' ? error : String(error));
