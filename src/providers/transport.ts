/**
 * What every provider client does the same way around its HTTP call: read its credential, tell a
 * failed request that never left from one that may have been accepted, and honour Retry-After.
 */
import { ProviderError } from './errors';

/** Reads a credential; a failure or an empty value is a configuration error, raised before any request. */
export async function readCredential(
  get: () => string | Promise<string>,
  what: string,
  codePrefix: string,
): Promise<string> {
  let value: string;
  try {
    value = (await get()).trim();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProviderError('config', `${codePrefix}_unavailable`, `Could not read the ${what}: ${reason}`);
  }
  if (value === '') throw new ProviderError('config', `${codePrefix}_missing`, `The ${what} is empty`);
  return value;
}

/** Errors raised before a byte of the request reached the provider: resending cannot duplicate. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** Classifies a fetch that threw: refused before sending is retryable, anything later ambiguous. */
export function classifyTransportError(
  error: unknown,
  provider: string,
  timeoutMs: number,
  redact: (text: string) => string,
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (isTimeout(error)) {
    // The request left; the provider may have accepted it. Only a webhook or the message log can tell.
    return new ProviderError('ambiguous', 'timeout', `${provider} did not answer within ${timeoutMs} ms`);
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const causeCode = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const detail = causeCode ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  if (causeCode && NEVER_CONNECTED.has(causeCode)) {
    return new ProviderError('retryable', 'network', redact(`Could not reach ${provider}: ${detail}`));
  }
  // The connection broke after it was made: the request may have been read and accepted.
  return new ProviderError(
    'ambiguous',
    'connection_lost',
    redact(`Connection to ${provider} failed mid-request: ${detail}`),
  );
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export interface ProviderRequest {
  provider: string;
  method: 'GET' | 'POST';
  url: string;
  authorization: string;
  body?: unknown;
  timeoutMs: number;
  /** Removes the credential from any text that reaches an error message. */
  redact: (text: string) => string;
  fetch?: typeof fetch;
}

/** One JSON call to a provider; a transport failure comes back as a classified ProviderError. */
export async function callProvider(request: ProviderRequest): Promise<{ response: Response; text: string }> {
  try {
    const response = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: {
        Authorization: request.authorization,
        Accept: 'application/json',
        ...(request.body !== undefined && { 'Content-Type': 'application/json' }),
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      // A redirect means a wrong base URL; following it would turn the POST into a GET.
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    return { response, text: await response.text() };
  } catch (error) {
    throw classifyTransportError(error, request.provider, request.timeoutMs, request.redact);
  }
}
