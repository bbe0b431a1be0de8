/**
 * Local Interakt EMULATOR: a development and test stand-in that speaks Interakt's documented wire
 * format (providers.md §1) and posts signed status webhooks back. Never a replacement for the real
 * service: it knows only the templates it is given and delivers every message it accepts.
 *
 * Control surface, in-process (`emulator.state`) and over HTTP (`/__emulator/*`): recorded
 * requests and accepted messages, a fault queue for the next sends, webhooks on demand, reset.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import {
  holdResponse,
  isBodyParseError,
  listenEmulator,
  maskHeaders,
  postWebhookBody,
  sleep,
  type ListeningEmulator,
} from './emulator-http';
export type { ListeningEmulator } from './emulator-http';
import { INTERAKT_TEMPLATE_STATUSES } from '../providers/interakt-templates';
import {
  INTERAKT_CALLBACK_DATA_MAX,
  INTERAKT_SIGNATURE_HEADER,
  signInteraktWebhook,
  type InteraktStatusWebhook,
  type InteraktWebhookType,
} from '../providers/interakt';
import {
  DEFAULT_EMULATOR_TEMPLATES,
  EmulatorTemplateSchema,
  countVariables,
  ctaEmulatorTemplates,
  renderButtonUrls,
  storeTemplate,
  templateKey,
  templateListRow,
  utcTimestamp,
  type EmulatorTemplate,
  type StoredTemplate,
} from './interakt-templates';

export { ctaEmulatorTemplates, DEFAULT_EMULATOR_TEMPLATES, type EmulatorTemplate } from './interakt-templates';

export const INTERAKT_API_PREFIX = '/v1/public';
const CORRECT_THE_FOLLOWING = 'Please correct the following error - ';
/** Interakt gives a webhook endpoint 3 s to answer before counting a failure. */
const WEBHOOK_TIMEOUT_MS = 3_000;
/** Longer than the default PROVIDER_TIMEOUT_MS, so a held response looks like a timeout. */
const DEFAULT_HOLD_MS = 15_000;

export interface WebhookDelays {
  sent: number;
  delivered: number;
  read: number;
}

export interface InteraktEmulatorOptions {
  apiKey: string;
  webhookUrl?: string;
  webhookSecret?: string;
  /** Added to (or replacing same name + language in) the default templates. */
  templates?: EmulatorTemplate[];
  includeDefaultTemplates?: boolean;
  /** Counted from acceptance. Defaults 200 / 500 / 1000 ms. */
  webhookDelaysMs?: WebhookDelays;
  /** Post sent/delivered/read by itself after each acceptance. Default true. */
  autoWebhooks?: boolean;
  /** Rows per page of the template list. Default 100. */
  templatePageSize?: number;
  /**
   * Also seeds the CTA templates (`project_update_template`, `project_brochure`), their buttons
   * pointing at `<ctaBaseUrl>/track/{{1}}`: the API's public URL, so a link sent through the
   * emulator opens our click endpoint.
   */
  ctaBaseUrl?: string;
}

const FaultCommon = {
  /** How many matching sends this fault applies to. Default 1. */
  times: z.number().int().positive().optional(),
  match: z.object({ phone: z.string().min(1).optional() }).optional(),
};

export const EmulatorFaultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('http_5xx'),
    status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
    ...FaultCommon,
  }),
  z.object({
    kind: z.literal('rate_limit'),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    ...FaultCommon,
  }),
  /** Holds the response for `ms` and does not accept the message. */
  z.object({ kind: z.literal('timeout'), ms: z.number().int().positive().optional(), ...FaultCommon }),
  /** Accepts and records the message but answers only after `ms`: the ambiguous case. */
  z.object({ kind: z.literal('accept_then_timeout'), ms: z.number().int().positive().optional(), ...FaultCommon }),
  /** 400 result:false; `message` is the whole `message` field. */
  z.object({ kind: z.literal('permanent'), message: z.string().min(1).optional(), ...FaultCommon }),
]);
export type EmulatorFault = z.infer<typeof EmulatorFaultSchema>;

