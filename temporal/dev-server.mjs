#!/usr/bin/env node
/**
 * The local Temporal server (`npm run temporal:dev`, and the first child of `npm start`): the CLI
 * dev server persisted to data/temporal.db, with our search attributes and dynamic config. See
 * temporal/README.md for what each setting is for.
 *
 * Env: TEMPORAL_PORT (default 7233), TEMPORAL_UI_PORT (default 8233).
 */
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { TEMPORAL_CLI_PATH, DEV_SERVER_DB_PATH, REPO_ROOT } from './paths.cjs';
import { SEARCH_ATTRIBUTES, searchAttributeArgs, dynamicConfigArgs, sqlitePragmaArgs } from './dev-server-settings.cjs';

const execFileAsync = promisify(execFile);

const IP = '127.0.0.1';
const NAMESPACE = 'default';
const PORT = parsePort('TEMPORAL_PORT', 7233);
const UI_PORT = parsePort('TEMPORAL_UI_PORT', 8233);
const ADDRESS = `${IP}:${PORT}`;
const READY_TIMEOUT_MS = 60_000;

if (!fs.existsSync(TEMPORAL_CLI_PATH)) {
  console.error(
    `Temporal CLI not found at ${path.relative(REPO_ROOT, TEMPORAL_CLI_PATH)}: run \`npm run setup\` first.`,
  );
  process.exit(1);
}
fs.mkdirSync(path.dirname(DEV_SERVER_DB_PATH), { recursive: true });

const server = spawn(
  TEMPORAL_CLI_PATH,
  [
    'server',
    'start-dev',
    '--db-filename',
    DEV_SERVER_DB_PATH,
    '--ip',
    IP,
    '--port',
    String(PORT),
    '--ui-port',
    String(UI_PORT),
    '--namespace',
    NAMESPACE,
    ...sqlitePragmaArgs(),
    ...dynamicConfigArgs(),
    ...searchAttributeArgs(),
    '--log-level',
    'warn',
    '--color',
    'never',
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);

let stopping = false;

// While stopping, the server logs a burst of "context canceled" errors from its own internal
// pollers; they say nothing about our system, so they are dropped rather than alarming anyone.
for (const [stream, out] of [
  [server.stdout, process.stdout],
  [server.stderr, process.stderr],
]) {
  readline.createInterface({ input: stream }).on('line', (line) => {
    if (!stopping) out.write(`${line}\n`);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.kill(signal);
  });
}

server.on('error', (error) => {
  console.error(`Could not start the Temporal CLI: ${error.message}`);
  process.exit(1);
});

server.on('exit', (code, signal) => {
  if (stopping) process.exit(0);
  console.error(`Temporal dev server exited unexpectedly (${signal ?? `code ${code}`}).`);
  process.exit(code || 1);
});

try {
  await waitUntilHealthy();
  await registerMissingSearchAttributes();
  console.log(
    `Temporal dev server ready: gRPC ${ADDRESS}, UI http://${IP}:${UI_PORT}, state in ${path.relative(REPO_ROOT, DEV_SERVER_DB_PATH)}`,
  );
} catch (error) {
  if (!stopping) {
    console.error(error instanceof Error ? error.message : String(error));
    stopping = true;
    server.kill('SIGTERM');
    process.exitCode = 1;
  }
}

async function waitUntilHealthy() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (stopping) return;
    try {
      await cli(['operator', 'cluster', 'health']);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `Temporal dev server not healthy at ${ADDRESS} after ${READY_TIMEOUT_MS / 1000}s: ${error.message}`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * `--search-attribute` only takes effect when the SQLite file is first created: with an existing
 * data/temporal.db, attributes added to the list later are silently ignored. Registering whatever
 * is missing through the operator API makes an old database catch up.
 */
async function registerMissingSearchAttributes() {
  if (stopping) return;
  const { stdout } = await cli(['operator', 'search-attribute', 'list', '--output', 'json']);
  const existing = JSON.parse(stdout).customAttributes ?? {};
  for (const { name, type } of SEARCH_ATTRIBUTES) {
    const current = existing[name];
    const wanted = `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`;
    if (current === wanted) continue;
    if (current) {
      throw new Error(
        `Search attribute ${name} is registered as ${current} in ${DEV_SERVER_DB_PATH}, but Dripline needs ${type}. ` +
          'Delete that file (losing local workflow history) to start over.',
      );
    }
    await cli(['operator', 'search-attribute', 'create', '--name', name, '--type', type]);
    console.log(`Registered search attribute ${name} (${type}) on the existing database.`);
  }
}

function cli(args) {
  return execFileAsync(
    TEMPORAL_CLI_PATH,
    [...args, '--address', ADDRESS, '--namespace', NAMESPACE, '--color', 'never'],
    {
      timeout: 10_000,
    },
  );
}

function parsePort(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    console.error(`${name} must be a TCP port number, got "${raw}".`);
    process.exit(1);
  }
  return port;
}
