/**
 * `npm run emulator`: the local Interakt EMULATOR, a development stand-in for api.interakt.ai.
 * Flags: --port <n> (default EMULATOR_PORT), --host <h> (default 127.0.0.1),
 * --webhook-url <url>, --webhook-secret <s> (default INTERAKT_WEBHOOK_SECRET).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createInteraktEmulator, INTERAKT_API_PREFIX } from './interakt';

async function main(): Promise<void> {
  const config = loadConfig();
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-secret': { type: 'string' },
    },
    strict: true,
  });

  const port = values.port === undefined ? config.EMULATOR_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, got "${values.port}"`);

  const emulator = createInteraktEmulator({
    apiKey: config.INTERAKT_API_KEY ?? 'emulator-key',
    webhookUrl: values['webhook-url'],
    webhookSecret: values['webhook-secret'] ?? config.INTERAKT_WEBHOOK_SECRET,
  });
  const server = await emulator.listen(port, values.host ?? '127.0.0.1');
  const webhooks = values['webhook-url'] ? `, webhooks to ${values['webhook-url']}` : ', no webhook URL';
  console.log(
    `Local Interakt EMULATOR (development stand-in, not the real Interakt) at ${server.url}${INTERAKT_API_PREFIX}${webhooks}`,
  );

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
