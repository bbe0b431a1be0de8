import { z } from 'zod';

/**
 * The highest provider limit a worker takes (Meta's highest throughput tier is 1,000 messages a
 * second): the send-window ledger holds a row for each send of a sender's minute.
 */
const MAX_SENDS_PER_SECOND = 1000;

/**
 * The only reader of the environment. Every entry point calls `loadConfig()` once and passes the
 * values it needs down; workflows never see config, they get values as input.
 */
const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /**
     * `json` (one JSON object per line) or `pretty` (one readable line per event). Unset: pretty when
     * stdout is a terminal, else JSON; `npm start` asks its children for pretty. Never pretty in production.
     */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),

    /** `file:<path>` (SQLite, the default) or `mssql://user:pass@host:1433/db?encrypt=false` (SQL Server). */
    DATABASE_URL: z.string().min(1).default('file:data/dripline.db'),

    TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('dripline'),
    TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),

    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: z.coerce.number().int().positive().default(3000),
    /** Where leads' phones and providers reach the API (webhook and CTA URLs are built from it). */
    PUBLIC_BASE_URL: z.url().optional(),
    /**
     * `GET /metrics` (Prometheus) on the API port, without an API key: it holds no personal data,
     * only counts and durations. Turn it off, or keep /metrics off the public route of the load
     * balancer, where the API port faces the internet.
     */
    API_METRICS_ENABLED: z.stringbool().default(true),

    /** The worker's Prometheus endpoint (process metrics, sends): its own port, 0 disables. */
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
    /** The Temporal SDK's own worker metrics (polls, task latencies, slots), served by the SDK on this port; 0 disables. */
    WORKER_TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),

    /** Real Interakt credentials. When absent, `npm start` runs the local emulator instead. */
    INTERAKT_API_KEY: z.string().min(1).optional(),
    INTERAKT_BASE_URL: z.url().default('https://api.interakt.ai/v1/public'),
    INTERAKT_WEBHOOK_SECRET: z.string().min(1).optional(),
    /** Sends per second for the whole Interakt account: paced by the Temporal server, held by the send-window ledger. */
    INTERAKT_SENDS_PER_SECOND: z.coerce.number().positive().max(MAX_SENDS_PER_SECOND).default(4.5),
    /** The sending provider of this deployment. */
    MESSAGING_PROVIDER: z.enum(['interakt', 'meta', 'infobip']).default('interakt'),
    /** Meta WhatsApp Cloud API (when MESSAGING_PROVIDER=meta). */
    META_ACCESS_TOKEN: z.string().min(1).optional(),
    META_PHONE_NUMBER_ID: z.string().min(1).optional(),
    /** More phone number ids of the same WhatsApp Business Account, comma-separated: senders a sequence or CTA flow may name. */
    META_EXTRA_PHONE_NUMBER_IDS: z
      .string()
      .regex(/^\s*(\d{1,30}\s*(,\s*\d{1,30}\s*)*)?$/, 'must be phone number ids, comma-separated')
      .optional(),
    META_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/)
      .default('v21.0'),
    META_GRAPH_BASE_URL: z.url().default('https://graph.facebook.com'),
    /** The WhatsApp Business Account whose templates are synced (`GET /<WABA_ID>/message_templates`) and submitted to. */
    META_WABA_ID: z
      .string()
      .regex(/^\d{1,30}$/, 'must be the numeric WhatsApp Business Account id')
      .optional(),
    META_APP_SECRET: z.string().min(1).optional(),
    META_WEBHOOK_VERIFY_TOKEN: z.string().min(1).optional(),
    /** 75% of Meta's default 80 messages/s per number: inbound messages count against it too. */
    META_SENDS_PER_SECOND: z.coerce.number().positive().max(MAX_SENDS_PER_SECOND).default(60),
    /** Infobip: the account's own base URL (default: the local emulator), `App` API key, WhatsApp sender. */
    INFOBIP_BASE_URL: z.url().default('http://127.0.0.1:4020'),
    INFOBIP_API_KEY: z.string().min(1).optional(),
    INFOBIP_WHATSAPP_SENDER: z
      .string()
      .regex(/^\+?\d{6,15}$/, 'must be the sender number in international format')
      .optional(),
    /** More registered WhatsApp senders of the account, comma-separated: senders a sequence or CTA flow may name. */
    INFOBIP_EXTRA_WHATSAPP_SENDERS: z
      .string()
      .regex(
        /^\s*(\+?\d{6,15}\s*(,\s*\+?\d{6,15}\s*)*)?$/,
        'must be sender numbers in international format, comma-separated',
      )
      .optional(),
    /**
     * Sends per second for the Infobip account: paced by the Temporal server, held by the send-window ledger.
     * Infobip's endpoint takes far more; Meta's 80 messages/s per number still applies underneath (§2.6).
     */
    INFOBIP_SENDS_PER_SECOND: z.coerce.number().positive().max(MAX_SENDS_PER_SECOND).default(60),
    /**
     * A per-deployment secret (32 to 128 URL-safe characters) that turns on per-message
     * `notifyUrl`s: each message's reports go to `<PUBLIC_BASE_URL>/webhooks/infobip/notify/<secret>`,
     * the secret compared in constant time. Reports sent to a notifyUrl carry no credentials (the
     * subscription's BASIC ones below go only with the subscription's own URL), so the path is what
     * authenticates them. Without it, reports go to the account's subscription.
     */
    INFOBIP_NOTIFY_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be 32 to 128 letters, digits, - or _ (it goes in a URL path)')
      .optional(),
    /** No longer read: see the refinement below. */
    INFOBIP_NOTIFY_URL: z.string().optional(),
    /** BASIC credentials Infobip's webhook subscription presents to /webhooks/infobip. */
    INFOBIP_WEBHOOK_USERNAME: z.string().min(1).optional(),
    INFOBIP_WEBHOOK_PASSWORD: z.string().min(1).optional(),
    INFOBIP_EMULATOR_PORT: z.coerce.number().int().positive().default(4020),
    /**
     * A scheduled Infobip sync starts this long before the last successful run ended: contacts
     * recorded upstream a little late (clock skew, slow attribute updates) are still seen.
     */
    INFOBIP_SYNC_SAFETY_MARGIN_MS: z.coerce
      .number()
      .int()
      .nonnegative()
      .default(15 * 60_000),
    /** How far back a sync without a given start reads when no run has succeeded yet. */
    INFOBIP_SYNC_INITIAL_LOOKBACK_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 60 * 60_000),
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    /** How long a send of unknown outcome waits for the provider's webhook before it is resent. */
    SEND_RECONCILE_WINDOW_MS: z.coerce.number().int().positive().default(120_000),

    EMULATOR_PORT: z.coerce.number().int().positive().default(4010),

    /** ISO 3166 country assumed for phone numbers typed without a country code. */
    DEFAULT_COUNTRY: z.string().length(2).default('IN'),

    /**
     * Encrypts secrets stored in MasterData (provider API keys, webhook secrets): 32 random bytes,
     * base64 (`openssl rand -base64 32`). Required in production. Elsewhere it may be absent: `npm
     * start` generates one into data/secret-key.txt and hands it to its children; a process started
     * without one runs, but refuses to store or read secrets.
     */
    DRIPLINE_SECRET_KEY: z
      .string()
      .refine((value) => /^[A-Za-z0-9+/_-]{43}=?$/.test(value) && Buffer.from(value, 'base64').length === 32, {
        message: 'must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)',
      })
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.INFOBIP_NOTIFY_URL) {
      // A notifyUrl pointing at /webhooks/infobip would get reports without the BASIC credentials
      // that endpoint checks: every one refused with 401, and lost.
      ctx.addIssue({
        code: 'custom',
        path: ['INFOBIP_NOTIFY_URL'],
        message:
          "is no longer supported: Infobip sends reports to a per-message notifyUrl without the subscription's BASIC credentials, so they would be refused; set INFOBIP_NOTIFY_SECRET instead (reports then go to <PUBLIC_BASE_URL>/webhooks/infobip/notify/<secret>), or neither to use the subscription",
      });
    }
    if (env.INFOBIP_NOTIFY_SECRET && env.NODE_ENV === 'production' && !env.PUBLIC_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_BASE_URL'],
        message: 'is required with INFOBIP_NOTIFY_SECRET: Infobip must reach the notify URL built from it',
      });
    }
    if (env.NODE_ENV === 'production' && env.LOG_FORMAT === 'pretty') {
      ctx.addIssue({
        code: 'custom',
        path: ['LOG_FORMAT'],
        message: 'must be json in production (log collectors read one JSON object per line)',
      });
    }
    if (env.NODE_ENV === 'production' && env.DRIPLINE_SECRET_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['DRIPLINE_SECRET_KEY'],
        message: 'is required in production (it encrypts the secrets stored in MasterData)',
      });
    }
  });

