/**
 * Dripline on the cluster: N workers and M API processes on one CRM database, the Interakt
 * emulator they send to, and a balancer in front of the APIs that the emulator posts its signed
 * webhooks to. Each runs the production build, as the Dockerfile does: `npm run build` once, then
 * `node dist/...` with the pre-bundled workflow code (a worker that bundles at start holds about
 * 300 MiB more). `source: true` runs the TypeScript entry points through tsx instead.
 *
 * The CRM database is one SQLite file that every process writes: within a process writes queue in
 * JS (src/db/sqlite-gate.ts), between processes SQLite's busy timeout (10 s, src/db/client.ts)
 * makes a writer wait for the other's lock. Production would point DATABASE_URL at SQL Server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePort, NAMESPACE } from '../../bench/support/system';
import { INTERAKT_API_PREFIX } from '../../src/emulators/interakt';
import { WORKER_NODE_FLAGS } from '../../src/worker/node-flags';
import { startBalancer, type Balancer } from './balancer';
import type { Cluster } from './cluster';
import type { Supervisor } from './supervisor';

/** The entry points, under dist/ (`node <file>`) or src/ (`node --import tsx <file>`, what `npm run worker|api|emulator|db:migrate` run). */
export const ENTRY_POINTS = {
  worker: 'worker/main',
  api: 'api/server',
  emulator: 'emulators/main',
  migrate: 'cli/migrate',
} as const;

/** One process, no wrapper: a SIGKILL of the pid is a SIGKILL of the worker itself. */
export function entryCommand(
  entry: keyof typeof ENTRY_POINTS,
  extraArgs: readonly string[] = [],
  nodeArgs: readonly string[] = [],
  source = false,
): [string, string[]] {
  const file = source ? ['--import', 'tsx', `src/${ENTRY_POINTS[entry]}.ts`] : [`dist/${ENTRY_POINTS[entry]}.js`];
  return [process.execPath, [...nodeArgs, ...file, ...extraArgs]];
}

export const EMULATOR_API_KEY = 'cluster-emulator-key';
export const WEBHOOK_SECRET = 'cluster-webhook-secret';

export interface DriplineOptions {
  workers: number;
  apis: number;
  taskQueue: string;
  /** The Interakt account's limit, enforced by the Temporal server on the send queue. */
  sendsPerSecond: number;
  databaseFile: string;
  log: (line: string) => void;
  /** Extra environment for every Dripline process. */
  env?: Record<string, string>;
  /** Extra `node` arguments for the workers (a bench's `--cpu-prof`). */
  workerNodeArgs?: string[];
  /**
   * What worker `index` (0-based) runs with: its `node` flags instead of WORKER_NODE_FLAGS, and
   * more environment. A bench comparing settings side by side in one run gives each worker its own.
   */
  workerVariant?: (index: number) => { nodeArgs?: string[]; env?: Record<string, string> };
  /** Run src/ through tsx instead of building dist/ first. */
  source?: boolean;
}

export interface Dripline {
  databaseUrl: string;
  emulatorUrl: string;
  apiUrls: string[];
  balancer: Balancer;
  workerNames: string[];
  apiNames: string[];
  /** Starts a worker or API again under its name (after a kill); resolves once it serves. */
  restart(name: string): Promise<void>;
  /** Stops every process this started (gracefully) and the balancer; the Temporal server stays. */
  stop(): Promise<void>;
  env: Record<string, string>;
}

