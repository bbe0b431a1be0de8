/**
 * Owns every process the cluster harness starts, so that none outlives it.
 *
 * Not bench/support/system.ts's `Children`: there any child that exits fails the run, while the
 * harness kills workers, an API and the Temporal server on purpose and starts them again. What
 * this adds:
 *
 * - Each child leads its own process group (`detached`), and every signal goes to the group, so a
 *   SIGKILL reaches the real process even if an entry point is a wrapper (`npm run …`, a shell)
 *   that would otherwise leave its child running.
 * - `kill(name)` marks the exit as intended; any other exit before `stopAll` is a failure that
 *   `assertHealthy()` reports, with the tail of the child's log.
 * - `stopAll()` stops children in reverse start order (Dripline before Temporal before
 *   PostgreSQL), SIGTERM then SIGKILL after a grace period. It runs on SIGINT/SIGTERM, and at
 *   process exit every group still alive gets SIGKILL.
 * - A run that was itself SIGKILLed cannot clean up; it leaves a record in .tools/cluster-runs/,
 *   and the next run kills whatever that record lists and is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOOLS_DIR } from '../paths.cjs';

const STOP_GRACE_MS = 15_000;
const RUNS_DIR = path.join(TOOLS_DIR, 'cluster-runs');

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Stop signal for a graceful stop; PostgreSQL's "fast" shutdown is SIGINT. */
  stopSignal?: NodeJS.Signals;
}

interface Entry {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  intended: boolean;
  stopSignal: NodeJS.Signals;
}

export class Supervisor {
  private readonly entries = new Map<string, Entry>();
  private readonly order: string[] = [];
  private failure: Error | null = null;
  private stopping: Promise<void> | null = null;
  private readonly recordFile: string;
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  constructor(
    readonly dir: string,
    private readonly log: (line: string) => void,
  ) {
    fs.mkdirSync(RUNS_DIR, { recursive: true });
    killLeftoversOfDeadRuns(log);
    this.recordFile = path.join(RUNS_DIR, `${process.pid}.json`);
    this.writeRecord();

    const onSignal = (signal: NodeJS.Signals) => {
      this.log(`${signal}: stopping everything the harness started`);
      void this.stopAll().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', () => {
      // Last resort (a crash past the finally blocks): never leave a server or a worker behind.
      for (const entry of this.entries.values()) if (isRunning(entry.child)) killGroup(entry.child, 'SIGKILL');
      fs.rmSync(this.recordFile, { force: true });
    });
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ChildProcess {
    const existing = this.entries.get(name);
    if (existing && isRunning(existing.child)) throw new Error(`${name} is already running`);
    const logFile = path.join(this.dir, `${name}.log`);
    const log = fs.openSync(logFile, 'a');
    fs.writeSync(log, `\n--- ${new Date().toISOString()} start: ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: true,
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
    });
    fs.closeSync(log);
    const entry: Entry = {
      name,
      child,
      logFile,
      intended: false,
      stopSignal: options.stopSignal ?? 'SIGTERM',
      exited: Promise.resolve(),
    };
    entry.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        this.failure ??= new Error(`could not start ${name}: ${error.message}`);
        resolve();
      });
      child.once('exit', (code, signal) => {
        if (!entry.intended && !this.stopping && !this.failure) {
          this.failure = new Error(
            `${name} exited unexpectedly (${signal ?? `exit code ${code}`}); last lines of ${logFile}:\n${tail(logFile)}`,
          );
          this.log(this.failure.message);
        }
        resolve();
      });
    });
    this.entries.set(name, entry);
    if (!this.order.includes(name)) this.order.push(name);
    this.writeRecord();
    return child;
  }

  /** A one-shot command (initdb, a migration) under the same ownership; resolves when it succeeds. */
  async runOnce(name: string, command: string, args: readonly string[], options: StartOptions = {}): Promise<void> {
    const child = this.start(name, command, args, options);
    this.entries.get(name)!.intended = true;
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0)
      throw new Error(`${name} exited with ${code}; last lines of ${this.logFile(name)}:\n${tail(this.logFile(name))}`);
  }

  pid(name: string): number {
    const child = this.entries.get(name)?.child;
    if (!child?.pid || !isRunning(child)) throw new Error(`${name} is not running`);
    return child.pid;
  }

  isRunning(name: string): boolean {
    const child = this.entries.get(name)?.child;
    return child !== undefined && isRunning(child);
  }

  logFile(name: string): string {
    return path.join(this.dir, `${name}.log`);
  }

  /** Throws the first unexpected exit; call between steps. */
  assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  /** Ends a child on purpose (SIGKILL by default: a crash, not a shutdown) and waits until it is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || !isRunning(entry.child)) return;
    entry.intended = true;
    killGroup(entry.child, signal);
    await entry.exited;
  }

  /** Graceful stop: the child's stop signal, SIGKILL after the grace period. */
  async stop(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || !isRunning(entry.child)) return;
    entry.intended = true;
    killGroup(entry.child, entry.stopSignal);
    const timer = setTimeout(() => killGroup(entry.child, 'SIGKILL'), STOP_GRACE_MS);
    await entry.exited;
    clearTimeout(timer);
  }

  /** Runs after every child has stopped (removing the run's directory, say), also after Ctrl-C. */
  addCleanup(cleanup: () => void | Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Stops everything, newest first, so clients go before the servers they talk to. Idempotent. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const name of [...this.order].reverse()) await this.stop(name);
      fs.rmSync(this.recordFile, { force: true });
      for (const cleanup of this.cleanups) {
        try {
          await cleanup();
        } catch (error) {
          this.log(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.stopping;
  }

  private writeRecord(): void {
    const groups = [...this.entries.values()]
      .filter((entry) => entry.child.pid)
      .map((entry) => ({ name: entry.name, pid: entry.child.pid }));
    fs.writeFileSync(this.recordFile, JSON.stringify({ harnessPid: process.pid, dir: this.dir, groups }));
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Kills the process groups recorded by harness runs whose own process no longer exists. */
function killLeftoversOfDeadRuns(log: (line: string) => void): void {
  for (const file of fs.readdirSync(RUNS_DIR)) {
    const recordPath = path.join(RUNS_DIR, file);
    let record: { harnessPid: number; dir: string; groups: { name: string; pid: number }[] };
    try {
      record = JSON.parse(fs.readFileSync(recordPath, 'utf8'));
    } catch {
      fs.rmSync(recordPath, { force: true });
      continue;
    }
    if (processExists(record.harnessPid)) continue;
    for (const { name, pid } of record.groups) {
      // Only a group whose leader still exists; a recycled pid would not lead a group of that id.
      if (!processExists(pid)) continue;
      try {
        process.kill(-pid, 'SIGKILL');
        log(`killed ${name} (pid ${pid}) left running by an earlier harness run that died`);
      } catch {
        // not a group leader any more
      }
    }
    fs.rmSync(recordPath, { force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last lines of a log, each cut short: the server's log lines carry whole stack traces. */
function tail(file: string, lines = 20): string {
  try {
    const cut = (line: string) => (line.length > 400 ? `${line.slice(0, 400)} …` : line);
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map(cut).join('\n');
  } catch {
    return '(no log)';
  }
}
