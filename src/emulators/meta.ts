/**
 * Local Meta WhatsApp Cloud API EMULATOR: a development and test stand-in that speaks the Graph
 * API's send format and error envelope (providers.md §3.1, §3.5) and posts BATCHED, signed
 * (`X-Hub-Signature-256`) status webhooks back (§3.3). Never a replacement for the real service:
 * it knows only the templates it is given (the same store as the Interakt emulator) and delivers
 * every message it accepts.
 *
 * Control surface, in-process (`emulator.state`) and over HTTP (`/__emulator/*`): recorded
 * requests and accepted messages, a fault queue for the next sends, webhooks on demand (status
 * batches and inbound messages), reset.
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import { META_SIGNATURE_HEADER, signMetaWebhook } from '../providers/meta-webhook';
import {
  holdResponse,
  isBodyParseError,
  listenEmulator,
  maskHeaders,
  postWebhookBody,
  sleep,
  type ListeningEmulator,
} from './emulator-http';
import type { WebhookDelays } from './interakt';
import {
  DEFAULT_EMULATOR_TEMPLATES,
  EmulatorTemplateSchema,
  countVariables,
  storeTemplate,
  templateKey,
  type EmulatorTemplate,
  type StoredTemplate,
} from './interakt-templates';
import {
  CreateTemplateSchema,
  definitionProblem,
  metaTemplateRow,
  templateFromDefinition,
  webhookLanguage,
} from './meta-templates';

export { DEFAULT_EMULATOR_TEMPLATES, type EmulatorTemplate } from './interakt-templates';

export const META_EMULATOR_PHONE_NUMBER_ID = '100000000000001';
/** The emulator's WhatsApp Business Account, whose `message_templates` it serves. */
export const META_EMULATOR_WABA_ID = '200000000000001';
/** What `npm run emulator -- --provider meta` accepts as the Bearer token. */
export const META_EMULATOR_ACCESS_TOKEN = 'emulator-token';
/** Meta's own webhook timeout is not documented; the emulator is as impatient as Interakt's. */
const WEBHOOK_TIMEOUT_MS = 3_000;
/** Longer than the default PROVIDER_TIMEOUT_MS, so a held response looks like a timeout. */
const DEFAULT_HOLD_MS = 15_000;

export type MetaStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface MetaEmulatorOptions {
  /** The Bearer token sends must carry, byte for byte. */
  accessToken: string;
  /** Default `100000000000001`; sends to any other id are refused as Graph refuses them. */
  phoneNumberId?: string;
  /** The WABA's other phone numbers (ids), which may send too; each message's webhooks name its own. */
  extraPhoneNumberIds?: string[];
  displayPhoneNumber?: string;
  wabaId?: string;
  /** Signs webhooks; without it they go out unsigned (and a real receiver refuses them). */
  appSecret?: string;
  webhookUrl?: string;
  /** Added to (or replacing same name + language in) the default templates. */
  templates?: EmulatorTemplate[];
  includeDefaultTemplates?: boolean;
  /** Counted from acceptance. Defaults 200 / 500 / 1000 ms. */
  webhookDelaysMs?: WebhookDelays;
  /** Post sent/delivered/read by itself after each acceptance. Default true. */
  autoWebhooks?: boolean;
  /** Automatic statuses falling due within this window share one POST, as Meta batches. Default 50 ms. */
  batchWindowMs?: number;
}

const FaultCommon = {
  /** How many matching sends this fault applies to. Default 1. */
  times: z.number().int().positive().optional(),
  match: z.object({ phone: z.string().min(1).optional() }).optional(),
};

