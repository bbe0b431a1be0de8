import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Interakt signs each webhook with `Interakt-Signature: sha256=<hex>`, an HMAC-SHA256 of the raw
 * body keyed with the webhook secret (reference/providers.md §1.6). Verify the bytes as received:
 * re-serialised JSON would not match.
 */
export function verifyInteraktSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const presented = header.trim().replace(/^sha256=/i, '');
  if (!/^[0-9a-f]{64}$/i.test(presented)) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface InteraktStatusEvent {
  kind: 'status';
  /** e.g. `message_api_delivered`; with the message id, what identifies the event. */
  type: string;
  providerMessageId: string;
  callbackData: string | null;
  status: DeliveryStatus;
  at: Date;
  errorCode: string | null;
  errorMessage: string | null;
}

/** `message_received`: a customer wrote to us. */
export interface InteraktInboundEvent {
  kind: 'inbound';
  type: 'message_received';
  providerMessageId: string;
  /** `+` and the digits of `data.customer.channel_phone_number` (country code included), not yet normalised. */
  fromPhone: string | null;
  /** The text of a text message, or the caption / description the provider gives for other kinds. */
  text: string | null;
  /** Interakt's `message_content_type`, e.g. `Text`, `Image`. */
  contentType: string | null;
  mediaUrl: string | null;
  at: Date;
}

export interface InteraktOtherEvent {
  kind: 'other';
  type: string;
}

const STATUS_BY_SUFFIX: Record<string, DeliveryStatus> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

/** Where Interakt writes when a status happened; there is no `failed_at_utc`. */
const TIMESTAMP_FIELD: Record<DeliveryStatus, string | null> = {
  sent: 'received_at_utc',
  delivered: 'delivered_at_utc',
  read: 'seen_at_utc',
  failed: null,
};

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Interakt timestamps are ISO without a zone and mean UTC. */
function utc(value: unknown): Date | null {
  const text = str(value);
  if (!text) return null;
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export type InteraktWebhookEvent = InteraktStatusEvent | InteraktInboundEvent | InteraktOtherEvent;

/** Reads the parts of an Interakt webhook we act on; anything unrecognised is `other`. */
export function parseInteraktWebhook(payload: unknown, receivedAt: Date): InteraktWebhookEvent {
  const body = obj(payload);
  const type = str(body.type) ?? 'unknown';
  const match = /^message_(?:api|campaign)_(sent|delivered|read|failed)$/.exec(type);
  const data = obj(body.data);
  const message = obj(data.message);
  const providerMessageId = str(message.id);
  if (type === 'message_received' && providerMessageId) {
    const digits = (str(obj(data.customer).channel_phone_number) ?? '').replace(/\D/g, '');
    return {
      kind: 'inbound',
      type,
      providerMessageId,
      fromPhone: digits ? `+${digits}` : null,
      text: str(message.message),
      contentType: str(message.message_content_type),
      mediaUrl: str(message.media_url),
      at: utc(message.received_at_utc) ?? utc(body.timestamp) ?? receivedAt,
    };
  }
  if (!match || !providerMessageId) return { kind: 'other', type };

  const status = STATUS_BY_SUFFIX[match[1]!]!;
  // Each status but `failed` has its own column on the message (§1.6); Interakt writes no failure
  // time, so a failure happened when the webhook says it was raised.
  const timestampField = TIMESTAMP_FIELD[status];
  return {
    kind: 'status',
    type,
    providerMessageId,
    callbackData: str(obj(obj(message.meta_data).source_data).callback_data),
    status,
    at: (timestampField ? utc(message[timestampField]) : null) ?? utc(body.timestamp) ?? receivedAt,
    errorCode:
      str(message.channel_error_code) ??
      (typeof message.channel_error_code === 'number' ? String(message.channel_error_code) : null),
    errorMessage: str(message.channel_failure_reason),
  };
}