/** `server` is the cluster, or any Temporal server with our namespace and search attributes (a bench's dev server). */
export async function startDripline(
  supervisor: Supervisor,
  server: Pick<Cluster, 'address'>,
  options: DriplineOptions,
): Promise<Dripline> {
  const { log } = options;
  const databaseUrl = `file:${options.databaseFile}`;
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const apiPorts: number[] = [];
  while (apiPorts.length < options.apis) {
    const port = await freePort();
    if (port !== emulatorPort && !apiPorts.includes(port)) apiPorts.push(port);
  }
  const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  const balancer = await startBalancer(apiUrls);

  const env: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    NO_COLOR: '1',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    INTERAKT_BASE_URL: `${emulatorUrl}${INTERAKT_API_PREFIX}`,
    INTERAKT_API_KEY: EMULATOR_API_KEY,
    INTERAKT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    INTERAKT_SENDS_PER_SECOND: String(options.sendsPerSecond),
    PUBLIC_BASE_URL: balancer.url,
    ...options.env,
  };
  const processEnv = (extra: Record<string, string> = {}) => ({ ...process.env, ...env, ...extra });

  const source = options.source ?? false;
  const command = (
    entry: keyof typeof ENTRY_POINTS,
    extraArgs: readonly string[] = [],
    nodeArgs: readonly string[] = [],
  ) => entryCommand(entry, extraArgs, nodeArgs, source);
  if (!source) {
    // The Dockerfile's build stage: dist/ with the workflow code pre-bundled.
    await supervisor.runOnce('build', process.execPath, ['scripts/build.mjs'], { env: processEnv() });
  }

  // Like compose's `migrate` service: once, before any worker or API touches the schema.
  const [migrateCommand, migrateArgs] = command('migrate');
  await supervisor.runOnce('migrate', migrateCommand, migrateArgs, { env: processEnv() });

  const [emulatorCommand, emulatorArgs] = command('emulator', [
    '--port',
    String(emulatorPort),
    '--webhook-url',
    `${balancer.url}/webhooks/interakt`,
    '--webhook-secret',
    WEBHOOK_SECRET,
  ]);
  supervisor.start('emulator', emulatorCommand, emulatorArgs, { env: processEnv() });
  await waitForHttp(supervisor, `${emulatorUrl}/__emulator/health`);

  const starters = new Map<string, () => Promise<void>>();
  const apiNames = apiUrls.map((url, i) => {
    const name = `api-${i + 1}`;
    starters.set(name, async () => {
      const [apiCommand, args] = command('api');
      supervisor.start(name, apiCommand, args, {
        env: processEnv({ API_HOST: '127.0.0.1', API_PORT: String(apiPorts[i]) }),
      });
      await waitForHttp(supervisor, `${url}/health`);
    });
    return name;
  });
  const workerNames = Array.from({ length: options.workers }, (_, i) => {
    const name = `worker-${i + 1}`;
    starters.set(name, async () => {
      const variant = options.workerVariant?.(i) ?? {};
      const [workerCommand, args] = command(
        'worker',
        [],
        [...(variant.nodeArgs ?? WORKER_NODE_FLAGS), ...(options.workerNodeArgs ?? [])],
      );
      // Metrics on ports of their own (the defaults would collide between workers); info level so
      // the worker's `polling` line, written once its workers exist, reaches the log.
      const metricsPorts = { WORKER_METRICS_PORT: String(await freePort()), WORKER_TEMPORAL_METRICS_PORT: '0' };
      supervisor.start(name, workerCommand, args, {
        env: processEnv({ ...metricsPorts, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...variant.env }),
      });
      await waitForLogLine(supervisor, name, '"msg":"polling"');
    });
    return name;
  });
  // From source a worker bundles the workflow code at start (seconds of CPU each); start them one at
  // a time so the first is polling soon rather than all finishing late together.
  for (const name of workerNames) await starters.get(name)!();
  await Promise.all(apiNames.map((name) => starters.get(name)!()));
  log(
    `${workerNames.length} workers and ${apiNames.length} API processes on ${path.basename(options.databaseFile)}; APIs behind ${balancer.url}; emulator ${emulatorUrl}`,
  );

  return {
    databaseUrl,
    emulatorUrl,
    apiUrls,
    balancer,
    workerNames,
    apiNames,
    env,
    async restart(name) {
      const start = starters.get(name);
      if (!start) throw new Error(`no process named ${name}`);
      await start();
    },
    async stop() {
      await Promise.all([...apiNames, ...workerNames].map((name) => supervisor.stop(name)));
      await supervisor.stop('emulator');
      await balancer.close();
    },
  };
}

async function waitForHttp(supervisor: Supervisor, url: string): Promise<void> {
  await waitFor(supervisor, url, async () => (await fetch(url).catch(() => null))?.ok ?? false);
}

/** The worker prints this line once both its workers have been created, right before polling. */
async function waitForLogLine(supervisor: Supervisor, name: string, line: string): Promise<void> {
  const file = supervisor.logFile(name);
  await waitFor(supervisor, `${name} polling`, async () => {
    const text = fs.readFileSync(file, 'utf8');
    // Only this start's output counts: the log is appended to across restarts, each under a `--- ` header.
    return text.slice(text.lastIndexOf('\n--- ')).includes(line);
  });
}

async function waitFor(
  supervisor: Supervisor,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    supervisor.assertHealthy();
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
