/**
 * `npm run emulator`: a local provider EMULATOR, a development stand-in for api.interakt.ai
 * (default) or, with `--provider meta`, for the Meta WhatsApp Cloud API (graph.facebook.com).
 * Flags: --port <n> (default EMULATOR_PORT), --host <h> (default 127.0.0.1),
 * --webhook-url <url>, --webhook-secret <s> (Interakt: default INTERAKT_WEBHOOK_SECRET; Meta: the
 * App Secret that signs webhooks), --provider interakt|meta. The Meta emulator accepts the access
 * token `emulator-token` and phone number id 100000000000001.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createInteraktEmulator, INTERAKT_API_PREFIX } from './interakt';
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
    },
    strict: true,
  });

  const port = values.port === undefined ? config.EMULATOR_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, got "${values.port}"`);

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
  } else if (values.provider === 'interakt') {
    const emulator = createInteraktEmulator({
      apiKey: config.INTERAKT_API_KEY ?? 'emulator-key',
      webhookUrl: values['webhook-url'],
      webhookSecret: values['webhook-secret'] ?? config.INTERAKT_WEBHOOK_SECRET,
    });
    server = await emulator.listen(port, host);
    console.log(
      `Local Interakt EMULATOR (development stand-in, not the real Interakt) at ${server.url}${INTERAKT_API_PREFIX}${webhooks}`,
    );
  } else {
    throw new Error(`--provider must be interakt or meta, got "${values.provider}"`);
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
