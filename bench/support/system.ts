/**
 * The pieces of a local Dripline a bench runs against, each started the way `npm start` starts it
 * (src/start.ts), but on free ports and with all state in a temporary directory:
 *
 *   temporal  the CLI dev server, persisted to <dir>/temporal.db with temporal/dev-server-settings.cjs
 *   worker    node --import tsx src/worker/main.ts
 *   api       node --import tsx src/api/server.ts
 *
 * Child output goes to <dir>/<name>.log; the tail is printed when a child dies unexpectedly.
 * `Children.stopAll()` is idempotent and also runs on SIGINT/SIGTERM and at process exit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../src/shared';
import { dynamicConfigArgs, searchAttributeArgs, sqlitePragmaArgs } from '../../temporal/dev-server-settings.cjs';
import { REPO_ROOT, TEMPORAL_CLI_PATH } from '../../temporal/paths.cjs';

const execFileAsync = promisify(execFile);
const STOP_GRACE_MS = 10_000;
const TSX = ['--import', 'tsx'];

export const NAMESPACE = 'default';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function temporalCliVersion(): Promise<string> {
  const { stdout } = await execFileAsync(TEMPORAL_CLI_PATH, ['--version']);
  return stdout.trim();
}

interface Running {
  child: ChildProcess;
  logFile: string;
  closed: Promise<void>;
}

/** Owns the bench's child processes; a child that dies before `stopAll` fails the run. */
export class Children {
  private readonly running = new Map<string, Running>();
  private stopping: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(private readonly dir: string) {
    const onSignal = () => {
      process.stderr.write('\n[bench] interrupted; stopping children\n');
      void this.stopAll().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // Last resort if the bench crashes past its finally blocks: never leave servers behind.
    process.once('exit', () => {
      for (const { child } of this.running.values())
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }

  pid(name: string): number {
    const pid = this.running.get(name)?.child.pid;
    if (pid === undefined) throw new Error(`${name} is not running`);
    return pid;
  }

  /** Throws if any child has died; call between phases. */
  assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const logFile = path.join(this.dir, `${name}.log`);
    const log = fs.openSync(logFile, 'a');
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const closed = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        if (!this.stopping && !this.failure) {
          this.failure = new Error(
            `${name} exited unexpectedly (${signal ?? `exit code ${code}`}); last lines of ${logFile}:\n${tail(logFile)}`,
          );
          process.stderr.write(`[bench] ${this.failure.message}\n`);
        }
        resolve();
      });
      child.once('error', (error) => {
        this.failure ??= new Error(`could not start ${name}: ${error.message}`);
        resolve();
      });
    });
    this.running.set(name, { child, logFile, closed });
    return child;
  }

  /** Stops everything, the server last so the worker and API can say goodbye to it. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      const names = [...this.running.keys()];
      await Promise.all(names.filter((name) => name !== 'temporal').map((name) => this.stop(name)));
      if (this.running.has('temporal')) await this.stop('temporal');
    })();
    return this.stopping;
  }

  private async stop(name: string): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) return;
    const { child, closed } = entry;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await closed;
    clearTimeout(timer);
    this.running.delete(name);
  }
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface DevServer {
  address: string;
  dbFile: string;
}

/**
 * The dev server as temporal/dev-server.mjs runs it (same settings module, persisted file), but
 * on free ports, logging errors only, and headless unless a UI port is given.
 */
export async function startDevServer(
  children: Children,
  dir: string,
  options: { uiPort?: number } = {},
): Promise<DevServer> {
  if (!fs.existsSync(TEMPORAL_CLI_PATH))
    throw new Error(`Temporal CLI not found at ${TEMPORAL_CLI_PATH}: run \`npm run setup\` first.`);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dbFile = path.join(dir, 'temporal.db');
  children.start(
    'temporal',
    TEMPORAL_CLI_PATH,
    [
      'server',
      'start-dev',
      '--db-filename',
      dbFile,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
      '--namespace',
      NAMESPACE,
      ...sqlitePragmaArgs(),
      ...dynamicConfigArgs(),
      ...searchAttributeArgs(),
      '--log-level',
      'error',
      '--color',
      'never',
    ],
    process.env,
  );
  await waitUntil('the Temporal dev server', 90_000, children, async () => {
    const connection = await Connection.connect({ address, connectTimeout: '2s' }).catch(() => null);
    if (!connection) return false;
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      return SEARCH_ATTRIBUTES.every((key) => key.name in customAttributes);
    } catch {
      return false;
    } finally {
      await connection.close();
    }
  });
  return { address, dbFile };
}

export function startNodeChild(
  children: Children,
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): ChildProcess {
  return children.start(name, process.execPath, [...nodeArgs, ...TSX, entry], {
    ...process.env,
    ...env,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  });
}

/** The worker bundles workflow code before it polls; "ready" means a poller on the queue. */
export async function waitForPoller(children: Children, address: string, taskQueue: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await waitUntil(`a worker polling ${taskQueue}`, 120_000, children, async () => {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: taskQueue },
      });
      return pollers.length > 0;
    });
  } finally {
    await connection.close();
  }
}

export async function waitForHttp(children: Children, url: string): Promise<void> {
  await waitUntil(url, 60_000, children, async () => {
    const response = await fetch(url).catch(() => null);
    return response?.ok ?? false;
  });
}

async function waitUntil(
  what: string,
  timeoutMs: number,
  children: Children,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    children.assertHealthy();
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
