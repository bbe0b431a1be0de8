/**
 * Meta Cloud API webhooks (providers.md §3.3): the verify-token handshake, the
 * `X-Hub-Signature-256` check, and a reader that turns one (possibly batched) notification into
 * the status and inbound events Dripline acts on.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DeliveryStatus } from './interakt-webhook';

export const META_SIGNATURE_HEADER = 'X-Hub-Signature-256';

/** `sha256=<hex HMAC-SHA256(raw body, app secret)>`, the value of `X-Hub-Signature-256`. */
export function signMetaWebhook(rawBody: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

/**
 * Meta signs the raw body with the App Secret. Verify the bytes as received, before any JSON
 * parsing: re-serialised JSON would not match. An empty secret verifies nothing.
 */
export function verifyMetaSignature(rawBody: Buffer | string, header: string | undefined, appSecret: string): boolean {
  if (!header || appSecret === '') return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

/**
 * Meta's subscription check: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
 * Returns the challenge to echo when the token is ours, otherwise null (answer 403).
 */
export function answerVerifyChallenge(query: Record<string, unknown>, verifyToken: string): string | null {
  const mode = query['hub.mode'];
  const token = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (mode !== 'subscribe' || typeof token !== 'string' || typeof challenge !== 'string' || challenge === '')
    return null;
  if (verifyToken === '' || !constantTimeEqual(token, verifyToken)) return null;
  return challenge;
}

function constantTimeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about either string.
  const digest = (value: string): Buffer => createHmac('sha256', 'verify-token').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export interface MetaStatusEvent {
  kind: 'status';
  /** The wamid returned at send. */
  providerMessageId: string;
  /** `biz_opaque_callback_data` echoed back, if Meta does (UNCONFIRMED, §3.1). */
  callbackData: string | null;
  status: DeliveryStatus;
  at: Date;
  /** Meta's error code as text, e.g. `131026`, for `failed`. */
  errorCode: string | null;
  errorMessage: string | null;
  /** The user's WhatsApp id (digits). */
  recipient: string | null;
  /** Which of our business numbers the event belongs to. */
  phoneNumberId: string | null;
  /** This status object as JSON, for the webhook ledger (a batch's other events are not repeated). */
  raw: string;
}

export interface MetaInboundEvent {
  kind: 'inbound';
  providerMessageId: string;
  /** The sender's WhatsApp id: country code and number, digits only. */
  from: string;
  /** Meta's message type: `text`, `button`, `interactive`, `image`, … */
  type: string;
  /** Text body, tapped button text, interactive reply title, or a media caption; null otherwise. */
  text: string | null;
  /** The wamid of our message this replies to (template button taps carry it). */
  contextMessageId: string | null;
  profileName: string | null;
  at: Date;
  phoneNumberId: string | null;
  /** This message object as JSON, for the webhook ledger. */
  raw: string;
}

/**
 * An error Meta reports for the business number rather than for one message (`value.errors`,
 * §3.3/§3.5), e.g. a webhook it could not build. Nothing in the message log refers to it, so it is
 * recorded on its own.
 */
export interface MetaErrorEvent {
  kind: 'error';
  /** Meta's error code as text, e.g. `131000`. */
  code: string | null;
  /** Title and details, as the status errors are described. */
  message: string | null;
  /** When Meta raised it: the entry's `time`, else when the POST arrived. */
  at: Date;
  phoneNumberId: string | null;
  /** The error object, with the entry it came in and the entry's time, as JSON: its dedupe key is derived from it. */
  raw: string;
}

/**
 * A template's status or quality changed (`message_template_status_update`,
 * `message_template_quality_update`; WhatsApp Business Account webhooks, §3.2).
 */
export interface MetaTemplateEvent {
  kind: 'template';
  templateId: string | null;
  name: string | null;
  /** As Meta wrote it (its documented examples write `en-US` where lists write `en_US`). */
  language: string | null;
  /** The status event (APPROVED, REJECTED, PAUSED, DISABLED, …); null for a quality change. */
  event: string | null;
  /** Why it was rejected (or `NONE`), with Meta's explanation when it gives one. */
  reason: string | null;
  /** The new quality rating (GREEN, YELLOW, RED, UNKNOWN); null for a status change. */
  qualityScore: string | null;
  /** The entry's `time`, else when the POST arrived. */
  at: Date;
  /** The change's value with the entry's id and time, as JSON: its dedupe key is derived from it. */
  raw: string;
}

export type MetaWebhookEvent = MetaStatusEvent | MetaInboundEvent | MetaErrorEvent | MetaTemplateEvent;

const TEMPLATE_FIELDS: ReadonlySet<string> = new Set([
  'message_template_status_update',
  'message_template_quality_update',
]);

function readTemplateChange(
  value: Json,
  entry: { id: string | null; time: unknown },
  at: Date,
): MetaTemplateEvent | null {
  const templateId = codeText(value.message_template_id);
  const name = str(value.message_template_name);
  if (!templateId && !name) return null;
  const qualityScore = str(value.new_quality_score);
  const event = qualityScore ? null : str(value.event);
  if (!qualityScore && !event) return null;
  const info = obj(value.rejection_info);
  const reasonCode = str(value.reason);
  const explanation = str(info.reason);
  return {
    kind: 'template',
    templateId,
    name,
    language: str(value.message_template_language),
    event,
    reason: reasonCode && explanation ? `${reasonCode}: ${explanation}` : (reasonCode ?? explanation),
    qualityScore,
    at,
    raw: JSON.stringify({ entry: entry.id, time: entry.time ?? null, value }),
  };
}

const STATUSES: ReadonlySet<string> = new Set<DeliveryStatus>(['sent', 'delivered', 'read', 'failed']);

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const codeText = (value: unknown): string | null =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : str(value);

/** Meta timestamps are unix seconds, as a string. */
function unixSeconds(value: unknown): Date | null {
  const text = typeof value === 'number' ? String(value) : str(value);
  if (!text || !/^\d{1,12}$/.test(text)) return null;
  return new Date(Number(text) * 1000);
}

/**
 * Every error, status and inbound message in one notification, in payload order (entries, then
 * changes, then errors, statuses and messages). Meta batches, so one POST may carry many events. Anything
 * unrecognised (other fields, unknown statuses, system messages, malformed parts) is skipped;
 * this never throws.
 */
export function parseMetaWebhook(payload: unknown, receivedAt: Date = new Date()): MetaWebhookEvent[] {
  const body = obj(payload);
  if (body.object !== undefined && body.object !== 'whatsapp_business_account') return [];
  const events: MetaWebhookEvent[] = [];
  for (const entry of list(body.entry)) {
    const entryId = str(obj(entry).id);
    const entryTime = unixSeconds(obj(entry).time);
    for (const change of list(obj(entry).changes)) {
      const { field, value } = obj(change);
      if (typeof field === 'string' && TEMPLATE_FIELDS.has(field)) {
        const event = readTemplateChange(obj(value), { id: entryId, time: obj(entry).time }, entryTime ?? receivedAt);
        if (event) events.push(event);
        continue;
      }
      if (field !== undefined && field !== 'messages') continue;
      const content = obj(value);
      const phoneNumberId = str(obj(content.metadata).phone_number_id);
      for (const error of list(content.errors)) {
        const fields = obj(error);
        events.push({
          kind: 'error',
          code: codeText(fields.code),
          message: describeError(fields),
          at: entryTime ?? receivedAt,
          phoneNumberId,
          raw: JSON.stringify({ entry: entryId, time: obj(entry).time ?? null, phoneNumberId, error }),
        });
      }
      for (const status of list(content.statuses)) {
        const event = readStatus(obj(status), phoneNumberId, receivedAt);
        if (event) events.push(event);
      }
      const profiles = new Map<string, string>();
      for (const contact of list(content.contacts)) {
        const waId = str(obj(contact).wa_id);
        const name = str(obj(obj(contact).profile).name);
        if (waId && name) profiles.set(waId, name);
      }
      for (const message of list(content.messages)) {
        const event = readInbound(obj(message), phoneNumberId, profiles, receivedAt);
        if (event) events.push(event);
      }
    }
  }
  return events;
}

function readStatus(status: Json, phoneNumberId: string | null, receivedAt: Date): MetaStatusEvent | null {
  const providerMessageId = str(status.id);
  const value = str(status.status);
  if (!providerMessageId || !value || !STATUSES.has(value)) return null;
  const error = obj(list(status.errors)[0]);
  const errorMessage = describeError(error);
  return {
    kind: 'status',
    providerMessageId,
    callbackData: str(status.biz_opaque_callback_data),
    status: value as DeliveryStatus,
    at: unixSeconds(status.timestamp) ?? receivedAt,
    errorCode: codeText(error.code),
    errorMessage,
    recipient: str(status.recipient_id),
    phoneNumberId,
    raw: JSON.stringify(status),
  };
}

/** `title: details` of a Graph error object (Meta keys logic on code and details, §3.5). */
function describeError(error: Json): string | null {
  const title = str(error.title) ?? str(error.message);
  const details = str(obj(error.error_data).details);
  return title && details && details !== title ? `${title}: ${details}` : (title ?? details);
}

function readInbound(
  message: Json,
  phoneNumberId: string | null,
  profiles: Map<string, string>,
  receivedAt: Date,
): MetaInboundEvent | null {
  const providerMessageId = str(message.id);
  const from = str(message.from)?.replace(/\D/g, '') ?? '';
  const type = str(message.type) ?? 'unknown';
  // `system` notices (the user changed number) are not something the lead wrote.
  if (!providerMessageId || from === '' || type === 'system') return null;
  return {
    kind: 'inbound',
    providerMessageId,
    from,
    type,
    text: inboundText(message, type),
    contextMessageId: str(obj(message.context).id),
    profileName: profiles.get(from) ?? null,
    at: unixSeconds(message.timestamp) ?? receivedAt,
    phoneNumberId,
    raw: JSON.stringify(message),
  };
}

function inboundText(message: Json, type: string): string | null {
  switch (type) {
    case 'text':
      return str(obj(message.text).body);
    case 'button':
      return str(obj(message.button).text) ?? str(obj(message.button).payload);
    case 'interactive': {
      const interactive = obj(message.interactive);
      return str(obj(interactive.button_reply).title) ?? str(obj(interactive.list_reply).title);
    }
    default:
      return str(obj(message[type]).caption);
  }
}