export type Config = z.infer<typeof EnvSchema>;

/** Variables read only to refuse them at start with what to set instead: never listed as settings. */
const REFUSED_VARIABLES: ReadonlySet<string> = new Set(['INFOBIP_NOTIFY_URL']);

/** Every variable this module reads as a setting: `.env.example` lists exactly these (test/config.test.ts). */
export const CONFIG_VARIABLES = (Object.keys(EnvSchema.shape) as (keyof Config)[]).filter(
  (name) => !REFUSED_VARIABLES.has(name),
);

export class ConfigError extends Error {
  readonly code = 'config_invalid';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function publicBaseUrl(config: Config): string {
  return (config.PUBLIC_BASE_URL ?? `http://localhost:${config.API_PORT}`).replace(/\/$/, '');
}

/**
 * The deployment's WhatsApp sender numbers: the default one (Meta's phone number id, Infobip's
 * sender, as digits) and the others a sequence or CTA flow may name. Interakt sends from the
 * account's one number, which the API does not name: no senders.
 */
export function deploymentSenders(config: Config): { default: string | null; others: string[] } {
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim().replace(/^\+/, ''))
      .filter((item) => item !== '');
  const pick = (first: string | undefined, more: string | undefined) => {
    const main = first?.replace(/^\+/, '') ?? null;
    return { default: main, others: [...new Set(list(more))].filter((sender) => sender !== main) };
  };
  if (config.MESSAGING_PROVIDER === 'meta')
    return pick(config.META_PHONE_NUMBER_ID, config.META_EXTRA_PHONE_NUMBER_IDS);
  if (config.MESSAGING_PROVIDER === 'infobip')
    return pick(config.INFOBIP_WHATSAPP_SENDER, config.INFOBIP_EXTRA_WHATSAPP_SENDERS);
  return { default: null, others: [] };
}

/** Where Infobip posts a message's reports when INFOBIP_NOTIFY_SECRET is set; its path is the credential. */
export function infobipNotifyUrl(config: Config): string | undefined {
  return config.INFOBIP_NOTIFY_SECRET
    ? `${publicBaseUrl(config)}/webhooks/infobip/notify/${config.INFOBIP_NOTIFY_SECRET}`
    : undefined;
}
