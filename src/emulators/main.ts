/**
 * `npm run emulator`: a local provider EMULATOR, a development stand-in for api.interakt.ai
 * (default), with `--provider meta` for the Meta WhatsApp Cloud API (graph.facebook.com), or with
 * `--provider infobip` for an Infobip account (People, SMS logs, WhatsApp template sends; default
 * port INFOBIP_EMULATOR_PORT, key INFOBIP_API_KEY or `emulator-key`, reports posted with the
 * INFOBIP_WEBHOOK_USERNAME/PASSWORD credentials; --people <n> and --sms-logs <n> generated records).
 * Flags: --port <n> (default EMULATOR_PORT), --host <h> (default 127.0.0.1),
 * --webhook-url <url>, --webhook-secret <s> (Interakt: default INTERAKT_WEBHOOK_SECRET; Meta: the
 * App Secret that signs webhooks), --provider interakt|meta. The Meta emulator accepts the access
 * token `emulator-token` and phone number id 100000000000001.
 */
import { parseArgs } from 'node:util';
import { loadConfig, publicBaseUrl } from '../config';
import { createInteraktEmulator, INTERAKT_API_PREFIX } from './interakt';
import { createInfobipEmulator, INFOBIP_EMULATOR_API_KEY, INFOBIP_EMULATOR_SENDER } from './infobip';
import { createMetaEmulator, META_EMULATOR_ACCESS_TOKEN, META_EMULATOR_PHONE_NUMBER_ID } from './meta';

async function main(): Promise<void> {
  const config = loadConfig();
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
      provider: { type: 'string', default: 'interakt' },
      people: { type: 'string', default: '1000' },
      'sms-logs': { type: 'string', default: '1000' },
    },
    strict: true,
  });

  const defaultPort = values.provider === 'infobip' ? config.INFOBIP_EMULATOR_PORT : config.EMULATOR_PORT;
  const port = values.port === undefined ? defaultPort : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port must be a port number, got "${values.port}"`);

  const host = values.host ?? '127.0.0.1';
  const webhooks = values['webhook-url'] ? `, webhooks to ${values['webhook-url']}` : ', no webhook URL';
  let server: { url: string; close(): Promise<void> };
  if (values.provider === 'meta') {
    const emulator = createMetaEmulator({
      accessToken: META_EMULATOR_ACCESS_TOKEN,
      phoneNumberId: META_EMULATOR_PHONE_NUMBER_ID,
      webhookUrl: values['webhook-url'],
      appSecret: values['webhook-secret'],
    });
    server = await emulator.listen(port, host);
    console.log(
      `Local Meta Cloud API EMULATOR (development stand-in, not the real Meta API) at ${server.url}, ` +
        `phone number id ${META_EMULATOR_PHONE_NUMBER_ID}${webhooks}`,
    );
  } else if (values.provider === 'infobip') {
    const count = (flag: 'people' | 'sms-logs'): number => {
      const value = Number(values[flag]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`--${flag} must be a count, got "${values[flag]}"`);
      return value;
    };
    const username = config.INFOBIP_WEBHOOK_USERNAME;
    const password = config.INFOBIP_WEBHOOK_PASSWORD;
    const emulator = createInfobipEmulator({
      apiKey: config.INFOBIP_API_KEY ?? INFOBIP_EMULATOR_API_KEY,
      whatsappSender: config.INFOBIP_WHATSAPP_SENDER ?? INFOBIP_EMULATOR_SENDER,
      webhookUrl: values['webhook-url'],
      webhookAuth: username && password ? { username, password } : undefined,
      people: { count: count('people') },
      smsLogs: { count: count('sms-logs') },
    });
    server = await emulator.listen(port, host);
    console.log(`Local Infobip EMULATOR (development stand-in, not the real Infobip) at ${server.url}${webhooks}`);
  } else if (values.provider === 'interakt') {
    const emulator = createInteraktEmulator({
      apiKey: config.INTERAKT_API_KEY ?? 'emulator-key',
      webhookUrl: values['webhook-url'],
      webhookSecret: values['webhook-secret'] ?? config.INTERAKT_WEBHOOK_SECRET,
      // The seeded CTA template's buttons open our click endpoint.
      ctaBaseUrl: publicBaseUrl(config),
    });
    server = await emulator.listen(port, host);
    console.log(
      `Local Interakt EMULATOR (development stand-in, not the real Interakt) at ${server.url}${INTERAKT_API_PREFIX}${webhooks}`,
    );
  } else {
    throw new Error(`--provider must be interakt, meta or infobip, got "${values.provider}"`);
  }

  const shutdown = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
