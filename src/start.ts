/**
 * `npm start`: the whole of Dripline on one machine, from a fresh clone after `npm install`.
 *
 *   [temporal]  the Temporal dev server (temporal/dev-server.mjs), state in data/temporal.db
 *   [emulator]  the local Interakt EMULATOR, only when no INTERAKT_API_KEY is configured
 *   [infobip]   the local Infobip EMULATOR (People, SMS logs), only when no INFOBIP_API_KEY is configured
 *   [worker]    src/worker/main.ts
 *   [api]       src/api/server.ts
 *
 * Before the worker and API start, it migrates the database and makes sure a local admin API key
 * exists. If any child dies the rest are stopped and this exits non-zero, so a half-running system
 * never looks healthy; Ctrl-C stops everything and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { Client, Connection } from '@temporalio/client';
import { generateApiKey } from './api/auth';
import { ConfigError, loadConfig, type Config } from './config';
import { openDb } from './db/client';
import { migrate } from './db/migrate';
import { countActiveApiKeys, createApiKey } from './db/queries';
import { INFOBIP_EMULATOR_API_KEY } from './emulators/infobip';
import { INTERAKT_API_PREFIX } from './emulators/interakt';
import { generateSecretKey, SECRET_KEY_BYTES } from './settings/secret-box';
import { SEARCH_ATTRIBUTES } from './shared';
import { ensureTemplateSyncSchedule } from './templates/schedule';
import { WORKER_NODE_FLAGS } from './worker/node-flags';
import { REPO_ROOT } from '../temporal/paths.cjs';
import { errorMessage } from './logging/redact';

const ADMIN_KEY_FILE = path.join(REPO_ROOT, 'data', 'admin-api-key.txt');
const SECRET_KEY_FILE = path.join(REPO_ROOT, 'data', 'secret-key.txt');
const TEMPORAL_READY_TIMEOUT_MS = 90_000;
const CHILD_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0']);
/** `node --import tsx <file>` rather than the tsx CLI: one process per child, so signals reach the program itself. */
const TSX = ['--import', 'tsx'];

type ChildName = 'temporal' | 'emulator' | 'infobip' | 'worker' | 'api';

class StartupAborted extends Error {}

/** Owns the child processes: prefixes their output, and stops them all when one of them dies. */
class Supervisor {
  private readonly children = new Map<ChildName, ChildProcess>();
  private stopping: Promise<void> | null = null;
  private exitCode = 0;

  constructor(private readonly baseEnv: NodeJS.ProcessEnv) {}

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  start(name: ChildName, args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      // Colour codes would garble the prefixed, interleaved output.
      env: { ...this.baseEnv, ...extraEnv, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.set(name, child);
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      readline.createInterface({ input: stream }).on('line', (line) => out.write(prefixLine(name, line)));
    }
    child.on('error', (error) => {
      say(`could not start ${name}: ${error.message}`);
      void this.shutdown(1);
    });
    // 'close' rather than 'exit': it waits for the output pipes to drain, so a child's last words
    // (often the reason it died) are printed before we act on its death.
    child.on('close', (code, signal) => {
      this.children.delete(name);
      if (this.isStopping) return;
      say(`${name} exited unexpectedly (${signal ?? `exit code ${code}`}); stopping everything`);
      void this.shutdown(1);
    });
    return child;
  }

  isRunning(name: ChildName): boolean {
    return this.children.has(name);
  }

  /**
   * Stops every child, then exits this process; idempotent, and the worst exit code wins. The
   * server goes last so the worker and API can finish talking to it.
   */
  shutdown(exitCode: number): Promise<void> {
    this.exitCode = Math.max(this.exitCode, exitCode);
    this.stopping ??= (async () => {
      await Promise.all((['api', 'worker', 'emulator', 'infobip'] as const).map((name) => this.stopChild(name)));
      await this.stopChild('temporal');
      process.exit(this.exitCode);
    })();
    return this.stopping;
  }

  private async stopChild(name: ChildName): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => {
      say(`${name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it`);
      child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await closed;
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  // eslint-disable-next-line no-restricted-syntax -- not read here: handed on whole to the children, who parse it with loadConfig()
  const supervisor = new Supervisor(process.env);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!supervisor.isStopping) say('stopping...');
      void supervisor.shutdown(0);
    });
  }

  try {
    await startSystem(config, supervisor);
  } catch (error) {
    if (!(error instanceof StartupAborted)) say(errorMessage(error));
    await supervisor.shutdown(1);
  }
}

