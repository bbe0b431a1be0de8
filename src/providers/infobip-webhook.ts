/**
 * Infobip WhatsApp webhooks (providers.md §2.3): delivery reports, seen reports and inbound
 * messages, each a `{"results": [...]}` batch, read into the status and inbound events Dripline
 * acts on; and the BASIC credentials check of a webhook subscription.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseInfobipTimestamp } from './infobip';
import type { DeliveryStatus } from './interakt-webhook';

/**
 * Infobip subscriptions authenticate with BASIC credentials (their HMAC header and signed string
 * are UNCONFIRMED, §2.3). Compared through HMAC digests, so equal lengths are compared in constant
 * time and the time taken says nothing about either value. Empty configured credentials verify
 * nothing.
 */
export function verifyInfobipBasicAuth(header: string | undefined, username: string, password: string): boolean {
  if (!header || username === '' || password === '') return false;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!match) return false;
  const presented = Buffer.from(match[1]!, 'base64').toString('utf8');
  const expected = `${username}:${password}`;
  const digest = (value: string): Buffer => createHmac('sha256', 'infobip-basic-auth').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** `Basic base64(username:password)`, as a subscription's BASIC security profile sends it. */
export const infobipBasicAuthHeader = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

export interface InfobipStatusEvent {
  kind: 'status';
  /** What the event is (`delivered_to_handset`, `undeliverable_not_delivered`, `seen`, …): with the message id, its dedupe key. */
  eventType: string;
  /** Our `messageId` as set at send (src/providers/infobip.ts infobipMessageId). */
  providerMessageId: string;
  /** Present only if Infobip includes it in WhatsApp reports (UNCONFIRMED, §2.3). */
  callbackData: string | null;
  status: DeliveryStatus;
  at: Date;
  /** Infobip's error id as text, for failures. */
  errorCode: string | null;
  errorMessage: string | null;
  /** The user's number, digits (absent for some username-only users, §2.3). */
  recipient: string | null;
  /**
   * The user's business-scoped user id when WhatsApp gave one instead of, or beside, a number
   * (`to` or `contact.userId`): kept as the id it is, never read as a phone number.
   */
  recipientUserId: string | null;
  /** This result as JSON, for the webhook ledger (a batch's other results are not repeated). */
  raw: string;
}

export interface InfobipInboundEvent {
  kind: 'inbound';
  providerMessageId: string;
  /** The sender's number: digits, as Infobip writes it; null when WhatsApp gave only a user id. */
  from: string | null;
  /** The sender's business-scoped user id, when `from` is one rather than a number. */
  fromUserId: string | null;
  /** Infobip's `message.type`: TEXT, BUTTON, INTERACTIVE_BUTTON_REPLY, IMAGE, … */
  type: string;
  /** Text, tapped button text or reply title, or a media caption; null otherwise. */
  text: string | null;
  /** Our message this answers (button taps carry it), if given. */
  contextMessageId: string | null;
  profileName: string | null;
  mediaUrl: string | null;
  at: Date;
  raw: string;
}

export type InfobipWebhookEvent = InfobipStatusEvent | InfobipInboundEvent;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const str = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const idText = (value: unknown): string | null =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : str(value);

/**
 * An address as Infobip writes it: international digits (a `+` tolerated) are a phone number;
 * anything else that is not blank is a business-scoped user id (WhatsApp usernames, §2.2 `to` ≤150),
 * which must stay an id: stripping it to its digits would make up a phone number nobody has.
 */
export function readInfobipAddress(value: unknown): { phone: string | null; userId: string | null } {
  const text = idText(value)?.trim();
  if (!text) return { phone: null, userId: null };
  if (/^\+?\d{6,15}$/.test(text)) return { phone: text.replace(/^\+/, ''), userId: null };
  return { phone: null, userId: text };
}

/**
 * Our status for a delivery report's `status` (§2.3). PENDING means on its way; DELIVERED_TO_OPERATOR
 * means it reached WhatsApp, not the phone; only the other DELIVERED states reached the handset.
 * UNDELIVERABLE, EXPIRED and REJECTED are final failures. Unknown groups are skipped.
 */
export function infobipDeliveryStatus(status: { groupName?: unknown; name?: unknown }): DeliveryStatus | null {
  const group = typeof status.groupName === 'string' ? status.groupName.toUpperCase() : '';
  const name = typeof status.name === 'string' ? status.name.toUpperCase() : '';
  switch (group) {
    case 'PENDING':
    case 'ACCEPTED':
      return 'sent';
    case 'DELIVERED':
      return name === 'DELIVERED_TO_OPERATOR' ? 'sent' : 'delivered';
    case 'UNDELIVERABLE':
    case 'EXPIRED':
    case 'REJECTED':
      return 'failed';
    default:
      return null;
  }
}