export interface AcceptedMessage {
  id: string;
  acceptedAt: string;
  /** E.164. */
  phone: string;
  countryCode: string;
  phoneNumber: string;
  callbackData: string | null;
  template: { name: string; languageCode: string };
  headerValues: string[];
  bodyValues: string[];
  buttonValues: Record<string, string[]>;
  fileName: string | null;
  /**
   * What the phone opens for each URL button, keyed by button index: the template's URL with the
   * dynamic `{{1}}` replaced by the value sent (how a CTA link is tried out locally).
   */
  buttonUrls: Record<string, string>;
  /** The last status a webhook was posted for. */
  status: 'Accepted' | 'Sent' | 'Delivered' | 'Read' | 'Failed';
}

export interface RecordedRequest {
  seq: number;
  at: string;
  method: string;
  /** Path and query as received. */
  path: string;
  /** Lower-cased names; `authorization` keeps only its scheme. */
  headers: Record<string, string>;
  /** Whether the Authorization header carried exactly `Basic <apiKey>`. */
  authorized: boolean;
  body: unknown;
  /** Null while the response is held, or when the client left before it was sent. */
  responseStatus: number | null;
  responseBody?: unknown;
}

/** Status webhooks, and `message_received` for a customer's message (deliverInbound). */
export type EmulatorWebhookType = InteraktWebhookType | 'message_received';

export interface WebhookDelivery {
  seq: number;
  at: string;
  messageId: string;
  type: EmulatorWebhookType;
  url: string;
  /** Exactly the bytes posted (what the signature covers). */
  rawBody: string;
  signature: string | null;
  /** Receiver's HTTP status, or null when it could not be reached. */
  responseStatus: number | null;
  error: string | null;
}

export interface WebhookSettings {
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  webhookDelaysMs?: WebhookDelays;
  autoWebhooks?: boolean;
}

export interface DeliverWebhookOptions {
  /** For `message_api_failed`. */
  failureReason?: string;
  errorCode?: string;
}

export interface InteraktEmulatorState {
  acceptedMessages(): AcceptedMessage[];
  requests(): RecordedRequest[];
  webhookDeliveries(): WebhookDelivery[];
  templates(): StoredTemplate[];
  pendingFaults(): EmulatorFault[];
  injectFault(fault: EmulatorFault): void;
  upsertTemplate(template: EmulatorTemplate): StoredTemplate;
  /** Deletes a template, as deleting it on Interakt would; false when there was none. */
  removeTemplate(name: string, language: string): boolean;
  configureWebhooks(settings: WebhookSettings): void;
  /** Posts one webhook now, whatever was posted before: duplicates and out-of-order on purpose. */
  deliverWebhook(
    messageId: string,
    type: InteraktWebhookType,
    options?: DeliverWebhookOptions,
  ): Promise<WebhookDelivery>;
  /**
   * Posts a `message_received` webhook now, as if the customer with this phone (E.164, or digits
   * with country code) wrote `text`. Pass `messageId` to redeliver the same inbound message.
   */
  deliverInbound(phone: string, text: string, options?: { messageId?: string }): Promise<WebhookDelivery>;
  /** Back to the state right after creation: records, faults, templates, settings; pending webhooks dropped. */
  reset(): void;
}

export interface InteraktEmulator {
  app: express.Express;
  listen(port?: number, host?: string): Promise<ListeningEmulator>;
  state: InteraktEmulatorState;
  reset(): void;
}

interface MessageRecord extends AcceptedMessage {
  customerId: string;
  templateRow: Record<string, unknown>;
  sentAt: string | null;
  deliveredAt: string | null;
  seenAt: string | null;
}

interface QueuedFault {
  fault: EmulatorFault;
  remaining: number;
}

const SendBodySchema = z.object({
  countryCode: z.string().optional(),
  phoneNumber: z.string().optional(),
  fullPhoneNumber: z.string().optional(),
  callbackData: z.string().optional(),
  type: z.string({ error: 'type is required' }),
  campaignId: z.string().optional(),
  template_category: z.string().optional(),
  template: z
    .object({
      name: z.string({ error: 'template.name is required' }).min(1, 'template.name is required'),
      languageCode: z
        .string({ error: 'template.languageCode is required' })
        .min(1, 'template.languageCode is required'),
      headerValues: z.array(z.string()).optional(),
      fileName: z.string().optional(),
      bodyValues: z.array(z.string()).optional(),
      buttonValues: z.record(z.string(), z.array(z.string())).optional(),
    })
    .optional(),
});
type SendBody = z.infer<typeof SendBodySchema>;

