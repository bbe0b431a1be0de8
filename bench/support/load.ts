/** Closed-loop load: N jobs, a fixed number in flight, each job's latency recorded. */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  wallMs: number;
  latenciesMs: number[];
  errors: string[];
}

/**
 * Runs `job(0..count-1)` with `concurrency` in flight; a job that throws counts as an error
 * (its message kept, the first few printed) and the run goes on.
 */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  job: (index: number) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const t0 = performance.now();
      try {
        await job(index);
        latenciesMs.push(performance.now() - t0);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (errors.length < 5) process.stderr.write(`[bench] job ${index} failed: ${message}\n`);
        errors.push(message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { wallMs: performance.now() - started, latenciesMs, errors };
}

export interface JsonResponse {
  status: number;
  body: any;
}

/** A minimal keep-alive JSON client: less client-side CPU than fetch on a 2-core machine. */
export function jsonClient(baseUrl: string, apiKey: string, maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(baseUrl);
  const request = (method: string, path: string, body?: unknown): Promise<JsonResponse> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${apiKey}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: text });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { request, close: () => agent.destroy() };
}
