import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../temporal/paths.cjs';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logged that it polls; rejects if it exits first. */
  ready: Promise<void>;
  /** Everything it wrote so far, stdout and stderr. */
  output(): string;
}

/**
 * The real worker process (`src/worker/main.ts`) with only the environment given (plus PATH and
 * HOME), logging JSON at info. Its metrics ports are off unless the caller sets them, so workers
 * of tests running side by side never compete for 9464.
 */
export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/worker/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      WORKER_METRICS_PORT: '0',
      WORKER_TEMPORAL_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/"msg":"polling"/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}):\n${output}`)));
  });
  return { child, ready, output: () => output };
}

/**
 * The environment every test worker process starts with: its database, its Temporal server and
 * queue, and the Interakt emulator it sends through. Callers add their own rates and extras.
 */
export function workerEnv(params: {
  dbUrl: string;
  temporal: { address: string; namespace?: string | undefined };
  taskQueue: string;
  interakt: { baseUrl: string; apiKey: string };
}): Record<string, string> {
  return {
    DATABASE_URL: params.dbUrl,
    TEMPORAL_ADDRESS: params.temporal.address,
    TEMPORAL_NAMESPACE: params.temporal.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: params.taskQueue,
    INTERAKT_BASE_URL: params.interakt.baseUrl,
    INTERAKT_API_KEY: params.interakt.apiKey,
  };
}