const SESSION_MESSAGE_TYPES = new Set([
  'Text',
  'Image',
  'Document',
  'Video',
  'Audio',
  'Sticker',
  'InteractiveButton',
  'InteractiveList',
]);

const WEBHOOK_STATUS: Record<InteraktWebhookType, AcceptedMessage['status']> = {
  message_api_sent: 'Sent',
  message_api_delivered: 'Delivered',
  message_api_read: 'Read',
  message_api_failed: 'Failed',
};

const WebhookTypeSchema = z.enum([
  'message_api_sent',
  'message_api_delivered',
  'message_api_read',
  'message_api_failed',
]);

const SettingsSchema = z.object({
  webhookUrl: z.url().nullable().optional(),
  webhookSecret: z.string().nullable().optional(),
  webhookDelaysMs: z
    .object({ sent: z.number().nonnegative(), delivered: z.number().nonnegative(), read: z.number().nonnegative() })
    .optional(),
  autoWebhooks: z.boolean().optional(),
});

export function createInteraktEmulator(options: InteraktEmulatorOptions): InteraktEmulator {
  const initialSettings = {
    webhookUrl: options.webhookUrl,
    webhookSecret: options.webhookSecret,
    webhookDelaysMs: options.webhookDelaysMs ?? { sent: 200, delivered: 500, read: 1000 },
    autoWebhooks: options.autoWebhooks ?? true,
  };
  const pageSize = options.templatePageSize ?? 100;

  let settings = { ...initialSettings };
  let messages = new Map<string, MessageRecord>();
  let requestLog: RecordedRequest[] = [];
  let deliveries: WebhookDelivery[] = [];
  let faults: QueuedFault[] = [];
  let templates = seedTemplates();
  let customerIds = new Map<string, string>();
  let requestSeq = 0;
  let deliverySeq = 0;
  // Aborted on reset and close, so timers and in-flight webhooks of an old run never leak into the next.
  let lifecycle = new AbortController();

  function seedTemplates(): Map<string, StoredTemplate> {
    const seeded = new Map<string, StoredTemplate>();
    const cta = options.ctaBaseUrl === undefined ? [] : ctaEmulatorTemplates(options.ctaBaseUrl);
    const defaults = options.includeDefaultTemplates === false ? [] : [...DEFAULT_EMULATOR_TEMPLATES, ...cta];
    const all = [...defaults, ...(options.templates ?? [])];
    for (const template of all) {
      const key = templateKey(template.name, template.language);
      seeded.set(key, storeTemplate(template, seeded.get(key)));
    }
    return seeded;
  }

  function stopPendingWork(): void {
    lifecycle.abort();
    lifecycle = new AbortController();
  }

  const state: InteraktEmulatorState = {
    acceptedMessages: () => [...messages.values()].map(publicMessage),
    requests: () => structuredClone(requestLog),
    webhookDeliveries: () => structuredClone(deliveries),
    templates: () => structuredClone([...templates.values()]),
    pendingFaults: () => faults.map(({ fault, remaining }) => ({ ...fault, times: remaining })),
    injectFault(fault) {
      const parsed = EmulatorFaultSchema.parse(fault);
      faults.push({ fault: parsed, remaining: parsed.times ?? 1 });
    },
    upsertTemplate(template) {
      const key = templateKey(template.name, template.language);
      const stored = storeTemplate(template, templates.get(key));
      templates.set(key, stored);
      return structuredClone(stored);
    },
    removeTemplate(name, language) {
      return templates.delete(templateKey(name, language));
    },
    configureWebhooks(update) {
      settings = { ...settings, ...update };
    },
    deliverWebhook,
    deliverInbound,
    reset() {
      stopPendingWork();
      settings = { ...initialSettings };
      messages = new Map();
      requestLog = [];
      deliveries = [];
      faults = [];
      templates = seedTemplates();
      customerIds = new Map();
    },
  };

  // ------------------------------------------------------------------------------------------
  // Webhooks

  async function deliverWebhook(
    messageId: string,
    type: InteraktWebhookType,
    deliverOptions: DeliverWebhookOptions = {},
  ): Promise<WebhookDelivery> {
    const message = messages.get(messageId);
    if (!message) throw new EmulatorNotFound(`No accepted message with id ${messageId}`);
    return postWebhook(messageId, type, JSON.stringify(buildWebhook(message, type, deliverOptions)));
  }

  async function deliverInbound(
    phone: string,
    text: string,
    inboundOptions: { messageId?: string } = {},
  ): Promise<WebhookDelivery> {
    const digits = phone.replace(/\D/g, '');
    const parsed = parsePhoneNumberFromString(`+${digits}`);
    if (!parsed) throw new EmulatorConflict(`Not a phone number: ${phone}`);
    const id = inboundOptions.messageId ?? randomUUID();
    const now = utcTimestamp();
    const body = {
      version: '1.0',
      timestamp: now,
      type: 'message_received',
      data: {
        customer: {
          id: customerIdFor(parsed.number),
          channel_phone_number: digits,
          phone_number: parsed.nationalNumber,
          country_code: `+${parsed.countryCallingCode}`,
          traits: {},
        },
        message: {
          id,
          chat_message_type: 'CustomerMessage',
          message_content_type: 'Text',
          message: text,
          media_url: null,
          is_template_message: false,
          received_at_utc: now,
          message_status: 'Delivered',
        },
      },
    };
    return postWebhook(id, 'message_received', JSON.stringify(body));
  }

  async function postWebhook(messageId: string, type: EmulatorWebhookType, rawBody: string): Promise<WebhookDelivery> {
    const url = settings.webhookUrl;
    if (!url) throw new EmulatorConflict('No webhook URL configured');

    const signature = settings.webhookSecret ? signInteraktWebhook(rawBody, settings.webhookSecret) : null;
    const delivery: WebhookDelivery = {
      seq: ++deliverySeq,
      at: new Date().toISOString(),
      messageId,
      type,
      url,
      rawBody,
      signature,
      responseStatus: null,
      error: null,
    };
    deliveries.push(delivery);

    const headers = {
      'User-Agent': 'Interakt-Emulator/1.0',
      ...(signature ? { [INTERAKT_SIGNATURE_HEADER]: signature } : {}),
    };
    Object.assign(delivery, await postWebhookBody(url, rawBody, headers, lifecycle.signal, WEBHOOK_TIMEOUT_MS));
    return structuredClone(delivery);
  }

  function buildWebhook(
    message: MessageRecord,
    type: InteraktWebhookType,
    extra: DeliverWebhookOptions,
  ): InteraktStatusWebhook {
    const now = utcTimestamp();
    const status = WEBHOOK_STATUS[type];
    if (type === 'message_api_sent') message.sentAt ??= now;
    if (type === 'message_api_delivered') message.deliveredAt ??= now;
    if (type === 'message_api_read') message.seenAt ??= now;
    message.status = status;
    const failed = type === 'message_api_failed';

    return {
      version: '1.0',
      timestamp: now,
      type,
      data: {
        customer: {
          id: message.customerId,
          channel_phone_number: message.phone.slice(1),
          phone_number: message.phoneNumber,
          country_code: message.countryCode,
          traits: {},
        },
        message: {
          id: message.id,
          chat_message_type: 'PublicApiMessage',
          channel_failure_reason: failed ? (extra.failureReason ?? 'Recipient is not a valid WhatsApp user') : null,
          channel_error_code: failed ? (extra.errorCode ?? '1013') : null,
          message_status: status,
          received_at_utc: message.acceptedAt,
          delivered_at_utc: message.deliveredAt,
          seen_at_utc: message.seenAt,
          campaign_id: null,
          is_template_message: true,
          message_content_type: 'Template',
          media_url: null,
          message: JSON.stringify(templateComponents(message)),
          raw_template: JSON.stringify(message.templateRow),
          meta_data: {
            source: 'PublicAPI',
            source_data: { callback_data: message.callbackData, source_type: 'PublicAPI' },
          },
        },
      },
    };
  }

  async function runAutoWebhooks(messageId: string, acceptedAtMs: number): Promise<void> {
    const signal = lifecycle.signal;
    const delays = settings.webhookDelaysMs;
    // One chain per message: each webhook waits for the previous post, so the order holds even with zero delays.
    const steps: Array<[InteraktWebhookType, number]> = [
      ['message_api_sent', delays.sent],
      ['message_api_delivered', delays.delivered],
      ['message_api_read', delays.read],
    ];
    for (const [type, delay] of steps) {
      await sleep(acceptedAtMs + delay - Date.now(), signal);
      if (signal.aborted || !settings.autoWebhooks || !settings.webhookUrl) return;
      await deliverWebhook(messageId, type);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sends

  function takeFault(body: unknown): EmulatorFault | undefined {
    const phoneDigits = requestPhoneDigits(body);
    const index = faults.findIndex(({ fault }) => {
      const wanted = fault.match?.phone?.replace(/\D/g, '');
      return !wanted || wanted === phoneDigits;
    });
    if (index === -1) return undefined;
    const queued = faults[index]!;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults.splice(index, 1);
    return queued.fault;
  }

  function customerIdFor(phone: string): string {
    let customerId = customerIds.get(phone);
    if (!customerId) {
      customerId = randomUUID();
      customerIds.set(phone, customerId);
    }
    return customerId;
  }

  function accept(send: ValidSend): MessageRecord {
    const id = randomUUID();
    const customerId = customerIdFor(send.phone);
    const record: MessageRecord = {
      ...send,
      id,
      acceptedAt: utcTimestamp(),
      status: 'Accepted',
      customerId,
      sentAt: null,
      deliveredAt: null,
      seenAt: null,
    };
    messages.set(id, record);
    if (settings.autoWebhooks && settings.webhookUrl) {
      void runAutoWebhooks(id, Date.now()).catch(() => undefined);
    }
    return record;
  }

  function validateSend(raw: unknown): { ok: true; send: ValidSend } | { ok: false; reason: string } {
    const parsed = SendBodySchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        reason: issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'Invalid request body',
      };
    }
    const body = parsed.data;
    const phone = validatePhone(body);
    if (!phone.ok) return phone;

    if (body.callbackData !== undefined && body.callbackData.length > INTERAKT_CALLBACK_DATA_MAX) {
      return { ok: false, reason: `callbackData must be at most ${INTERAKT_CALLBACK_DATA_MAX} characters` };
    }
    if (SESSION_MESSAGE_TYPES.has(body.type)) {
      // The emulator has no inbound messages, so no customer is ever inside the 24-hour window.
      return { ok: false, reason: 'Customer has not messaged within last 24 hours' };
    }
    if (body.type !== 'Template') return { ok: false, reason: `Invalid message type ${body.type}` };
    if (!body.template) return { ok: false, reason: 'template is required for type Template' };

    const { name, languageCode } = body.template;
    const template = templates.get(templateKey(name, languageCode));
    if (!template || template.approvalStatus !== 'APPROVED') {
      return {
        ok: false,
        reason: `No approved template found with name ${name} and language ${languageCode}. Please re-sync on Interakt dashboard`,
      };
    }
    const values = validateTemplateValues(template, body.template);
    if (!values.ok) return values;

    return {
      ok: true,
      send: {
        ...phone.value,
        callbackData: body.callbackData ?? null,
        template: { name, languageCode },
        headerValues: body.template.headerValues ?? [],
        bodyValues: body.template.bodyValues ?? [],
        buttonValues: body.template.buttonValues ?? {},
        fileName: body.template.fileName ?? null,
        buttonUrls: renderButtonUrls(template, body.template.buttonValues ?? {}),
        templateRow: templateListRow(template),
      },
    };
  }

  async function handleSend(req: Request, res: Response): Promise<void> {
    if (!isAuthorized(req, options.apiKey)) {
      res.status(401).json({ result: false, message: 'Invalid token provided' });
      return;
    }
    const fault = takeFault(req.body);

    switch (fault?.kind) {
      case 'http_5xx': {
        const status = fault.status ?? 500;
        // Gateways in front of the API answer 502/503 with HTML, not JSON.
        if (status === 500) {
          res.status(500).json({ result: false, message: 'Internal Server Error' });
        } else {
          const title = status === 502 ? 'Bad Gateway' : 'Service Unavailable';
          res.status(status).type('html').send(`<html><body><h1>${status} ${title}</h1></body></html>`);
        }
        return;
      }
      case 'rate_limit':
        if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
        res.status(429).json({ result: false, message: 'Rate limit exceeded for this resource' });
        return;
      case 'permanent':
        res.status(400).json({
          result: false,
          message: fault.message ?? `${CORRECT_THE_FOLLOWING}Customer is not available for the organization`,
        });
        return;
      case 'timeout':
        if (await holdResponse(res, fault.ms ?? DEFAULT_HOLD_MS)) {
          res.status(504).json({ result: false, message: 'Gateway Timeout' });
        }
        return;
      case 'accept_then_timeout':
      case undefined:
        break;
    }

    const validated = validateSend(req.body);
    const accepted = validated.ok ? accept(validated.send) : undefined;
    if (fault?.kind === 'accept_then_timeout' && !(await holdResponse(res, fault.ms ?? DEFAULT_HOLD_MS))) return;
    if (!accepted) {
      res
        .status(400)
        .json({ result: false, message: `${CORRECT_THE_FOLLOWING}${validated.ok ? '' : validated.reason}` });
      return;
    }
    res.status(201).json({ result: true, message: 'Message created successfully', id: accepted.id });
  }

  // ------------------------------------------------------------------------------------------
  // Routes

  const app = express();
  app.disable('x-powered-by');
  app.use(recordRequests);
  app.use(express.json({ limit: '1mb' }));
  app.use((req, res, next) => {
    const entry = res.locals.recorded as RecordedRequest | undefined;
    if (entry) entry.body = req.body ?? null;
    next();
  });

  const api = express.Router();
  api.post('/message/', handleSend);
  api.get('/track/organization/templates', (req, res) => {
    if (!isAuthorized(req, options.apiKey)) {
      res.status(401).json({ result: false, message: 'Invalid token provided' });
      return;
    }
    const offset = Number(req.query.offset ?? 0);
    if (!Number.isInteger(offset) || offset < 0) {
      res.status(400).json({ result: false, message: `${CORRECT_THE_FOLLOWING}offset must be a non-negative integer` });
      return;
    }
    // Without approval_status Interakt lists approved templates only, and `all` is no status: a
    // client that wants every template asks for each status (UNCONFIRMED exactly how the real API
    // words the refusal).
    const approval = typeof req.query.approval_status === 'string' ? req.query.approval_status : 'APPROVED';
    if (!(INTERAKT_TEMPLATE_STATUSES as readonly string[]).includes(approval)) {
      res.status(400).json({
        result: false,
        message: `${CORRECT_THE_FOLLOWING}approval_status must be one of ${INTERAKT_TEMPLATE_STATUSES.join(', ')}`,
      });
      return;
    }
    const language = typeof req.query.language === 'string' ? req.query.language : 'all';
    const matching = [...templates.values()].filter(
      (template) => template.approvalStatus === approval && (language === 'all' || template.language === language),
    );
    const page = matching.slice(offset, offset + pageSize);
    res.json({
      count: matching.length,
      has_next: offset + page.length < matching.length,
      results: { templates: page.map(templateListRow) },
    });
  });
  api.use((_req, res) => {
    res.status(404).json({ result: false, message: 'Not found' });
  });
  app.use(INTERAKT_API_PREFIX, api);

  const control = express.Router();
  control.get('/health', (_req, res) => {
    res.json({ ok: true, emulator: 'interakt', acceptedMessages: messages.size });
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
      .object({
        messageId: z.string().min(1),
        type: WebhookTypeSchema,
        failureReason: z.string().optional(),
        errorCode: z.string().optional(),
      })
      .parse(req.body);
    const { messageId, type, ...extra } = body;
    res.json({ delivery: await deliverWebhook(messageId, type, extra) });
  });
  control.post('/inbound', async (req, res) => {
    const body = z
      .object({ phone: z.string().min(1), text: z.string(), messageId: z.string().min(1).optional() })
      .parse(req.body);
    res.json({
      delivery: await deliverInbound(body.phone, body.text, body.messageId ? { messageId: body.messageId } : {}),
    });
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
    const parsed = z.array(EmulatorFaultSchema).parse(list);
    for (const fault of parsed) state.injectFault(fault);
    res.status(201).json({ faults: state.pendingFaults() });
  });
  control.post('/templates', (req, res) => {
    const template = EmulatorTemplateSchema.parse(req.body);
    res.json({ template: templateListRow(state.upsertTemplate(template)) });
  });
  control.delete('/templates/:name/:language', (req, res) => {
    const { name, language } = req.params;
    if (!state.removeTemplate(name, language)) throw new EmulatorNotFound(`No template ${name} (${language})`);
    res.json({ removed: { name, language } });
  });
  control.post('/settings', (req, res) => {
    const update = SettingsSchema.parse(req.body);
    state.configureWebhooks({
      ...(update.webhookUrl !== undefined ? { webhookUrl: update.webhookUrl ?? undefined } : {}),
      ...(update.webhookSecret !== undefined ? { webhookSecret: update.webhookSecret ?? undefined } : {}),
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

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (req.path.startsWith(INTERAKT_API_PREFIX)) {
      const entry = res.locals.recorded as RecordedRequest | undefined;
      if (entry && isBodyParseError(error)) entry.body = null;
      if (isBodyParseError(error)) {
        res.status(400).json({ result: false, message: `${CORRECT_THE_FOLLOWING}Invalid JSON body` });
      } else {
        res.status(500).json({ result: false, message: 'Internal Server Error' });
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
    if (!req.path.startsWith(`${INTERAKT_API_PREFIX}/`)) {
      next();
      return;
    }
    const entry: RecordedRequest = {
      seq: ++requestSeq,
      at: new Date().toISOString(),
      method: req.method,
      path: req.originalUrl,
      headers: maskHeaders(req.headers),
      authorized: isAuthorized(req, options.apiKey),
      body: null,
      responseStatus: null,
    };
    const log = requestLog;
    log.push(entry);
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

type ValidSend = Omit<
  MessageRecord,
  'id' | 'acceptedAt' | 'status' | 'customerId' | 'sentAt' | 'deliveredAt' | 'seenAt'
>;

class EmulatorNotFound extends Error {}
class EmulatorConflict extends Error {}

function publicMessage(record: MessageRecord): AcceptedMessage {
  return structuredClone({
    id: record.id,
    acceptedAt: record.acceptedAt,
    phone: record.phone,
    countryCode: record.countryCode,
    phoneNumber: record.phoneNumber,
    callbackData: record.callbackData,
    template: record.template,
    headerValues: record.headerValues,
    bodyValues: record.bodyValues,
    buttonValues: record.buttonValues,
    buttonUrls: record.buttonUrls,
    fileName: record.fileName,
    status: record.status,
  });
}

function validatePhone(
  body: SendBody,
): { ok: true; value: { phone: string; countryCode: string; phoneNumber: string } } | { ok: false; reason: string } {
  const hasSplit = body.countryCode !== undefined || body.phoneNumber !== undefined;
  if (hasSplit && body.fullPhoneNumber !== undefined) {
    return { ok: false, reason: 'Provide either fullPhoneNumber or countryCode and phoneNumber, not both' };
  }
  let digits: string;
  if (body.fullPhoneNumber !== undefined) {
    if (!/^\d{6,15}$/.test(body.fullPhoneNumber)) {
      return { ok: false, reason: 'fullPhoneNumber must be the country code and number, digits only, without +' };
    }
    digits = body.fullPhoneNumber;
  } else {
    if (body.countryCode === undefined || body.phoneNumber === undefined) {
      return { ok: false, reason: 'countryCode and phoneNumber (or fullPhoneNumber) are required' };
    }
    if (!/^\+\d{1,4}$/.test(body.countryCode)) return { ok: false, reason: 'countryCode must look like +91' };
    if (!/^\d{4,14}$/.test(body.phoneNumber)) return { ok: false, reason: 'phoneNumber must contain digits only' };
    if (body.phoneNumber.startsWith('0')) {
      return { ok: false, reason: 'phoneNumber must be the national number without a leading 0' };
    }
    digits = `${body.countryCode.slice(1)}${body.phoneNumber}`;
  }
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed || !parsed.isValid()) return { ok: false, reason: `Invalid phone number +${digits}` };
  if (body.countryCode !== undefined && body.countryCode !== `+${parsed.countryCallingCode}`) {
    return { ok: false, reason: `phoneNumber ${body.phoneNumber} does not belong to country code ${body.countryCode}` };
  }
  return {
    ok: true,
    value: { phone: parsed.number, countryCode: `+${parsed.countryCallingCode}`, phoneNumber: parsed.nationalNumber },
  };
}

function validateTemplateValues(
  template: StoredTemplate,
  sent: NonNullable<SendBody['template']>,
): { ok: true } | { ok: false; reason: string } {
  const label = `Template ${template.name} (${template.language})`;
  const bodyValues = sent.bodyValues ?? [];
  const expectedBody = countVariables(template.body);
  if (bodyValues.length !== expectedBody) {
    return { ok: false, reason: `${label} expects ${expectedBody} body values, received ${bodyValues.length}` };
  }
  if (bodyValues.some((value) => value.trim() === '')) {
    return { ok: false, reason: `${label}: body values must not be empty` };
  }

  const headerValues = sent.headerValues ?? [];
  const header = template.header;
  const expectedHeader = !header ? 0 : header.format === 'TEXT' ? countVariables(header.text) : 1;
  if (headerValues.length !== expectedHeader) {
    return { ok: false, reason: `${label} expects ${expectedHeader} header values, received ${headerValues.length}` };
  }
  if (header && header.format !== 'TEXT' && !/^https?:\/\//.test(headerValues[0] ?? '')) {
    return { ok: false, reason: `${label} has a ${header.format} header: headerValues[0] must be the media URL` };
  }

  // Interakt keys buttons by their index among all the template's buttons, not among dynamic ones.
  const buttons = template.buttons ?? [];
  const buttonValues = sent.buttonValues ?? {};
  for (const [index, button] of buttons.entries()) {
    if (button.type === 'URL' && countVariables(button.url) > 0 && !buttonValues[String(index)]?.length) {
      return { ok: false, reason: `${label}: button ${index} has a dynamic URL and needs buttonValues["${index}"]` };
    }
  }
  for (const key of Object.keys(buttonValues)) {
    if (!/^\d+$/.test(key) || Number(key) >= buttons.length) {
      return { ok: false, reason: `${label} has no button at index ${key}` };
    }
  }
  return { ok: true };
}

function templateComponents(message: MessageRecord): unknown[] {
  const text = (value: string): { type: 'text'; text: string } => ({ type: 'text', text: value });
  const components: unknown[] = [];
  if (message.headerValues.length > 0) components.push({ type: 'header', parameters: message.headerValues.map(text) });
  if (message.bodyValues.length > 0) components.push({ type: 'body', parameters: message.bodyValues.map(text) });
  for (const [index, values] of Object.entries(message.buttonValues)) {
    components.push({ type: 'button', index, parameters: values.map(text) });
  }
  return components;
}

function requestPhoneDigits(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.fullPhoneNumber === 'string') return fields.fullPhoneNumber.replace(/\D/g, '');
  if (typeof fields.countryCode === 'string' && typeof fields.phoneNumber === 'string') {
    return `${fields.countryCode}${fields.phoneNumber}`.replace(/\D/g, '');
  }
  return undefined;
}

function isAuthorized(req: Request, apiKey: string): boolean {
  return req.headers.authorization?.trim() === `Basic ${apiKey}`;
}
