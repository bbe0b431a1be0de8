/**
 * Samples resident memory and CPU time of processes by pid from /proc (Linux only), so a bench
 * can say how big the worker got and which process the machine's cores went to.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** VmRSS in bytes, or null once the process is gone. */
export function readRss(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds the process has used so far, or null once it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export interface ProcessStats {
  peakRss: number;
  lastRss: number;
}

/** Every `intervalMs`, the RSS of each named pid; peaks overall and per labelled phase. */
export class MemorySampler {
  private readonly overall = new Map<string, ProcessStats>();
  private readonly byPhase = new Map<string, Map<string, ProcessStats>>();
  private phase = 'setup';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: ReadonlyMap<string, number>) {}

  start(intervalMs = 500): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }

  enterPhase(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  stats(name: string): ProcessStats | undefined {
    return this.overall.get(name);
  }

  phaseStats(phase: string, name: string): ProcessStats | undefined {
    return this.byPhase.get(phase)?.get(name);
  }

  private sample(): void {
    let phaseStats = this.byPhase.get(this.phase);
    if (!phaseStats) this.byPhase.set(this.phase, (phaseStats = new Map()));
    for (const [name, pid] of this.pids) {
      const rss = readRss(pid);
      if (rss === null) continue;
      for (const target of [this.overall, phaseStats]) {
        const current = target.get(name);
        target.set(name, { peakRss: Math.max(current?.peakRss ?? 0, rss), lastRss: rss });
      }
    }
  }
}

/** CPU seconds each named pid used between two snapshots. */
export function cpuSnapshot(pids: ReadonlyMap<string, number>): Map<string, number> {
  const snapshot = new Map<string, number>();
  for (const [name, pid] of pids) snapshot.set(name, readCpuSeconds(pid) ?? Number.NaN);
  return snapshot;
}

export function cpuDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, end] of after) delta.set(name, end - (before.get(name) ?? Number.NaN));
  return delta;
}

/** Machine-wide CPU time from /proc/stat, in seconds: busy, idle and (on a VM) stolen by the host. */
export function machineCpu(): { busy: number; idle: number; steal: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / CLOCK_TICKS,
    idle: (idle + iowait) / CLOCK_TICKS,
    steal: steal / CLOCK_TICKS,
  };
}
