import { createHmac, randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { ApiOptions } from '../../src/api/context';
import { generateApiKey } from '../../src/api/auth';
import type { CtaKeyring } from '../../src/cta/tokens';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { createApiMetrics } from '../../src/metrics';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';

const WEBHOOK_SECRET = 'metrics-webhook-secret';
const signingKey = { kid: 'k1', secret: randomBytes(32) };
const keyring: CtaKeyring = { current: signingKey, keys: new Map([[signingKey.kid, signingKey]]) };

/** The value of one sample line of Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && wanted.every((label) => l.slice(0, l.indexOf('}')).includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics on the API', () => {
  let db: Db;
  let api: RunningApp;
  let apiKey: string;

  const options = (extra: Partial<ApiOptions> = {}): ApiOptions => ({
    db,
    temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
    taskQueue: 'metrics',
    sendTaskQueue: 'metrics-sends-interakt',
    defaultCountry: 'IN',
    interaktWebhookSecret: WEBHOOK_SECRET,
    log: silentLogger(),
    getCtaKeyring: async () => keyring,
    ...extra,
  });

  beforeAll(async () => {
    db = await createTestDb();
    api = await listen(createApp(options()));
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    apiKey = key;
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  const scrape = async () => {
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const get = (path: string) => fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });

  it('needs no API key and answers Prometheus text with every Dripline family', async () => {
    const text = await scrape();
    for (const family of [
      'dripline_http_request_duration_seconds',
      'dripline_webhook_events_total',
      'dripline_cta_clicks_total',
    ])
      expect(text).toContain(`# TYPE ${family} `);
  });

  it('times requests by route pattern, never by raw path: /leads/:id, not /leads/12', async () => {
    expect((await get('/leads/12')).status).toBe(404);
    expect((await get('/leads/13')).status).toBe(404);
    expect((await get('/leads')).status).toBe(200);
    expect((await get('/templates/sync-runs/5')).status).toBe(404);
    const text = await scrape();
    const count = (route: string, status: string) =>
      sample(text, 'dripline_http_request_duration_seconds_count', { method: 'GET', route, status_code: status });
    expect(count('/leads/:id', '404')).toBe(2);
    expect(count('/leads', '200')).toBe(1);
    expect(count('/templates/sync-runs/:id', '404')).toBe(1);
    expect(text).toMatch(
      /dripline_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/leads\/:id"/,
    );
    expect(text).not.toMatch(/route="\/leads\/1[23]"/);
  });

  it('labels what no route answered as (unmatched), so tokens and made-up paths never become labels', async () => {
    await fetch(`${api.url}/no/such/path/+919812345678`);
    await fetch(`${api.url}/track/12%3Ftoken%3D12.3.i.1767225600.kid.SECRETMAC%E0%A4%A`);
    const text = await scrape();
    // Without a key the admin API refuses before any route matched.
    expect(
      sample(text, 'dripline_http_request_duration_seconds_count', { route: '(unmatched)', status_code: '401' }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('9812345678');
    expect(text).not.toContain('SECRETMAC');
  });

  it('counts webhook events by provider and outcome', async () => {
    const body = JSON.stringify({ type: 'message_api_delivered', data: { message: { id: 'wamid-metrics-1' } } });
    const post = (signature: string, payload = body) =>
      fetch(`${api.url}/webhooks/interakt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'interakt-signature': signature },
        body: payload,
      });
    const sign = (payload: string) => `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(payload).digest('hex')}`;
    expect((await post(sign(body))).status).toBe(200);
    expect((await post(sign(body))).status).toBe(200);
    expect((await post(`sha256=${'0'.repeat(64)}`)).status).toBe(401);
    expect((await post(sign('not json'), 'not json')).status).toBe(400);
    const text = await scrape();
    const events = (outcome: string) =>
      sample(text, 'dripline_webhook_events_total', { provider: 'interakt', outcome });
    expect([events('queued'), events('duplicate'), events('rejected'), events('invalid')]).toEqual([1, 1, 1, 1]);
  });

  it('counts CTA link requests by outcome', async () => {
    await fetch(`${api.url}/track/12?token=not-a-token&action=interested`);
    await fetch(`${api.url}/track/12?token=x&action=interested`, { headers: { 'user-agent': 'WhatsApp/2.23.20.0 A' } });
    await fetch(`${api.url}/track/12%E0%A4%A`);
    const text = await scrape();
    const clicks = (outcome: string) => sample(text, 'dripline_cta_clicks_total', { outcome });
    expect([clicks('rejected'), clicks('preview')]).toEqual([1, 1]);
    expect(clicks('invalid_link')).toBeGreaterThanOrEqual(1);
  });

  it('is off when the app is built without the endpoint (API_METRICS_ENABLED=false)', async () => {
    const off = await listen(createApp(options({ metricsEndpoint: false })));
    try {
      // No public route: it falls to the admin API, which has none either.
      expect((await fetch(`${off.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${off.url}/metrics`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('keeps each app its own registry: a second app starts from zero', async () => {
    const metrics = createApiMetrics();
    const second = await listen(createApp(options({ metrics })));
    try {
      await fetch(`${second.url}/leads/12`, { headers: { authorization: `Bearer ${apiKey}` } });
      const text = await metrics.registry.metrics();
      expect(sample(text, 'dripline_http_request_duration_seconds_count', { route: '/leads/:id' })).toBe(1);
      expect(sample(text, 'dripline_webhook_events_total', { outcome: 'queued' })).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});