async function startSystem(config: Config, supervisor: Supervisor): Promise<void> {
  fs.mkdirSync(path.join(REPO_ROOT, 'data'), { recursive: true });
  const childEnv: NodeJS.ProcessEnv = {};
  // The children's stdout is a pipe to us, not a terminal: ask for readable lines (which we prefix).
  if (!config.LOG_FORMAT && config.NODE_ENV !== 'production') childEnv.LOG_FORMAT = 'pretty';
  // Production must bring its own key (config refuses to start without one); locally, one is made once.
  if (!config.DRIPLINE_SECRET_KEY) childEnv.DRIPLINE_SECRET_KEY = ensureLocalSecretKey();

  // 1. Temporal.
  const temporal = parseHostPort(config.TEMPORAL_ADDRESS, 7233);
  const temporalIsLocal = LOCAL_HOSTS.has(temporal.host);
  if (temporalIsLocal) {
    // Explicit IPv4: "localhost" may resolve to ::1 first, where the dev server does not listen.
    childEnv.TEMPORAL_ADDRESS = `127.0.0.1:${temporal.port}`;
    if (await canConnectToTemporal(childEnv.TEMPORAL_ADDRESS, '1s')) {
      say(`a Temporal server is already running at ${childEnv.TEMPORAL_ADDRESS}; using it`);
    } else {
      supervisor.start('temporal', [path.join(REPO_ROOT, 'temporal', 'dev-server.mjs')], {
        TEMPORAL_PORT: String(temporal.port),
        TEMPORAL_UI_PORT: String(config.TEMPORAL_UI_PORT),
      });
    }
  }
  const temporalAddress = childEnv.TEMPORAL_ADDRESS ?? config.TEMPORAL_ADDRESS;
  await waitForTemporal(temporalAddress, config.TEMPORAL_NAMESPACE, supervisor);

  // 2. Interakt: the real one when configured, otherwise the emulator.
  let emulatorUrl: string | null = null;
  if (!config.INTERAKT_API_KEY) {
    const secret = config.INTERAKT_WEBHOOK_SECRET ?? randomBytes(24).toString('base64url');
    const apiHost = reachableHost(config.API_HOST);
    emulatorUrl = `http://127.0.0.1:${config.EMULATOR_PORT}`;
    Object.assign(childEnv, {
      INTERAKT_BASE_URL: `${emulatorUrl}${INTERAKT_API_PREFIX}`,
      INTERAKT_API_KEY: 'emulator-key',
      INTERAKT_WEBHOOK_SECRET: secret,
    });
    // The secret reaches the emulator as INTERAKT_WEBHOOK_SECRET in its environment rather than
    // --webhook-secret, which would show it to anyone running `ps`.
    supervisor.start(
      'emulator',
      [
        ...TSX,
        'src/emulators/main.ts',
        '--port',
        String(config.EMULATOR_PORT),
        '--webhook-url',
        `http://${apiHost}:${config.API_PORT}/webhooks/interakt`,
      ],
      childEnv,
    );
    say(
      `No INTERAKT_API_KEY configured: using the local Interakt EMULATOR at ${emulatorUrl} (no real WhatsApp messages are sent)`,
    );
    await waitForPort('emulator', '127.0.0.1', config.EMULATOR_PORT, supervisor);
  }

  // 2b. Infobip (the sync's source): the real account when configured, otherwise the emulator
  // with a thousand generated people and SMS logs, so `npm run sync:infobip` has something to read.
  let infobipEmulatorUrl: string | null = null;
  if (!config.INFOBIP_API_KEY) {
    infobipEmulatorUrl = `http://127.0.0.1:${config.INFOBIP_EMULATOR_PORT}`;
    Object.assign(childEnv, { INFOBIP_BASE_URL: infobipEmulatorUrl, INFOBIP_API_KEY: INFOBIP_EMULATOR_API_KEY });
    supervisor.start(
      'infobip',
      [...TSX, 'src/emulators/main.ts', '--provider', 'infobip', '--port', String(config.INFOBIP_EMULATOR_PORT)],
      childEnv,
    );
    await waitForPort('infobip', '127.0.0.1', config.INFOBIP_EMULATOR_PORT, supervisor);
  }

  // 3. Database, once, before anything that reads it.
  const keyFile = await prepareDatabase(config.DATABASE_URL);
  if (supervisor.isStopping) throw new StartupAborted();

  // 4. Worker and API.
  supervisor.start('worker', [...WORKER_NODE_FLAGS, ...TSX, 'src/worker/main.ts'], childEnv);
  supervisor.start('api', [...TSX, 'src/api/server.ts'], childEnv);
  const apiHost = reachableHost(config.API_HOST);
  await waitForPort('api', apiHost, config.API_PORT, supervisor);
  await waitForWorker(temporalAddress, config.TEMPORAL_NAMESPACE, config.TEMPORAL_TASK_QUEUE, supervisor);
  if (config.MESSAGING_PROVIDER === 'interakt') await syncTemplatesNow(temporalAddress, config);

  const temporalUi = temporalIsLocal
    ? `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`
    : `(see your Temporal deployment for ${temporalAddress})`;
  const relativeKeyFile = path.relative(process.cwd(), ADMIN_KEY_FILE);
  const lines = [
    '',
    'Dripline is running.',
    `  API           http://${apiHost}:${config.API_PORT}`,
    `  Temporal UI   ${temporalUi}`,
    emulatorUrl
      ? `  Interakt      local EMULATOR at ${emulatorUrl} (no real WhatsApp messages are sent)`
      : `  Interakt      ${config.INTERAKT_BASE_URL} (REAL messages are sent)`,
    infobipEmulatorUrl
      ? `  Infobip       local EMULATOR at ${infobipEmulatorUrl} (generated people for the sync)`
      : `  Infobip       ${config.INFOBIP_BASE_URL}`,
    `  Metrics       ${metricsLine(config, apiHost)}`,
    keyFile
      ? `  Admin key     ${relativeKeyFile}  (send as: Authorization: Bearer $(cat ${relativeKeyFile}))`
      : '  Admin key     an active key exists already; create another with `npm run apikey:create`',
    '  Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Migrates, and creates a local admin key when there is none, writing it to a 0600 file rather
 * than the terminal so it does not end up in scrollback or CI logs. Returns the key file when one
 * is usable.
 */
async function prepareDatabase(databaseUrl: string): Promise<string | null> {
  const db = await openDb(databaseUrl);
  try {
    await migrate(db);
    say('database migrated');
    if ((await countActiveApiKeys(db)) > 0) return fs.existsSync(ADMIN_KEY_FILE) ? ADMIN_KEY_FILE : null;

    const { key, keyHash, keyPrefix } = generateApiKey();
    // File first: a key stored in the database but lost from disk would be unusable, and would
    // stop the next start from creating a new one.
    fs.writeFileSync(ADMIN_KEY_FILE, `${key}\n`, { mode: 0o600 });
    fs.chmodSync(ADMIN_KEY_FILE, 0o600);
    try {
      await createApiKey(db, { name: 'local-admin', keyHash, keyPrefix });
    } catch (error) {
      fs.rmSync(ADMIN_KEY_FILE, { force: true });
      throw error;
    }
    say(`created a local admin API key; it is in ${path.relative(process.cwd(), ADMIN_KEY_FILE)}`);
    return ADMIN_KEY_FILE;
  } finally {
    await db.close();
  }
}

/**
 * The development default for DRIPLINE_SECRET_KEY: generated on the first start into a 0600 file
 * and reused after, since secrets sealed with it in data/dripline.db are unreadable with another.
 */
function ensureLocalSecretKey(): string {
  if (fs.existsSync(SECRET_KEY_FILE)) {
    const key = fs.readFileSync(SECRET_KEY_FILE, 'utf8').trim();
    if (Buffer.from(key, 'base64').length !== SECRET_KEY_BYTES) {
      throw new Error(
        `${path.relative(process.cwd(), SECRET_KEY_FILE)} does not hold a ${SECRET_KEY_BYTES}-byte base64 key; fix or delete it`,
      );
    }
    return key;
  }
  const key = generateSecretKey();
  fs.writeFileSync(SECRET_KEY_FILE, `${key}\n`, { mode: 0o600, flag: 'wx' });
  fs.chmodSync(SECRET_KEY_FILE, 0o600);
  say(
    `generated a local DRIPLINE_SECRET_KEY into ${path.relative(process.cwd(), SECRET_KEY_FILE)} (it encrypts secrets stored in settings)`,
  );
  return key;
}

/** Up, and with our search attributes: the worker's first start would fail without them. */
async function waitForTemporal(address: string, namespace: string, supervisor: Supervisor): Promise<void> {
  const deadline = Date.now() + TEMPORAL_READY_TIMEOUT_MS;
  let lastProblem = 'not reachable yet';
  for (;;) {
    if (supervisor.isStopping) throw new StartupAborted();
    const connection = await Connection.connect({ address, connectTimeout: '2s' }).catch((error: unknown) => {
      lastProblem = errorMessage(error);
      return null;
    });
    if (connection) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in customAttributes)).map((key) => key.name);
        if (missing.length === 0) return;
        lastProblem = `search attributes not registered in namespace ${namespace}: ${missing.join(', ')}`;
      } catch (error) {
        lastProblem = errorMessage(error);
      } finally {
        await connection.close();
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Temporal at ${address} is not ready after ${TEMPORAL_READY_TIMEOUT_MS / 1000}s: ${lastProblem}` +
          '\n  (a non-local server needs: temporal operator search-attribute create --name LeadId --type Int, and the same for DripSequenceId Int and FlowKind Keyword)',
      );
    }
    await sleep(500);
  }
}

/** The worker bundles workflow code before it polls, which takes seconds; "running" means polling. */
/**
 * Message Master starts empty and sequences may only use known, approved templates: run the
 * hourly template sync once now, so the provider's templates are there before the first request.
 */
async function syncTemplatesNow(address: string, config: Config): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const { handle } = await ensureTemplateSyncSchedule(client, { taskQueue: config.TEMPORAL_TASK_QUEUE, every: '1h' });
    const before = new Set(
      (await handle.describe()).info.recentActions.map((action) => action.action.workflow.workflowId),
    );
    await handle.trigger();
    const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;
    for (;;) {
      const action = (await handle.describe()).info.recentActions.find(
        (a) => !before.has(a.action.workflow.workflowId),
      );
      if (action) {
        await client.workflow.getHandle(action.action.workflow.workflowId).result();
        say('templates synced from Interakt into Message Master');
        return;
      }
      if (Date.now() > deadline) throw new Error('the startup template sync did not start');
      await sleep(250);
    }
  } catch (error) {
    // A failed sync is not fatal: the schedule retries hourly and POST /templates/sync runs it now.
    say(`template sync failed: ${errorMessage(error)}`);
  } finally {
    await connection.close();
  }
}

async function waitForWorker(
  address: string,
  namespace: string,
  taskQueue: string,
  supervisor: Supervisor,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;
    for (;;) {
      if (supervisor.isStopping || !supervisor.isRunning('worker')) throw new StartupAborted();
      // The server treats an unspecified task queue type as the workflow queue.
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
      });
      if (pollers.length > 0) return;
      if (Date.now() > deadline)
        throw new Error(`no worker is polling ${taskQueue} after ${CHILD_READY_TIMEOUT_MS / 1000}s`);
      await sleep(500);
    }
  } finally {
    await connection.close();
  }
}

async function canConnectToTemporal(address: string, connectTimeout: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

async function waitForPort(name: ChildName, host: string, port: number, supervisor: Supervisor): Promise<void> {
  const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;
  while (!(await portAccepts(host, port))) {
    if (supervisor.isStopping || !supervisor.isRunning(name)) throw new StartupAborted();
    if (Date.now() > deadline)
      throw new Error(`${name} is not listening on ${host}:${port} after ${CHILD_READY_TIMEOUT_MS / 1000}s`);
    await sleep(250);
  }
}

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function parseHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(address.trim());
  if (!match?.[1]) throw new Error(`TEMPORAL_ADDRESS must be host:port, got "${address}"`);
  return { host: match[1].toLowerCase(), port: match[2] ? Number(match[2]) : defaultPort };
}

/** Where Prometheus finds each process's metrics (README, "Logs and metrics"). */
function metricsLine(config: Config, apiHost: string): string {
  const workerHost = reachableHost(config.WORKER_METRICS_HOST);
  const places = [
    config.API_METRICS_ENABLED && `http://${apiHost}:${config.API_PORT}/metrics (API)`,
    config.WORKER_METRICS_PORT > 0 && `http://${workerHost}:${config.WORKER_METRICS_PORT}/metrics (worker)`,
    config.WORKER_TEMPORAL_METRICS_PORT > 0 &&
      `http://${workerHost}:${config.WORKER_TEMPORAL_METRICS_PORT}/metrics (Temporal SDK)`,
  ].filter(Boolean);
  return places.length > 0 ? places.join(', ') : 'off';
}

/** A listener on 0.0.0.0 or :: is reached through loopback. */
function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI_ESCAPES = /\u001b\[[0-9;?]*[A-Za-z]/g;

function prefixLine(name: ChildName, line: string): string {
  const clean = line.replace(ANSI_ESCAPES, '');
  // Some entry points already tag their own lines ("[api] listening ..."); don't double it.
  return clean.startsWith(`[${name}]`) ? `${clean}\n` : `[${name}] ${clean}\n`;
}

function say(message: string): void {
  process.stdout.write(`[start] ${message}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error('[start] fatal:', errorMessage(error));
  process.exit(1);
});