/**
 * Every report and inbound message of one POST, in payload order. The three kinds share an
 * endpoint ("use one URL for all report types", §2.3) and are told apart by shape: a `status`
 * object is a delivery report, `seenAt` a seen report, `message` an inbound message. Anything else
 * (unknown groups, malformed results) is skipped; this never throws.
 */
export function parseInfobipWebhook(payload: unknown, receivedAt: Date = new Date()): InfobipWebhookEvent[] {
  const results = obj(payload).results;
  if (!Array.isArray(results)) return [];
  const events: InfobipWebhookEvent[] = [];
  for (const item of results) {
    const result = obj(item);
    const event =
      result.message !== undefined
        ? readInbound(result, receivedAt)
        : result.seenAt !== undefined
          ? readSeen(result, receivedAt)
          : result.status !== undefined
            ? readDeliveryReport(result, receivedAt)
            : null;
    if (event) events.push(event);
  }
  return events;
}

function readDeliveryReport(result: Json, receivedAt: Date): InfobipStatusEvent | null {
  const providerMessageId = idText(result.messageId);
  const statusObject = obj(result.status);
  const status = infobipDeliveryStatus(statusObject);
  if (!providerMessageId || !status) return null;
  const error = obj(result.error);
  // Infobip fills `error` on every report; id 0 / group OK is "no error".
  const errorId = idText(error.id);
  const isError = errorId !== null && errorId !== '0' && str(error.groupName) !== 'OK';
  const statusName = str(statusObject.name) ?? str(statusObject.groupName) ?? 'unknown';
  return {
    kind: 'status',
    eventType: statusName.toLowerCase(),
    providerMessageId,
    callbackData: str(result.callbackData),
    status,
    at: parseInfobipTimestamp(result.doneAt) ?? parseInfobipTimestamp(result.sentAt) ?? receivedAt,
    errorCode: isError ? errorId : status === 'failed' ? statusName : null,
    errorMessage: isError
      ? (str(error.description) ?? str(error.name))
      : status === 'failed'
        ? (str(statusObject.description) ?? statusName)
        : null,
    ...recipientOf(result.to, obj(result.contact)),
    raw: JSON.stringify(result),
  };
}

/** The user a report is about: `to` (a number or a user id), completed from `contact`. */
function recipientOf(to: unknown, contact: Json): Pick<InfobipStatusEvent, 'recipient' | 'recipientUserId'> {
  const address = readInfobipAddress(to);
  return {
    recipient: address.phone ?? readInfobipAddress(contact.phoneNumber).phone,
    recipientUserId: address.userId ?? idText(contact.userId),
  };
}

/** In a seen report `from` is the user and `to` our number: the other way round from a DLR (§2.3). */
function readSeen(result: Json, receivedAt: Date): InfobipStatusEvent | null {
  const providerMessageId = idText(result.messageId);
  if (!providerMessageId) return null;
  return {
    kind: 'status',
    eventType: 'seen',
    providerMessageId,
    callbackData: str(result.callbackData),
    status: 'read',
    at: parseInfobipTimestamp(result.seenAt) ?? receivedAt,
    errorCode: null,
    errorMessage: null,
    ...recipientOf(result.from, obj(result.contact)),
    raw: JSON.stringify(result),
  };
}

function readInbound(result: Json, receivedAt: Date): InfobipInboundEvent | null {
  const providerMessageId = idText(result.messageId);
  const from = readInfobipAddress(result.from);
  if (!providerMessageId || (!from.phone && !from.userId)) return null;
  const message = obj(result.message);
  const type = str(message.type)?.toUpperCase() ?? 'UNKNOWN';
  return {
    kind: 'inbound',
    providerMessageId,
    from: from.phone,
    fromUserId: from.userId,
    type,
    text: inboundText(message, type),
    contextMessageId: str(obj(message.context).id) ?? str(result.pairedMessageId),
    profileName: str(obj(result.contact).name),
    mediaUrl: str(message.url),
    at: parseInfobipTimestamp(result.receivedAt) ?? receivedAt,
    raw: JSON.stringify(result),
  };
}

function inboundText(message: Json, type: string): string | null {
  switch (type) {
    case 'TEXT':
      return str(message.text);
    case 'BUTTON':
      return str(message.text) ?? str(message.payload);
    case 'INTERACTIVE_BUTTON_REPLY':
    case 'INTERACTIVE_LIST_REPLY':
      return str(message.title) ?? str(message.id);
    default:
      return str(message.caption);
  }
}
