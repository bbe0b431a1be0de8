/**
 * Meta WhatsApp Cloud API client (send template). Wire format: providers.md §3.1; error codes:
 * §3.5. Every failure is a `ProviderError` whose kind says what a retry can achieve; the send
 * activity turns that into Temporal retry behaviour, exactly as for Interakt.
 */
import { ProviderError } from './errors';
import { callProvider, parseRetryAfter, readCredential } from './transport';
import { e164Digits } from './phone';
import {
  buttonParameterKind,
  type HeaderFormat,
  type MessagingProvider,
  type SendAccepted,
  type TemplateSend,
} from './types';
import type { ProviderName } from '../shared';

export const META_GRAPH_BASE_URL = 'https://graph.facebook.com';

export const META_PROVIDER_NAME: ProviderName = 'meta';

/** Meta's pair rate limit is one message per 6 s to the same user (§3.4); its advice is 4^X s. */
export const META_PAIR_RATE_RETRY_MS = 6_000;
/**
 * 131049: Meta held the message back for ecosystem reasons (the user's marketing limit); a retry
 * within hours is pointless. The send activity replaces it with the account's setting
 * (`marketingLimitRetryMinutes`, 6 h by default); other callers keep it.
 */
export const META_ECOSYSTEM_RETRY_MS = 6 * 60 * 60 * 1000;

export interface MetaProviderOptions {
  /** Default `https://graph.facebook.com`; the emulator's URL in development and tests. */
  graphBaseUrl?: string;
  /** Graph API version, e.g. `v21.0`. */
  apiVersion: string;
  /** The business phone number's id (not the number itself): the default sender. */
  phoneNumberId: string;
  /** The WABA's other phone number ids a send may name as its `sender`. */
  extraPhoneNumberIds?: string[];
  /** Read per send, so a rotated (System User) token is picked up without a restart. */
  getAccessToken: () => Promise<string> | string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface MetaTextParameter {
  type: 'text';
  text: string;
}

export type MetaMediaParameter =
  | { type: 'image'; image: { link: string } }
  | { type: 'video'; video: { link: string } }
  | { type: 'document'; document: { link: string; filename?: string } };

export type MetaTemplateComponent =
  | { type: 'header'; parameters: Array<MetaTextParameter | MetaMediaParameter> }
  | { type: 'body'; parameters: MetaTextParameter[] }
  | { type: 'button'; sub_type: 'url'; index: string; parameters: MetaTextParameter[] }
  | { type: 'button'; sub_type: 'quick_reply'; index: string; parameters: Array<{ type: 'payload'; payload: string }> }
  | {
      type: 'button';
      sub_type: 'copy_code';
      index: string;
      parameters: Array<{ type: 'coupon_code'; coupon_code: string }>;
    };

/** The body of `POST /<version>/<phone-number-id>/messages` for a template (§3.1). */
export interface MetaTemplateSendBody {
  messaging_product: 'whatsapp';
  recipient_type: 'individual';
  /** Country code and number, digits only. */
  to: string;
  type: 'template';
  template: {
    name: string;
    language: { code: string };
    components?: MetaTemplateComponent[];
  };
  biz_opaque_callback_data?: string;
}

export interface MetaSendResponse {
  messaging_product?: string;
  contacts?: Array<{ input?: string; wa_id?: string }>;
  messages?: Array<{ id?: string; message_status?: string }>;
}

/** Graph API error envelope (§3.5). Meta says to key logic on `code` and `details`, not titles. */
export interface MetaGraphError {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { messaging_product?: string; details?: string };
  fbtrace_id?: string;
}

export function buildMetaSendBody(message: TemplateSend): MetaTemplateSendBody {
  if (!/^\+\d{6,15}$/.test(message.to)) {
    throw new ProviderError(
      'permanent',
      'invalid_recipient',
      `Recipient is not an E.164 phone number: "${message.to}"`,
    );
  }

  const components: MetaTemplateComponent[] = [];
  const header = headerComponent(message);
  if (header) components.push(header);
  if (message.bodyValues?.length) components.push({ type: 'body', parameters: message.bodyValues.map(textParameter) });
  components.push(...buttonComponents(message));

  const body: MetaTemplateSendBody = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: e164Digits(message.to),
    type: 'template',
    template: { name: message.templateName, language: { code: message.languageCode } },
  };
  // A template without variables is sent without components; Meta renders it as approved.
  if (components.length > 0) body.template.components = components;
  // UNCONFIRMED (§3.1, §7): Meta is said to echo `biz_opaque_callback_data` in status webhooks.
  // Sending it is harmless either way; the webhook still matches the row by wamid when it is absent.
  if (message.callbackData) body.biz_opaque_callback_data = message.callbackData;
  return body;
}

const textParameter = (text: string): MetaTextParameter => ({ type: 'text', text });