export const MetaEmulatorFaultSchema = z.discriminatedUnion('kind', [
  /** A Graph error envelope with this code; HTTP status, message and details default per code. */
  z.object({
    kind: z.literal('graph_error'),
    code: z.number().int().nonnegative(),
    httpStatus: z.number().int().min(400).max(599).optional(),
    title: z.string().min(1).optional(),
    details: z.string().optional(),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    ...FaultCommon,
  }),
  z.object({
    kind: z.literal('http_5xx'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
    ...FaultCommon,
  }),
  /** Holds the response for `ms` and does not accept the message. */
  z.object({ kind: z.literal('timeout'), ms: z.number().int().positive().optional(), ...FaultCommon }),
  /** Accepts and records the message but answers only after `ms`: the ambiguous case. */
  z.object({ kind: z.literal('accept_then_timeout'), ms: z.number().int().positive().optional(), ...FaultCommon }),
]);
export type MetaEmulatorFault = z.infer<typeof MetaEmulatorFaultSchema>;

export interface MetaHeaderMedia {
  type: 'image' | 'video' | 'document';
  link: string;
  filename?: string;
}

export interface MetaAcceptedMessage {
  /** The wamid. */
  id: string;
  acceptedAt: string;
  /** E.164. */
  phone: string;
  /** `to` exactly as sent. */
  to: string;
  callbackData: string | null;
  template: { name: string; languageCode: string };
  /** Text-header values, or the one media link. */
  headerValues: string[];
  headerMedia: MetaHeaderMedia | null;
  fileName: string | null;
  bodyValues: string[];
  /** URL-button suffixes keyed by button index. */
  buttonValues: Record<string, string[]>;
  /** `template.components` as received. */
  components: unknown[];
  /** The last status a webhook was posted for. */
  status: 'accepted' | MetaStatus;
  /** The business number (phone number id) it was sent from: the path it was posted to. */
  phoneNumberId: string;
}

export interface MetaRecordedRequest {
  seq: number;
  at: string;
  method: string;
  /** Path and query as received. */
  path: string;
  /** Lower-cased names; `authorization` keeps only its scheme. */
  headers: Record<string, string>;
  /** Whether the Authorization header carried exactly `Bearer <accessToken>`. */
  authorized: boolean;
  body: unknown;
  /** Null while the response is held, or when the client left before it was sent. */
  responseStatus: number | null;
  responseBody?: unknown;
}

export type MetaWebhookDeliveryEvent =
  | { kind: 'status'; messageId: string; status: MetaStatus }
  | { kind: 'inbound'; messageId: string; from: string }
  | { kind: 'error'; code: number }
  | { kind: 'template_status'; templateId: string; event: string }
  | { kind: 'template_quality'; templateId: string; score: string };

/** A review outcome or status change of a template (`message_template_status_update`). */
export interface MetaTemplateReview {
  /** APPROVED, REJECTED, PAUSED, DISABLED, FLAGGED, IN_APPEAL, REINSTATED, PENDING_DELETION, … */
  event: string;
  /** Rejection reason (INVALID_FORMAT, PROMOTIONAL, …); `NONE` otherwise. */
  reason?: string;
}

export type MetaTemplateQuality = 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';

/** An error Meta raises for the number rather than for one message (`value.errors`). */
export interface MetaAccountError {
  code: number;
  title?: string;
  details?: string;
}

export interface MetaWebhookDelivery {
  seq: number;
  at: string;
  url: string;
  /** In payload order; one POST may carry several. */
  events: MetaWebhookDeliveryEvent[];
  /** Exactly the bytes posted (what the signature covers). */
  rawBody: string;
  signature: string | null;
  /** Receiver's HTTP status, or null when it could not be reached. */
  responseStatus: number | null;
  error: string | null;
}

export interface MetaStatusUpdate {
  messageId: string;
  status: MetaStatus;
  /** For `failed`; default 131026 "Message undeliverable". */
  errorCode?: number;
  errorTitle?: string;
  errorDetails?: string;
}

export interface MetaInboundMessage {
  /** The sender, E.164 or digits. */
  from: string;
  /** A text message; ignored when `buttonText` is set. */
  text?: string;
  /** A tap on a template quick-reply button. */
  buttonText?: string;
  buttonPayload?: string;
  /** The wamid of the message replied to. */
  replyTo?: string;
  profileName?: string;
}

export interface MetaWebhookSettings {
  webhookUrl?: string | undefined;
  appSecret?: string | undefined;
  webhookDelaysMs?: WebhookDelays;
  autoWebhooks?: boolean;
}

export interface MetaEmulatorState {
  acceptedMessages(): MetaAcceptedMessage[];
  requests(): MetaRecordedRequest[];
  webhookDeliveries(): MetaWebhookDelivery[];
  templates(): StoredTemplate[];
  pendingFaults(): MetaEmulatorFault[];
  injectFault(fault: MetaEmulatorFault): void;
  upsertTemplate(template: EmulatorTemplate): StoredTemplate;
  /** Deletes a template, as deleting it in WhatsApp Manager would; false when there was none. */
  removeTemplate(name: string, language: string): boolean;
  /**
   * Reviews a template (or changes its status), as Meta does, and posts the
   * `message_template_status_update` webhook: APPROVED makes it sendable, PAUSED and DISABLED stop it.
   */
  reviewTemplate(name: string, language: string, review: MetaTemplateReview): Promise<MetaWebhookDelivery>;
  /** Changes a template's quality rating and posts the `message_template_quality_update` webhook. */
  rateTemplate(name: string, language: string, score: MetaTemplateQuality): Promise<MetaWebhookDelivery>;
  configureWebhooks(settings: MetaWebhookSettings): void;
  /** Posts one status now, whatever was posted before: duplicates and out-of-order on purpose. */
  deliverWebhook(
    messageId: string,
    status: MetaStatus,
    options?: Omit<MetaStatusUpdate, 'messageId' | 'status'>,
  ): Promise<MetaWebhookDelivery>;
  /** Posts several statuses (any messages, any order) in one signed notification. */
  deliverStatusBatch(updates: MetaStatusUpdate[]): Promise<MetaWebhookDelivery>;
  /** Posts an inbound message from a user, as Meta does when a lead replies. */
  deliverInboundMessage(message: MetaInboundMessage): Promise<MetaWebhookDelivery>;
  /** Posts errors about the number itself (`value.errors`), not tied to any message. */
  deliverAccountErrors(errors: MetaAccountError[]): Promise<MetaWebhookDelivery>;
  /** Back to the state right after creation: records, faults, templates, settings; pending webhooks dropped. */
  reset(): void;
}

export interface MetaEmulator {
  app: express.Express;
  listen(port?: number, host?: string): Promise<ListeningEmulator>;
  state: MetaEmulatorState;
  reset(): void;
}

interface MessageRecord extends MetaAcceptedMessage {
  category: string;
}

interface QueuedFault {
  fault: MetaEmulatorFault;
  remaining: number;
}

class GraphError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly httpStatus?: number,
  ) {
    super(details);
  }
}

/** Titles and HTTP statuses per code, from the table mirrored in providers.md §3.5. */
const GRAPH_ERRORS: Record<number, { title: string; httpStatus: number }> = {
  0: { title: 'AuthException', httpStatus: 401 },
  1: { title: 'An unknown error occurred', httpStatus: 400 },
  2: { title: 'Service temporarily unavailable', httpStatus: 503 },
  3: { title: 'API method requires capability', httpStatus: 500 },
  4: { title: 'Application request limit reached', httpStatus: 429 },
  10: { title: 'Permission denied', httpStatus: 403 },
  100: { title: 'Invalid parameter', httpStatus: 400 },
  190: { title: 'Invalid OAuth access token - Cannot parse access token', httpStatus: 401 },
  200: { title: 'Permission error', httpStatus: 403 },
  368: { title: 'Temporarily blocked for policies violations', httpStatus: 400 },
  80007: { title: 'Rate limit issues', httpStatus: 400 },
  130429: { title: 'Rate limit hit', httpStatus: 429 },
  130472: { title: "User's number is part of an experiment", httpStatus: 400 },
  131000: { title: 'Something went wrong', httpStatus: 500 },
  131008: { title: 'Required parameter is missing', httpStatus: 400 },
  131026: { title: 'Message undeliverable', httpStatus: 400 },
  131031: { title: 'Account has been locked', httpStatus: 400 },
  131042: { title: 'Business eligibility payment issue', httpStatus: 400 },
  131047: { title: 'Re-engagement message', httpStatus: 400 },
  131048: { title: 'Spam rate limit hit', httpStatus: 400 },
  131049: { title: 'This message was not delivered to maintain healthy ecosystem engagement', httpStatus: 400 },
  131050: { title: 'User has stopped marketing messages', httpStatus: 400 },
  131056: { title: '(Business Account, Consumer Account) pair rate limit hit', httpStatus: 400 },
  132000: { title: 'Number of parameters does not match the expected number of params', httpStatus: 400 },
  132001: { title: 'Template name does not exist in the translation', httpStatus: 400 },
  132012: { title: 'Parameter format does not match format in the created template', httpStatus: 400 },
  132015: { title: 'Template is Paused', httpStatus: 400 },
  132016: { title: 'Template is Disabled', httpStatus: 400 },
};

