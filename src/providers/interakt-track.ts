/**
 * Interakt's Track APIs (https://www.interakt.shop/resource-center/track-api-integration-types,
 * Postman collection 14760594/2sA2r7zibM, and Interakt's own track-python SDK): `POST
 * /track/users/` creates or updates a customer and overwrites the traits it is sent; `POST
 * /track/events/` adds an event to the customer's timeline (events never overwrite). Both name the
 * customer by `userId` (our id) and `countryCode` + `phoneNumber` (the national number), with the
 * same Basic key as sends. Neither takes an idempotency key: a user call is naturally idempotent
 * (the same traits again), an event is not, so callers start each event once (a workflow per event).
 */
import parsePhoneNumberFromString from 'libphonenumber-js/max';
import { ProviderError } from './errors';
import {
  classifyInteraktResponse,
  parseInteraktJson,
  readInteraktApiKey,
  type InteraktProviderOptions,
} from './interakt';
import { callProvider } from './transport';

export type TraitValue = string | number | boolean | null;

/** Who a track call is about: our lead id and its number. */
export interface TrackedCustomer {
  userId: string;
  /** E.164, e.g. +919876543210. */
  phone: string;
}

export interface InteraktTrackBody {
  userId: string;
  countryCode: string;
  phoneNumber: string;
  traits: Record<string, TraitValue>;
  event?: string;
}

export interface InteraktTrackClient {
  trackUser(customer: TrackedCustomer, traits: Record<string, TraitValue>): Promise<void>;
  trackEvent(customer: TrackedCustomer, event: string, traits: Record<string, TraitValue>): Promise<void>;
}

/** Interakt names a customer by calling code and national number (no leading 0), as its send API does. */
export function buildInteraktTrackBody(
  customer: TrackedCustomer,
  traits: Record<string, TraitValue>,
  event?: string,
): InteraktTrackBody {
  const parsed = parsePhoneNumberFromString(customer.phone);
  if (!parsed) {
    throw new ProviderError('permanent', 'invalid_phone', 'the lead has no phone number Interakt can name it by');
  }
  return {
    userId: customer.userId,
    countryCode: `+${parsed.countryCallingCode}`,
    phoneNumber: parsed.nationalNumber,
    traits,
    ...(event !== undefined && { event }),
  };
}

export function createInteraktTrackClient(options: InteraktProviderOptions): InteraktTrackClient {
  const base = options.baseUrl.replace(/\/+$/, '');

  async function post(path: string, body: InteraktTrackBody): Promise<void> {
    const apiKey = await readInteraktApiKey(options.getApiKey);
    const redact = (text: string): string => text.split(apiKey).join('[redacted]');
    const { response, text } = await callProvider({
      provider: 'Interakt',
      method: 'POST',
      url: `${base}${path}`,
      authorization: `Basic ${apiKey}`,
      body,
      timeoutMs: options.timeoutMs,
      redact,
      fetch: options.fetch,
    });
    const parsed = parseInteraktJson(text);
    // 202 for a user, 201 for an event; `result: true` either way.
    if (response.ok && parsed?.result === true) return;
    throw classifyInteraktResponse(response, parsed, text, redact);
  }

  return {
    trackUser: (customer, traits) => post('/track/users/', buildInteraktTrackBody(customer, traits)),
    trackEvent: (customer, event, traits) => post('/track/events/', buildInteraktTrackBody(customer, traits, event)),
  };
}