function headerComponent(message: TemplateSend): MetaTemplateComponent | undefined {
  const values = message.headerValues ?? [];
  if (values.length === 0) return undefined;
  const format = message.headerFormat ?? inferHeaderFormat(values[0]!, message.fileName);
  if (format === 'text') return { type: 'header', parameters: values.map(textParameter) };
  if (values.length > 1) {
    throw new ProviderError(
      'permanent',
      'invalid_request',
      `A ${format} header takes one media URL, received ${values.length} header values`,
    );
  }
  const link = values[0]!;
  const parameter: MetaMediaParameter =
    format === 'image'
      ? { type: 'image', image: { link } }
      : format === 'video'
        ? { type: 'video', video: { link } }
        : { type: 'document', document: message.fileName ? { link, filename: message.fileName } : { link } };
  return { type: 'header', parameters: [parameter] };
}

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'webp']);
const VIDEO_EXTENSIONS = new Set(['mp4', '3gp', '3gpp']);

/**
 * Used only when the caller does not know the template's header kind: a file name means a
 * document; otherwise a URL is media labelled by its extension, and anything else is text.
 */
function inferHeaderFormat(value: string, fileName: string | undefined): HeaderFormat {
  if (fileName) return 'document';
  if (!/^https?:\/\//i.test(value)) return 'text';
  let extension: string;
  try {
    extension = /\.([a-z0-9]+)$/i.exec(new URL(value).pathname)?.[1]?.toLowerCase() ?? '';
  } catch {
    return 'text';
  }
  if (IMAGE_EXTENSIONS.has(extension)) return 'image';
  if (VIDEO_EXTENSIONS.has(extension)) return 'video';
  return 'document';
}

/**
 * One component per button given a value; `index` is the button's position in the template. The
 * template's buttons say each one's kind: a quick reply's value is its payload, a copy-code
 * button's its code (§3.1); without them every value is a URL suffix.
 */
function buttonComponents(message: Pick<TemplateSend, 'buttonValues' | 'templateButtons'>): MetaTemplateComponent[] {
  const entries = Object.entries(message.buttonValues ?? {}).filter(([, values]) => values.length > 0);
  for (const [index] of entries) {
    if (!/^\d+$/.test(index)) {
      throw new ProviderError('permanent', 'invalid_request', `Button index must be a 0-based number, got "${index}"`);
    }
  }
  return entries
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([key, values]): MetaTemplateComponent => {
      const index = String(Number(key));
      const button = message.templateButtons?.[Number(key)];
      const kind = button ? buttonParameterKind(button) : 'dynamic_url';
      if (kind === 'quick_reply')
        return {
          type: 'button',
          sub_type: 'quick_reply',
          index,
          parameters: [{ type: 'payload', payload: values[0]! }],
        };
      if (kind === 'copy_code') {
        return {
          type: 'button',
          sub_type: 'copy_code',
          index,
          parameters: [{ type: 'coupon_code', coupon_code: values[0]! }],
        };
      }
      return { type: 'button', sub_type: 'url', index, parameters: values.map(textParameter) };
    });
}

export function createMetaProvider(options: MetaProviderOptions): MessagingProvider {
  const base = (options.graphBaseUrl ?? META_GRAPH_BASE_URL).replace(/\/+$/, '');
  const version = options.apiVersion.replace(/^\/+|\/+$/g, '');
  const senders = new Set([options.phoneNumberId, ...(options.extraPhoneNumberIds ?? [])]);

  async function sendTemplate(message: TemplateSend): Promise<SendAccepted> {
    const sender = message.sender ?? options.phoneNumberId;
    if (!senders.has(sender)) {
      // A sender this deployment was not given: sending from another number would be a surprise.
      throw new ProviderError(
        'config',
        'unknown_sender',
        `Phone number id ${sender} is not one of this deployment's senders`,
      );
    }
    const sendUrl = `${base}/${version}/${encodeURIComponent(sender)}/messages`;
    const body = buildMetaSendBody(message);
    const token = await readCredential(options.getAccessToken, 'Meta access token', 'access_token');
    const redact = (text: string): string => text.split(token).join('[redacted]');

    const { response, text } = await callProvider({
      provider: 'Meta',
      method: 'POST',
      url: sendUrl,
      authorization: `Bearer ${token}`,
      body,
      timeoutMs: options.timeoutMs,
      redact,
      fetch: options.fetch,
    });

    const parsed = parseJson(text);
    const wamid = parsed?.messages?.[0]?.id;
    if (response.ok && !parsed?.error && typeof wamid === 'string' && wamid !== '') {
      return { provider: META_PROVIDER_NAME, providerMessageId: wamid, sender };
    }
    throw classifyResponse(response, parsed, text, redact);
  }

  return { name: META_PROVIDER_NAME, defaultSender: options.phoneNumberId, sendTemplate };
}

/** Throughput, app and WABA rate limits and Meta-side hiccups: the same request may pass later. */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131000]);
/** Requests that will never pass as they are: fix the template, the values or the recipient. */
const PERMANENT_CODES = new Set([100, 131008, 131026, 131047, 131048, 131050, 130472, 132000, 132001, 132015, 132016]);
/** Token, permission, account or payment problems: only an admin can fix them. */
const CONFIG_CODES = new Set([0, 3, 10, 190, 368, 131031, 131042]);
const PAIR_RATE_LIMIT = 131056;
const ECOSYSTEM_LIMIT = 131049;