function graphErrorBody(code: number, details: string, title?: string): { error: Record<string, unknown> } {
  const known = GRAPH_ERRORS[code] ?? (code >= 200 && code <= 299 ? GRAPH_ERRORS[200] : undefined);
  return {
    error: {
      message: `(#${code}) ${title ?? known?.title ?? 'Unknown error'}`,
      type: 'OAuthException',
      code,
      error_data: { messaging_product: 'whatsapp', details },
      fbtrace_id: `A${randomBytes(16).toString('base64url')}`,
    },
  };
}

const defaultHttpStatus = (code: number): number =>
  GRAPH_ERRORS[code]?.httpStatus ?? (code >= 200 && code <= 299 ? 403 : 400);

const ParameterSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  payload: z.string().optional(),
  coupon_code: z.string().optional(),
  image: z.object({ link: z.string() }).optional(),
  video: z.object({ link: z.string() }).optional(),
  document: z.object({ link: z.string(), filename: z.string().optional() }).optional(),
});
type Parameter = z.infer<typeof ParameterSchema>;

const ComponentSchema = z.object({
  type: z.enum(['header', 'body', 'button']),
  sub_type: z.string().optional(),
  index: z.union([z.string(), z.number()]).optional(),
  parameters: z.array(ParameterSchema).default([]),
});
type Component = z.infer<typeof ComponentSchema>;

const SendBodySchema = z.object({
  messaging_product: z.literal('whatsapp', { error: 'messaging_product must be "whatsapp"' }),
  recipient_type: z.literal('individual').optional(),
  to: z.string({ error: 'to is required' }).min(1, 'to is required'),
  type: z.string().default('text'),
  template: z
    .object({
      name: z.string({ error: 'template.name is required' }).min(1, 'template.name is required'),
      language: z.object(
        { code: z.string().min(1), policy: z.string().optional() },
        { error: 'template.language.code is required' },
      ),
      components: z.array(ComponentSchema).optional(),
    })
    .optional(),
  // UNCONFIRMED (providers.md §3.1): the limit Meta applies, if any; 512 as documented elsewhere.
  biz_opaque_callback_data: z.string().max(512).optional(),
});

const StatusSchema = z.enum(['sent', 'delivered', 'read', 'failed']);
const StatusUpdateSchema = z.object({
  messageId: z.string().min(1),
  status: StatusSchema,
  errorCode: z.number().int().optional(),
  errorTitle: z.string().optional(),
  errorDetails: z.string().optional(),
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
  appSecret: z.string().nullable().optional(),
  webhookDelaysMs: z
    .object({ sent: z.number().nonnegative(), delivered: z.number().nonnegative(), read: z.number().nonnegative() })
    .optional(),
  autoWebhooks: z.boolean().optional(),
});

