/**
 * Interakt Public API client (send template). Wire format: providers.md §1.2. Every failure is a
 * `ProviderError` whose kind says what a retry can achieve; the send activity turns that into
 * Temporal retry behaviour.
 */
import { createHmac } from 'node:crypto';
import { ProviderError } from './errors';
import { splitE164 } from './phone';
import { callProvider, parseRetryAfter, readCredential } from './transport';
import type { MessagingProvider, SendAccepted, TemplateSend } from './types';

export const INTERAKT_CALLBACK_DATA_MAX = 512;
export const INTERAKT_SIGNATURE_HEADER = 'Interakt-Signature';

export interface InteraktProviderOptions {
  /** e.g. `https://api.interakt.ai/v1/public`, or the emulator's `<url>/v1/public`. */
  baseUrl: string;
  /** Read per send, so a rotated key is picked up without a restart. */
  getApiKey: () => Promise<string> | string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** The body of `POST /message/` for a template, exactly as Interakt documents it. */
export interface InteraktTemplateSendBody {
  countryCode: string;
  phoneNumber: string;
  callbackData?: string;
  type: 'Template';
  template: {
    name: string;
    languageCode: string;
    headerValues?: string[];
    fileName?: string;
    bodyValues?: string[];
    buttonValues?: Record<string, string[]>;
  };
}

export interface InteraktApiResponse {
  result?: boolean;
  message?: string;
  id?: string;
}

export type InteraktWebhookType =
  'message_api_sent' | 'message_api_delivered' | 'message_api_read' | 'message_api_failed';

/** The parts of an Interakt status webhook Dripline reads (providers.md §1.6). */
export interface InteraktStatusWebhook {
  version: string;
  timestamp: string;
  type: InteraktWebhookType | (string & {});
  data: {
    customer: {
      id: string;
      /** Country code + number, digits only, e.g. `919876543210`. */
      channel_phone_number: string;
      phone_number?: string;
      country_code?: string;
      traits: Record<string, unknown>;
    };
    message: {
      id: string;
      message_status: 'Sent' | 'Delivered' | 'Read' | 'Failed' | (string & {});
      received_at_utc: string | null;
      delivered_at_utc: string | null;
      seen_at_utc: string | null;
      channel_failure_reason?: string | null;
      channel_error_code?: string | null;
      meta_data?: { source_data?: { callback_data?: string | null } & Record<string, unknown> } & Record<
        string,
        unknown
      >;
    } & Record<string, unknown>;
  };
}

export function buildInteraktSendBody(message: TemplateSend): InteraktTemplateSendBody {
  let phone;
  try {
    phone = splitE164(message.to);
  } catch {
    throw new ProviderError(
      'permanent',
      'invalid_recipient',
      `Recipient is not an E.164 phone number: "${message.to}"`,
    );
  }
  if (message.callbackData !== undefined && message.callbackData.length > INTERAKT_CALLBACK_DATA_MAX) {
    // Truncating would break the correlation the webhooks rely on, so refuse instead.
    throw new ProviderError(
      'permanent',
      'invalid_request',
      `callbackData is ${message.callbackData.length} characters; Interakt accepts at most ${INTERAKT_CALLBACK_DATA_MAX}`,
    );
  }

  const template: InteraktTemplateSendBody['template'] = {
    name: message.templateName,
    languageCode: message.languageCode,
  };
  if (message.headerValues?.length) template.headerValues = message.headerValues;
  if (message.fileName) template.fileName = message.fileName;
  if (message.bodyValues?.length) template.bodyValues = message.bodyValues;
  if (message.buttonValues && Object.keys(message.buttonValues).length > 0)
    template.buttonValues = message.buttonValues;

  // Interakt refuses fullPhoneNumber together with countryCode + phoneNumber, so only the split form is sent.
  const body: InteraktTemplateSendBody = {
    countryCode: phone.countryCode,
    phoneNumber: phone.nationalNumber,
    type: 'Template',
    template,
  };
  if (message.callbackData) body.callbackData = message.callbackData;
  return body;
}

export function createInteraktProvider(options: InteraktProviderOptions): MessagingProvider {
  const sendUrl = `${options.baseUrl.replace(/\/+$/, '')}/message/`;

  async function sendTemplate(message: TemplateSend): Promise<SendAccepted> {
    const body = buildInteraktSendBody(message);
    const apiKey = await readInteraktApiKey(options.getApiKey);
    const redact = (text: string): string => text.split(apiKey).join('[redacted]');

    const { response, text } = await callProvider({
      provider: 'Interakt',
      method: 'POST',
      url: sendUrl,
      // The dashboard key is already the credential; encoding it again gives "Invalid token provided".
      authorization: `Basic ${apiKey}`,
      body,
      timeoutMs: options.timeoutMs,
      redact,
      fetch: options.fetch,
    });

    const parsed = parseInteraktJson(text);
    if (response.ok && parsed?.result === true && typeof parsed.id === 'string' && parsed.id !== '') {
      return { provider: 'interakt', providerMessageId: parsed.id };
    }
    throw classifyResponse(response, parsed, text, redact);
  }

  return { name: 'interakt', sendTemplate };
}

function classifyResponse(
  response: Response,
  parsed: InteraktApiResponse | undefined,
  text: string,
  redact: (text: string) => string,
): ProviderError {
  const status = response.status;
  const providerMessage = redact(
    typeof parsed?.message === 'string' ? parsed.message : text.replace(/\s+/g, ' ').trim().slice(0, 300),
  );
  const details = { httpStatus: status };

  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return new ProviderError(
      'retryable',
      'rate_limited',
      `Interakt rate limit hit (HTTP 429)${providerMessage ? `: ${providerMessage}` : ''}`,
      retryAfterMs === undefined ? details : { ...details, retryAfterMs },
    );
  }
  if (status === 401 || status === 403 || /invalid token/i.test(providerMessage)) {
    return new ProviderError(
      'config',
      status === 403 ? 'forbidden' : 'unauthorized',
      `Interakt refused the API key (HTTP ${status})${providerMessage ? `: ${providerMessage}` : ''}`,
      details,
    );
  }
  if (status >= 500 || status === 408) {
    return new ProviderError('retryable', `http_${status}`, `Interakt server error (HTTP ${status})`, details);
  }
  if (status >= 300 && status < 400) {
    return new ProviderError(
      'config',
      'unexpected_redirect',
      `Interakt answered with a redirect (HTTP ${status}); check INTERAKT_BASE_URL`,
      details,
    );
  }
  // A 2xx that explicitly says result:false was refused, not lost.
  if (status >= 400 || parsed?.result === false) {
    return new ProviderError(
      'permanent',
      rejectionCode(providerMessage),
      `Interakt rejected the message (HTTP ${status}): ${providerMessage || 'no reason given'}`,
      details,
    );
  }
  return new ProviderError(
    'ambiguous',
    'unexpected_response',
    `Interakt answered HTTP ${status} without a message id: ${providerMessage || 'empty body'}`,
    details,
  );
}

/** Shared with the template-list client (interakt-templates.ts), so both classify failures alike. */
export { classifyResponse as classifyInteraktResponse };

/** The Interakt key, as given by its getter; empty or unreadable is a configuration error. */
export function readInteraktApiKey(getApiKey: InteraktProviderOptions['getApiKey']): Promise<string> {
  return readCredential(getApiKey, 'Interakt API key', 'api_key');
}

function rejectionCode(reason: string): string {
  if (/template/i.test(reason)) return 'invalid_template';
  if (/phone|number|whatsapp user|customer is not available|customer not available|recipient/i.test(reason)) {
    return 'invalid_recipient';
  }
  return 'rejected';
}

export function parseInteraktJson(text: string): InteraktApiResponse | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as InteraktApiResponse) : undefined;
  } catch {
    return undefined;
  }
}

/** `sha256=<hex HMAC-SHA256(raw body, secret)>`, the value of the `Interakt-Signature` header. */
export function signInteraktWebhook(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
