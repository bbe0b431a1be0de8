/**
 * Open-loop load: jobs start at a fixed arrival rate whether or not earlier ones have answered,
 * as independent users do. Latency counts from when a job was due, not when the generator got
 * round to it, so a late generator or a slow server cannot hide queueing (no coordinated omission).
 */
import { performance } from 'node:perf_hooks';

export interface OpenLoopSample<T> {
  index: number;
  /** Wall-clock time (ms since the epoch) the job was due: comparable with server timestamps on this machine. */
  dueAtEpochMs: number;
  /** Due → finished. */
  latencyMs: number;
  /** How late the generator started the job. */
  startLagMs: number;
  /** The job's own result, or undefined when it threw. */
  result: T | undefined;
  error?: string;
}

export interface OpenLoopResult<T> {
  wallMs: number;
  samples: OpenLoopSample<T>[];
}

/** `count` jobs, one every 1000/rate ms; resolves when the last has finished. */
export async function runOpenLoop<T>(
  rate: number,
  count: number,
  job: (index: number) => Promise<T>,
): Promise<OpenLoopResult<T>> {
  const intervalMs = 1000 / rate;
  const samples: OpenLoopSample<T>[] = [];
  const running: Promise<void>[] = [];
  const start = performance.now() + 5;
  // Read now rather than from performance.timeOrigin, which drifts from the wall clock in a long-lived process.
  const epochOffset = Date.now() - performance.now();
  let failures = 0;
  for (let index = 0; index < count; index++) {
    const due = start + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
    const startedAt = performance.now();
    const dueAtEpochMs = epochOffset + due;
    running.push(
      job(index).then(
        (result) => {
          samples.push({
            index,
            dueAtEpochMs,
            latencyMs: performance.now() - due,
            startLagMs: startedAt - due,
            result,
          });
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          if (++failures <= 5) process.stderr.write(`[bench] job ${index} failed: ${message}\n`);
          samples.push({
            index,
            dueAtEpochMs,
            latencyMs: performance.now() - due,
            startLagMs: startedAt - due,
            result: undefined,
            error: message,
          });
        },
      ),
    );
  }
  await Promise.all(running);
  samples.sort((a, b) => a.index - b.index);
  return { wallMs: performance.now() - start, samples };
}