export function createMetaEmulator(options: MetaEmulatorOptions): MetaEmulator {
  const phoneNumberId = options.phoneNumberId ?? META_EMULATOR_PHONE_NUMBER_ID;
  const phoneNumberIds = new Set([phoneNumberId, ...(options.extraPhoneNumberIds ?? [])]);
  const displayPhoneNumber = options.displayPhoneNumber ?? '15550001234';
  const wabaId = options.wabaId ?? META_EMULATOR_WABA_ID;
  const batchWindowMs = options.batchWindowMs ?? 50;
  const initialSettings = {
    webhookUrl: options.webhookUrl,
    appSecret: options.appSecret,
    webhookDelaysMs: options.webhookDelaysMs ?? { sent: 200, delivered: 500, read: 1000 },
    autoWebhooks: options.autoWebhooks ?? true,
  };

  let settings = { ...initialSettings };
  let messages = new Map<string, MessageRecord>();
  let requestLog: MetaRecordedRequest[] = [];
  let deliveries: MetaWebhookDelivery[] = [];
  let faults: QueuedFault[] = [];
  let templates = seedTemplates();
  let outbox: MetaStatusUpdate[] = [];
  let outboxTimer: NodeJS.Timeout | undefined;
  let outboxChain: Promise<unknown> = Promise.resolve();
  let requestSeq = 0;
  let deliverySeq = 0;
  // Aborted on reset and close, so timers and in-flight webhooks of an old run never leak into the next.
  let lifecycle = new AbortController();

  function seedTemplates(): Map<string, StoredTemplate> {
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
  }

  function stopPendingWork(): void {
    lifecycle.abort();
    lifecycle = new AbortController();
    clearTimeout(outboxTimer);
    outboxTimer = undefined;
    outbox = [];
    outboxChain = Promise.resolve();
  }

  const state: MetaEmulatorState = {
    acceptedMessages: () => [...messages.values()].map(publicMessage),
    requests: () => structuredClone(requestLog),
    webhookDeliveries: () => structuredClone(deliveries),
    templates: () => structuredClone([...templates.values()]),
    pendingFaults: () => faults.map(({ fault, remaining }) => ({ ...fault, times: remaining })),
    injectFault(fault) {
      const parsed = MetaEmulatorFaultSchema.parse(fault);
      faults.push({ fault: parsed, remaining: parsed.times ?? 1 });
    },
    upsertTemplate(template) {
      const key = templateKey(template.name, template.language);
      const stored = storeTemplate(template, templates.get(key));
      templates.set(key, stored);
      return structuredClone(stored);
    },
    configureWebhooks(update) {
      settings = { ...settings, ...update };
    },
    deliverWebhook: (messageId, status, extra = {}) => deliverStatusBatch([{ ...extra, messageId, status }]),
    deliverStatusBatch,
    deliverInboundMessage,
    deliverAccountErrors,
    reviewTemplate,
    rateTemplate,
    removeTemplate: (name, language) => templates.delete(templateKey(name, language)),
    reset() {
      stopPendingWork();
      settings = { ...initialSettings };
      messages = new Map();
      requestLog = [];
      deliveries = [];
      faults = [];
      templates = seedTemplates();
    },
  };

  // ------------------------------------------------------------------------------------------
  // Webhooks

  /** One `messages` change per business number: its metadata names the number (phone number id). */
  function notification(...values: Array<{ phone?: string; value: Record<string, unknown> }>): Record<string, unknown> {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: wabaId,
          changes: values.map(({ phone, value }) => ({
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: displayPhoneNumber, phone_number_id: phone ?? phoneNumberId },
              ...value,
            },
          })),
        },
      ],
    };
  }

  function statusObject(update: MetaStatusUpdate, message: MessageRecord, timestamp: string): Record<string, unknown> {
    const category = message.category.toLowerCase();
    const status: Record<string, unknown> = {
      id: message.id,
      status: update.status,
      timestamp,
      recipient_id: message.phone.slice(1),
    };
    if (message.callbackData) status.biz_opaque_callback_data = message.callbackData;
    if (update.status === 'sent' || update.status === 'delivered') {
      status.conversation = { id: `conv-${message.phone.slice(1)}`, origin: { type: category } };
      status.pricing = { billable: true, pricing_model: 'PMP', category };
    }
    if (update.status === 'failed') {
      const code = update.errorCode ?? 131026;
      const title = update.errorTitle ?? GRAPH_ERRORS[code]?.title ?? 'Message failed';
      status.errors = [
        {
          code,
          title,
          message: title,
          error_data: { details: update.errorDetails ?? 'Message Undeliverable.' },
        },
      ];
    }
    return status;
  }

  async function deliverStatusBatch(updates: MetaStatusUpdate[]): Promise<MetaWebhookDelivery> {
    if (updates.length === 0) throw new EmulatorConflict('A status batch needs at least one status');
    const resolved = updates.map((update) => {
      const message = messages.get(update.messageId);
      if (!message) throw new EmulatorNotFound(`No accepted message with id ${update.messageId}`);
      return { update, message };
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    // Statuses of messages from different numbers come as one change per number.
    const byPhone = new Map<string, Record<string, unknown>[]>();
    for (const { update, message } of resolved) {
      message.status = update.status;
      const list = byPhone.get(message.phoneNumberId) ?? [];
      list.push(statusObject(update, message, timestamp));
      byPhone.set(message.phoneNumberId, list);
    }
    return post(
      notification(...[...byPhone].map(([phone, statuses]) => ({ phone, value: { statuses } }))),
      resolved.map(({ update }) => ({ kind: 'status', messageId: update.messageId, status: update.status })),
    );
  }

  async function deliverInboundMessage(inbound: MetaInboundMessage): Promise<MetaWebhookDelivery> {
    const from = inbound.from.replace(/\D/g, '');
    if (from === '') throw new EmulatorConflict('from must be a phone number');
    const id = newWamid();
    const message: Record<string, unknown> = { from, id, timestamp: String(Math.floor(Date.now() / 1000)) };
    if (inbound.replyTo) message.context = { from: displayPhoneNumber, id: inbound.replyTo };
    if (inbound.buttonText !== undefined) {
      message.type = 'button';
      message.button = { text: inbound.buttonText, payload: inbound.buttonPayload ?? inbound.buttonText };
    } else {
      message.type = 'text';
      message.text = { body: inbound.text ?? '' };
    }
    return post(
      notification({
        value: {
          contacts: [{ profile: { name: inbound.profileName ?? 'Emulated User' }, wa_id: from }],
          messages: [message],
        },
      }),
      [{ kind: 'inbound', messageId: id, from }],
    );
  }

  async function deliverAccountErrors(errors: MetaAccountError[]): Promise<MetaWebhookDelivery> {
    if (errors.length === 0) throw new EmulatorConflict('At least one error');
    return post(
      notification({
        value: {
          errors: errors.map((error) => {
            const title = error.title ?? GRAPH_ERRORS[error.code]?.title ?? 'Unknown error';
            return {
              code: error.code,
              title,
              message: title,
              error_data: { details: error.details ?? title },
            };
          }),
        },
      }),
      errors.map((error) => ({ kind: 'error', code: error.code })),
    );
  }

  function templateOrThrow(name: string, language: string): StoredTemplate {
    const template = templates.get(templateKey(name, language));
    if (!template) throw new EmulatorNotFound(`No template ${name} (${language})`);
    return template;
  }

  /** A WhatsApp Business Account change (template webhooks carry `time`, message webhooks do not). */
  function accountChange(field: string, value: Record<string, unknown>): Record<string, unknown> {
    return {
      object: 'whatsapp_business_account',
      entry: [{ id: wabaId, time: Math.floor(Date.now() / 1000), changes: [{ field, value }] }],
    };
  }

  async function reviewTemplate(
    name: string,
    language: string,
    review: MetaTemplateReview,
  ): Promise<MetaWebhookDelivery> {
    const template = templateOrThrow(name, language);
    const reason = review.reason ?? (review.event === 'REJECTED' ? 'INVALID_FORMAT' : 'NONE');
    // What the store can hold; events that are not a status (LOCKED, UNLOCKED) leave it as it was.
    const status = review.event === 'REINSTATED' ? 'APPROVED' : review.event;
    if (EmulatorTemplateSchema.shape.approvalStatus.safeParse(status).success) {
      templates.set(
        templateKey(name, language),
        storeTemplate(
          {
            ...template,
            approvalStatus: status as StoredTemplate['approvalStatus'],
            ...(review.event === 'REJECTED' && { rejectionReason: reason }),
          },
          template,
        ),
      );
    }
    return post(
      accountChange('message_template_status_update', {
        event: review.event,
        message_template_id: Number(template.waTemplateId),
        message_template_name: template.name,
        message_template_language: webhookLanguage(template.language),
        reason,
        message_template_category: template.category,
      }),
      [{ kind: 'template_status', templateId: template.waTemplateId, event: review.event }],
    );
  }

  async function rateTemplate(
    name: string,
    language: string,
    score: MetaTemplateQuality,
  ): Promise<MetaWebhookDelivery> {
    const template = templateOrThrow(name, language);
    templates.set(templateKey(name, language), storeTemplate({ ...template, quality: score }, template));
    return post(
      accountChange('message_template_quality_update', {
        previous_quality_score: template.quality,
        new_quality_score: score,
        message_template_id: Number(template.waTemplateId),
        message_template_name: template.name,
        message_template_language: webhookLanguage(template.language),
      }),
      [{ kind: 'template_quality', templateId: template.waTemplateId, score }],
    );
  }

  async function post(
    payload: Record<string, unknown>,
    events: MetaWebhookDeliveryEvent[],
  ): Promise<MetaWebhookDelivery> {
    const url = settings.webhookUrl;
    if (!url) throw new EmulatorConflict('No webhook URL configured');
    const rawBody = JSON.stringify(payload);
    const signature = settings.appSecret ? signMetaWebhook(rawBody, settings.appSecret) : null;
    const delivery: MetaWebhookDelivery = {
      seq: ++deliverySeq,
      at: new Date().toISOString(),
      url,
      events,
      rawBody,
      signature,
      responseStatus: null,
      error: null,
    };
    deliveries.push(delivery);

    const headers = { 'User-Agent': 'Meta-Emulator/1.0', ...(signature ? { [META_SIGNATURE_HEADER]: signature } : {}) };
    Object.assign(delivery, await postWebhookBody(url, rawBody, headers, lifecycle.signal, WEBHOOK_TIMEOUT_MS));
    return structuredClone(delivery);
  }

  /** Statuses due within one batch window leave together, in the order they fell due. */
  function enqueueStatus(update: MetaStatusUpdate): void {
    outbox.push(update);
    outboxTimer ??= setTimeout(flushOutbox, batchWindowMs);
  }

  function flushOutbox(): void {
    outboxTimer = undefined;
    const batch = outbox;
    outbox = [];
    const signal = lifecycle.signal;
    // Chained, so one batch is answered before the next leaves and the order holds.
    outboxChain = outboxChain.then(async () => {
      if (signal.aborted || !settings.autoWebhooks || !settings.webhookUrl || batch.length === 0) return;
      await deliverStatusBatch(batch).catch(() => undefined);
    });
  }

  async function runAutoWebhooks(messageId: string, acceptedAtMs: number): Promise<void> {
    const signal = lifecycle.signal;
    const delays = settings.webhookDelaysMs;
    const steps: Array<[MetaStatus, number]> = [
      ['sent', delays.sent],
      ['delivered', delays.delivered],
      ['read', delays.read],
    ];
    for (const [status, delay] of steps) {
      await sleep(acceptedAtMs + delay - Date.now(), signal);
      if (signal.aborted || !settings.autoWebhooks || !settings.webhookUrl) return;
      enqueueStatus({ messageId, status });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sends

  function takeFault(body: unknown): MetaEmulatorFault | undefined {
    const to =
      body && typeof body === 'object' && 'to' in body && typeof body.to === 'string'
        ? body.to.replace(/\D/g, '')
        : undefined;
    const index = faults.findIndex(({ fault }) => {
      const wanted = fault.match?.phone?.replace(/\D/g, '');
      return !wanted || wanted === to;
    });
    if (index === -1) return undefined;
    const queued = faults[index]!;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults.splice(index, 1);
    return queued.fault;
  }

  function accept(send: ValidSend & { phoneNumberId: string }): MessageRecord {
    const record: MessageRecord = { ...send, id: newWamid(), acceptedAt: new Date().toISOString(), status: 'accepted' };
    messages.set(record.id, record);
    if (settings.autoWebhooks && settings.webhookUrl) {
      void runAutoWebhooks(record.id, Date.now()).catch(() => undefined);
    }
    return record;
  }

  /** Checks a send as Meta would, throwing the GraphError Meta would answer with. */
  function validateSend(raw: unknown): ValidSend {
    const parsed = SendBodySchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GraphError(100, issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'Invalid request body');
    }
    const body = parsed.data;
    const phone = parsePhoneNumberFromString(`+${body.to.replace(/^\+/, '')}`);
    if (!/^\+?\d{6,15}$/.test(body.to) || !phone || !phone.isValid()) {
      throw new GraphError(100, `to: ${body.to} is not a valid WhatsApp phone number`);
    }
    if (body.type !== 'template') {
      // No customer-service window is tracked, so only templates may start a conversation.
      throw new GraphError(
        131047,
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      );
    }
    if (!body.template) throw new GraphError(100, 'template is required for type template');

    const { name, language } = body.template;
    const template = templates.get(templateKey(name, language.code));
    if (template?.approvalStatus === 'PAUSED')
      throw new GraphError(132015, `template ${name} (${language.code}) is paused`);
    if (template?.approvalStatus === 'DISABLED')
      throw new GraphError(132016, `template ${name} (${language.code}) is disabled`);
    if (!template || template.approvalStatus !== 'APPROVED') {
      throw new GraphError(132001, `template name (${name}) does not exist in ${language.code}`);
    }

    const values = readComponents(template, body.template.components ?? []);
    return {
      ...values,
      phone: phone.number,
      to: body.to,
      callbackData: body.biz_opaque_callback_data ?? null,
      template: { name, languageCode: language.code },
      components: structuredClone(body.template.components ?? []),
      category: template.category,
    };
  }

  async function handleSend(req: Request, res: Response): Promise<void> {
    if (!isAuthorized(req, options.accessToken)) {
      sendGraphError(res, new GraphError(190, 'Invalid OAuth 2.0 Access Token'));
      return;
    }
    if (!phoneNumberIds.has(String(req.params.phoneNumberId))) {
      res.status(400).json({
        error: {
          ...graphErrorBody(100, 'Unknown phone number id').error,
          message:
            `Unsupported post request. Object with ID '${req.params.phoneNumberId}' does not exist, cannot be loaded ` +
            'due to missing permissions, or does not support this operation.',
          error_subcode: 33,
        },
      });
      return;
    }
    const fault = takeFault(req.body);

    switch (fault?.kind) {
      case 'graph_error':
        if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
        res
          .status(fault.httpStatus ?? defaultHttpStatus(fault.code))
          .json(
            graphErrorBody(fault.code, fault.details ?? `Injected by the emulator: error ${fault.code}`, fault.title),
          );
        return;
      case 'http_5xx': {
        const status = fault.status ?? 500;
        // Gateways in front of the Graph API answer 502/503 with HTML, not JSON.
        if (status === 500) {
          res.status(500).json(graphErrorBody(1, 'An unknown error has occurred.'));
        } else {
          const title = status === 502 ? 'Bad Gateway' : 'Service Unavailable';
          res.status(status).type('html').send(`<html><body><h1>${status} ${title}</h1></body></html>`);
        }
        return;
      }
      case 'timeout':
        if (await holdResponse(res, fault.ms ?? DEFAULT_HOLD_MS)) res.status(504).type('text').send('Gateway Timeout');
        return;
      case 'accept_then_timeout':
      case undefined:
        break;
    }

    let accepted: MessageRecord | undefined;
    let refusal: GraphError | undefined;
    try {
      accepted = accept({ ...validateSend(req.body), phoneNumberId: String(req.params.phoneNumberId) });
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      refusal = error;
    }
    if (fault?.kind === 'accept_then_timeout' && !(await holdResponse(res, fault.ms ?? DEFAULT_HOLD_MS))) return;
    if (!accepted) {
      sendGraphError(res, refusal!);
      return;
    }
    res.status(200).json({
      messaging_product: 'whatsapp',
      contacts: [{ input: accepted.to, wa_id: accepted.phone.slice(1) }],
      messages: [{ id: accepted.id }],
    });
  }

  // ------------------------------------------------------------------------------------------
  // Routes

  const app = express();
  app.disable('x-powered-by');
  app.use(recordRequests);
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    const entry = res.locals.recorded as MetaRecordedRequest | undefined;
    if (entry) entry.body = req.body ?? null;
    next();
  });

  const control = express.Router();
  control.get('/health', (_req, res) => {
    res.json({ ok: true, emulator: 'meta', phoneNumberId, acceptedMessages: messages.size });
  });
  control.get('/messages', (_req, res) => {
    res.json({ messages: state.acceptedMessages() });
  });
  control.get('/requests', (_req, res) => {
    res.json({ requests: state.requests() });
  });
  control.get('/webhooks', (_req, res) => {
    res.json({ deliveries: state.webhookDeliveries() });
  });
  control.post('/webhooks', async (req, res) => {
    const body = z
      .union([z.object({ statuses: z.array(StatusUpdateSchema).min(1) }), StatusUpdateSchema])
      .parse(req.body);
    const updates = 'statuses' in body ? body.statuses : [body];
    res.json({ delivery: await deliverStatusBatch(updates) });
  });
  control.post('/inbound', async (req, res) => {
    res.json({ delivery: await deliverInboundMessage(InboundSchema.parse(req.body)) });
  });
  control.post('/errors', async (req, res) => {
    const { errors } = z
      .object({
        errors: z
          .array(z.object({ code: z.number().int(), title: z.string().optional(), details: z.string().optional() }))
          .min(1),
      })
      .parse(req.body);
    res.json({ delivery: await deliverAccountErrors(errors) });
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
    const parsed = z.array(MetaEmulatorFaultSchema).parse(list);
    for (const fault of parsed) state.injectFault(fault);
    res.status(201).json({ faults: state.pendingFaults() });
  });
  control.post('/templates', (req, res) => {
    res.json({ template: state.upsertTemplate(EmulatorTemplateSchema.parse(req.body)) });
  });
  control.post('/templates/:name/:language/review', async (req, res) => {
    const review = z.object({ event: z.string().min(1), reason: z.string().min(1).optional() }).parse(req.body);
    res.json({ delivery: await reviewTemplate(req.params.name, req.params.language, review) });
  });
  control.post('/templates/:name/:language/quality', async (req, res) => {
    const { score } = z.object({ score: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']) }).parse(req.body);
    res.json({ delivery: await rateTemplate(req.params.name, req.params.language, score) });
  });
  control.post('/settings', (req, res) => {
    const update = SettingsSchema.parse(req.body);
    state.configureWebhooks({
      ...(update.webhookUrl !== undefined ? { webhookUrl: update.webhookUrl ?? undefined } : {}),
      ...(update.appSecret !== undefined ? { appSecret: update.appSecret ?? undefined } : {}),
      ...(update.webhookDelaysMs ? { webhookDelaysMs: update.webhookDelaysMs } : {}),
      ...(update.autoWebhooks !== undefined ? { autoWebhooks: update.autoWebhooks } : {}),
    });
    res.json({ ok: true, autoWebhooks: settings.autoWebhooks, webhookUrl: settings.webhookUrl ?? null });
  });
  control.post('/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });
  app.use('/__emulator', control);

  app.post('/:version/:phoneNumberId/messages', (req, res, next) => {
    if (!/^v\d+\.\d+$/.test(req.params.version)) {
      next();
      return;
    }
    return handleSend(req, res);
  });
  app.get('/:version/:wabaId/message_templates', (req, res, next) => {
    if (!/^v\d+\.\d+$/.test(req.params.version)) return next();
    if (!graphAccount(req, res)) return;
    const query = req.query as Record<string, unknown>;
    const limit = query.limit === undefined ? 25 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      sendGraphError(res, new GraphError(100, 'limit must be an integer from 1 to 1000'));
      return;
    }
    let offset = 0;
    if (typeof query.after === 'string') {
      offset = Number(Buffer.from(query.after, 'base64url').toString('utf8'));
      if (!Number.isInteger(offset) || offset < 0) {
        sendGraphError(res, new GraphError(100, 'after is not a valid cursor'));
        return;
      }
    }
    const name = typeof query.name === 'string' ? query.name : undefined;
    const all = [...templates.values()].filter((template) => name === undefined || template.name === name);
    const page = all.slice(offset, offset + limit);
    const cursor = (at: number) => Buffer.from(String(at)).toString('base64url');
    const more = offset + page.length < all.length;
    res.json({
      data: page.map(metaTemplateRow),
      paging: {
        cursors: { before: cursor(offset), after: cursor(offset + page.length) },
        ...(more && {
          next: `${req.protocol}://${req.get('host')}${req.path}?limit=${limit}&after=${cursor(offset + page.length)}`,
        }),
      },
    });
  });
  app.post('/:version/:wabaId/message_templates', (req, res, next) => {
    if (!/^v\d+\.\d+$/.test(req.params.version)) return next();
    if (!graphAccount(req, res)) return;
    const parsed = CreateTemplateSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      sendGraphError(
        res,
        new GraphError(100, issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'Invalid template'),
      );
      return;
    }
    const problem = definitionProblem(parsed.data);
    if (problem) {
      sendGraphError(res, new GraphError(100, problem));
      return;
    }
    const key = templateKey(parsed.data.name, parsed.data.language);
    if (templates.has(key)) {
      res.status(400).json({
        error: {
          ...graphErrorBody(100, `Content in ${parsed.data.language} already exists for ${parsed.data.name}`).error,
          error_subcode: 2388024,
        },
      });
      return;
    }
    const stored = storeTemplate(templateFromDefinition(parsed.data));
    templates.set(key, stored);
    res.json({ id: stored.waTemplateId, status: stored.approvalStatus, category: stored.category });
  });
  app.get('/:version/:templateId', (req, res, next) => {
    if (!/^v\d+\.\d+$/.test(req.params.version)) return next();
    if (!isAuthorized(req, options.accessToken)) {
      sendGraphError(res, new GraphError(190, 'Invalid OAuth 2.0 Access Token'));
      return;
    }
    const template = [...templates.values()].find((candidate) => candidate.waTemplateId === req.params.templateId);
    if (!template) {
      sendGraphError(res, new GraphError(100, `Object with ID '${req.params.templateId}' does not exist`));
      return;
    }
    const row = metaTemplateRow(template);
    res.json({
      id: row.id,
      name: row.name,
      language: row.language,
      status: row.status,
      ...(row.rejected_reason !== undefined && { rejected_reason: row.rejected_reason }),
    });
  });

  /** The Bearer token and the WABA id of a template-edge request; answers the Graph error itself. */
  function graphAccount(req: Request, res: Response): boolean {
    if (!isAuthorized(req, options.accessToken)) {
      sendGraphError(res, new GraphError(190, 'Invalid OAuth 2.0 Access Token'));
      return false;
    }
    if (req.params.wabaId !== wabaId) {
      res.status(400).json({
        error: {
          ...graphErrorBody(100, 'Unknown WhatsApp Business Account id').error,
          message: `Unsupported get request. Object with ID '${req.params.wabaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          error_subcode: 33,
        },
      });
      return false;
    }
    return true;
  }
  app.use((req, res) => {
    res.status(400).json(graphErrorBody(100, `Unknown path components: ${req.path}`));
  });

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (!req.path.startsWith('/__emulator')) {
      const entry = res.locals.recorded as MetaRecordedRequest | undefined;
      if (isBodyParseError(error)) {
        if (entry) entry.body = null;
        res.status(400).json(graphErrorBody(100, 'The request body is not valid JSON'));
      } else {
        res.status(500).json(graphErrorBody(1, 'An unknown error has occurred.'));
      }
      return;
    }
    if (error instanceof z.ZodError) {
      res.status(400).json({ error: 'invalid_request', issues: error.issues });
      return;
    }
    if (error instanceof EmulatorNotFound) {
      res.status(404).json({ error: 'not_found', message: error.message });
      return;
    }
    if (error instanceof EmulatorConflict) {
      res.status(409).json({ error: 'conflict', message: error.message });
      return;
    }
    if (isBodyParseError(error)) {
      res.status(400).json({ error: 'invalid_json' });
      return;
    }
    res.status(500).json({ error: 'internal', message: error instanceof Error ? error.message : String(error) });
  });

  function recordRequests(req: Request, res: Response, next: NextFunction): void {
    if (req.path.startsWith('/__emulator')) {
      next();
      return;
    }
    const entry: MetaRecordedRequest = {
      seq: ++requestSeq,
      at: new Date().toISOString(),
      method: req.method,
      path: req.originalUrl,
      headers: maskHeaders(req.headers),
      authorized: isAuthorized(req, options.accessToken),
      body: null,
      responseStatus: null,
    };
    requestLog.push(entry);
    res.locals.recorded = entry;
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      entry.responseBody = body;
      return json(body);
    };
    res.on('finish', () => {
      entry.responseStatus = res.statusCode;
    });
    next();
  }

  // ------------------------------------------------------------------------------------------
  // Listening

  function listen(port = 0, host = '127.0.0.1'): Promise<ListeningEmulator> {
    return listenEmulator(app, port, host, stopPendingWork);
  }

  return { app, listen, state, reset: state.reset };
}

// ---------------------------------------------------------------------------------------------
// Helpers

type ValidSend = Omit<MessageRecord, 'id' | 'acceptedAt' | 'status' | 'phoneNumberId'>;

class EmulatorNotFound extends Error {}
class EmulatorConflict extends Error {}

/** Real wamids are opaque base64; only the `wamid.` prefix is worth imitating. */
const newWamid = (): string => `wamid.${randomBytes(24).toString('base64')}`;

function isAuthorized(req: Request, accessToken: string): boolean {
  return req.headers.authorization?.trim() === `Bearer ${accessToken}`;
}

function sendGraphError(res: Response, error: GraphError): void {
  res.status(error.httpStatus ?? defaultHttpStatus(error.code)).json(graphErrorBody(error.code, error.details));
}

function publicMessage(record: MessageRecord): MetaAcceptedMessage {
  const { category: _category, ...message } = record;
  return structuredClone(message);
}

/**
 * Checks `template.components` against the stored template the way Meta does: counts per
 * component (132000), header media of the template's kind (132012), a parameter for every
 * dynamic URL button at its index (131008).
 */
function readComponents(
  template: StoredTemplate,
  components: Component[],
): Pick<MetaAcceptedMessage, 'headerValues' | 'headerMedia' | 'fileName' | 'bodyValues' | 'buttonValues'> {
  const headers = components.filter((component) => component.type === 'header');
  const bodies = components.filter((component) => component.type === 'body');
  if (headers.length > 1 || bodies.length > 1)
    throw new GraphError(100, 'components: at most one header and one body component');

  const countMismatch = (where: string, received: number, expected: number): GraphError =>
    new GraphError(
      132000,
      `${where}: number of localizable_params (${received}) does not match the expected number of params (${expected})`,
    );
  const texts = (where: string, parameters: Parameter[]): string[] =>
    parameters.map((parameter) => {
      if (parameter.type !== 'text' || typeof parameter.text !== 'string') {
        throw new GraphError(132012, `${where}: expected a text parameter, received ${parameter.type}`);
      }
      if (parameter.text.trim() === '') throw new GraphError(131008, `${where}: parameter text must not be empty`);
      return parameter.text;
    });

  let headerValues: string[];
  let headerMedia: MetaHeaderMedia | null = null;
  const header = template.header;
  const headerParameters = headers[0]?.parameters ?? [];
  if (!header || header.format === 'TEXT') {
    const expected = header ? countVariables(header.text) : 0;
    if (headerParameters.length !== expected) throw countMismatch('header', headerParameters.length, expected);
    headerValues = texts('header', headerParameters);
  } else {
    const kind = header.format.toLowerCase() as MetaHeaderMedia['type'];
    if (headerParameters.length !== 1) throw countMismatch('header', headerParameters.length, 1);
    const parameter = headerParameters[0]!;
    const media = parameter[kind];
    if (parameter.type !== kind || !media) {
      throw new GraphError(
        132012,
        `header: the template has a ${header.format} header, received a ${parameter.type} parameter`,
      );
    }
    if (!/^https?:\/\//.test(media.link)) throw new GraphError(131008, `header: ${kind}.link must be an http(s) URL`);
    const filename = kind === 'document' && 'filename' in media ? media.filename : undefined;
    headerMedia = filename ? { type: kind, link: media.link, filename } : { type: kind, link: media.link };
    headerValues = [media.link];
  }

  const bodyParameters = bodies[0]?.parameters ?? [];
  const expectedBody = countVariables(template.body);
  if (bodyParameters.length !== expectedBody) throw countMismatch('body', bodyParameters.length, expectedBody);
  const bodyValues = texts('body', bodyParameters);

  const buttons = template.buttons ?? [];
  const buttonValues: Record<string, string[]> = {};
  const seen = new Set<number>();
  for (const component of components.filter((candidate) => candidate.type === 'button')) {
    const index = Number(component.index);
    const button = buttons[index];
    if (!Number.isInteger(index) || !button) {
      throw new GraphError(100, `buttons: the template has no button at index ${String(component.index)}`);
    }
    if (seen.has(index)) throw new GraphError(100, `buttons: more than one component for the button at index ${index}`);
    seen.add(index);
    const where = `button at index ${index}`;
    if (component.sub_type === 'url') {
      if (button.type !== 'URL') throw new GraphError(100, `${where} is of type ${button.type}, not Url`);
      const expected = countVariables(button.url);
      if (component.parameters.length !== expected) throw countMismatch(where, component.parameters.length, expected);
      buttonValues[String(index)] = texts(where, component.parameters);
    } else if (component.sub_type === 'quick_reply') {
      if (button.type !== 'QUICK_REPLY')
        throw new GraphError(100, `${where} is of type ${button.type}, not QuickReply`);
      const [payload] = component.parameters;
      if (component.parameters.length !== 1 || payload?.type !== 'payload' || typeof payload.payload !== 'string')
        throw new GraphError(100, `${where}: a quick reply takes one parameter of type payload`);
      buttonValues[String(index)] = [payload.payload];
    } else if (component.sub_type === 'copy_code') {
      if (button.type !== 'COPY_CODE') throw new GraphError(100, `${where} is of type ${button.type}, not CopyCode`);
      const [code] = component.parameters;
      if (component.parameters.length !== 1 || code?.type !== 'coupon_code' || typeof code.coupon_code !== 'string')
        throw new GraphError(100, `${where}: a copy-code button takes one parameter of type coupon_code`);
      buttonValues[String(index)] = [code.coupon_code];
    } else {
      throw new GraphError(100, `${where}: unsupported sub_type ${String(component.sub_type)}`);
    }
  }
  for (const [index, button] of buttons.entries()) {
    if (button.type === 'URL' && countVariables(button.url) > 0 && !seen.has(index)) {
      throw new GraphError(131008, `buttons: Button at index ${index} of type Url requires a parameter`);
    }
    if (button.type === 'COPY_CODE' && !seen.has(index))
      throw new GraphError(131008, `buttons: Button at index ${index} of type CopyCode requires a parameter`);
  }

  const fileName = headerMedia?.filename ?? null;
  return { headerValues, headerMedia, fileName, bodyValues, buttonValues };
}
