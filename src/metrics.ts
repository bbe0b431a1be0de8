/**
 * Prometheus metrics. Each process (or each app a test builds) makes its own registry here, so two
 * apps in one test process never share or collide on a metric. No label ever holds an id, a
 * phone, a token or a raw path: labels are route patterns and small fixed sets of outcomes.
 * Every name is listed in README.md ("Logs and metrics").
 */
import http from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Logger } from './logging/logger';

export interface RegistryOptions {
  /** The Node.js process metrics (CPU, memory, event loop lag, GC): once per process, by its entry point. */
  processMetrics?: boolean;
}

function createRegistry(options: RegistryOptions): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

/** What the send path counts by: `inc({ provider, outcome })`. */
export type SendCounter = Pick<Counter<'provider' | 'outcome'>, 'inc'>;
/** What webhook routes count by: `inc({ provider, outcome })`. */
export type WebhookEventCounter = Pick<Counter<'provider' | 'outcome'>, 'inc'>;
/** What the CTA link route counts by: `inc({ outcome })`. */
export type CtaClickCounter = Pick<Counter<'outcome'>, 'inc'>;

export interface ApiMetrics {
  registry: Registry;
  /** Seconds from request to response, by method, route pattern (`/leads/:id`) and status code. */
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  webhookEvents: Counter<'provider' | 'outcome'>;
  ctaClicks: Counter<'outcome'>;
}

export function createApiMetrics(options: RegistryOptions = {}): ApiMetrics {
  const registry = createRegistry(options);
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'dripline_http_request_duration_seconds',
      help: 'API request durations by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    webhookEvents: new Counter({
      name: 'dripline_webhook_events_total',
      help: 'Provider webhook events received, by provider and outcome (queued, stored, duplicate, ignored, rejected, invalid)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    ctaClicks: new Counter({
      name: 'dripline_cta_clicks_total',
      help: 'CTA link requests, by outcome (recorded, already_recorded, preview, rejected, invalid_link, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

export interface WorkerMetrics {
  registry: Registry;
  sends: Counter<'provider' | 'outcome'>;
}

export function createWorkerMetrics(options: RegistryOptions = {}): WorkerMetrics {
  const registry = createRegistry(options);
  return {
    registry,
    sends: new Counter({
      name: 'dripline_sends_total',
      help: 'Template send attempts, by provider and outcome (sent, rejected, retryable, ambiguous, config, error, refused, duplicate, reconciling)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
  };
}

/** The registry in Prometheus text format, as `GET /metrics` answers it. */
export async function metricsResponse(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/**
 * A bare HTTP server answering `GET /metrics` from `registry` (the worker has no Express app).
 * Resolves once listening; a port in use fails the start rather than running unobserved.
 */
export async function serveMetrics(
  registry: Registry,
  options: { host: string; port: number; log: Logger },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metricsResponse(registry).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        options.log.error({ err: error }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