type CodeClass =
  | { kind: 'retryable'; defaultRetryAfterMs?: number; marketingLimit?: boolean }
  | { kind: 'permanent' }
  | { kind: 'config' };

/** §3.5. Unknown codes return undefined and fall back to the HTTP status. */
function classifyCode(code: number): CodeClass | undefined {
  if (RETRYABLE_CODES.has(code)) return { kind: 'retryable' };
  // Retrying the activity retries this recipient alone, which is exactly what both limits ask for.
  if (code === PAIR_RATE_LIMIT) return { kind: 'retryable', defaultRetryAfterMs: META_PAIR_RATE_RETRY_MS };
  if (code === ECOSYSTEM_LIMIT)
    return { kind: 'retryable', defaultRetryAfterMs: META_ECOSYSTEM_RETRY_MS, marketingLimit: true };
  if (PERMANENT_CODES.has(code)) return { kind: 'permanent' };
  if (CONFIG_CODES.has(code) || (code >= 200 && code <= 299)) return { kind: 'config' };
  return undefined;
}

function classifyResponse(
  response: Response,
  parsed: (MetaSendResponse & { error?: MetaGraphError }) | undefined,
  text: string,
  redact: (text: string) => string,
): ProviderError {
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const graphError = parsed?.error;
  const code = typeof graphError?.code === 'number' ? graphError.code : undefined;

  if (graphError && code !== undefined) {
    const description = redact(describeGraphError(code, status, graphError));
    const known = classifyCode(code);
    if (known?.kind === 'retryable') {
      const delay = retryAfterMs ?? known.defaultRetryAfterMs;
      return new ProviderError('retryable', `meta_${code}`, description, {
        httpStatus: status,
        ...(delay === undefined ? {} : { retryAfterMs: delay }),
        ...(known.marketingLimit && { marketingLimit: true }),
      });
    }
    if (known) return new ProviderError(known.kind, `meta_${code}`, description, { httpStatus: status });
    // A code we have not classified: the HTTP status is all we have to go on.
    const kind =
      status === 429 || status >= 500 ? 'retryable' : status === 401 || status === 403 ? 'config' : 'permanent';
    return new ProviderError(kind, `meta_${code}`, description, {
      httpStatus: status,
      ...(kind === 'retryable' && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  const snippet = redact(text.replace(/\s+/g, ' ').trim().slice(0, 300));
  const details = { httpStatus: status };
  if (status === 429) {
    return new ProviderError(
      'retryable',
      'rate_limited',
      `Meta rate limit hit (HTTP 429)${snippet ? `: ${snippet}` : ''}`,
      retryAfterMs === undefined ? details : { ...details, retryAfterMs },
    );
  }
  if (status === 401 || status === 403) {
    return new ProviderError(
      'config',
      status === 403 ? 'forbidden' : 'unauthorized',
      `Meta refused the access token (HTTP ${status})${snippet ? `: ${snippet}` : ''}`,
      details,
    );
  }
  if (status >= 500 || status === 408) {
    return new ProviderError('retryable', `http_${status}`, `Meta server error (HTTP ${status})`, details);
  }
  if (status >= 300 && status < 400) {
    return new ProviderError(
      'config',
      'unexpected_redirect',
      `Meta answered with a redirect (HTTP ${status}); check the Graph base URL and API version`,
      details,
    );
  }
  if (status >= 400) {
    return new ProviderError(
      'permanent',
      'rejected',
      `Meta rejected the message (HTTP ${status}): ${snippet || 'no reason given'}`,
      details,
    );
  }
  return new ProviderError(
    'ambiguous',
    'unexpected_response',
    `Meta answered HTTP ${status} without a message id: ${snippet || 'empty body'}`,
    details,
  );
}

/** Code, message, details and fbtrace_id: what Meta support and our logs need (§6.8). */
function describeGraphError(code: number, status: number, error: MetaGraphError): string {
  const message = typeof error.message === 'string' && error.message !== '' ? error.message : 'no message';
  const parts = [`Meta error ${code} (HTTP ${status}): ${message}`];
  const details = error.error_data?.details;
  if (typeof details === 'string' && details !== '') parts.push(`details: ${details}`);
  if (typeof error.fbtrace_id === 'string' && error.fbtrace_id !== '') parts.push(`fbtrace_id: ${error.fbtrace_id}`);
  return parts.join('; ');
}

function parseJson(text: string): (MetaSendResponse & { error?: MetaGraphError }) | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object') return undefined;
    const record = value as MetaSendResponse & { error?: unknown };
    const error =
      record.error !== null && typeof record.error === 'object' ? (record.error as MetaGraphError) : undefined;
    return { ...record, error };
  } catch {
    return undefined;
  }
}

/** Shared with the template client (meta-templates.ts), so both classify Graph failures alike. */
export { classifyResponse as classifyMetaResponse, parseJson as parseMetaJson };
