import { Client, Connection } from '@temporalio/client';
import express, { type Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../src/api/app';
import { errorHandler } from '../../src/api/errors';
import { openApiPath } from '../../src/api/openapi';
import { ApiRouter } from '../../src/api/route';
import type { Db } from '../../src/db/client';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { captureLogs, silentLogger } from '../support/logs';

interface Layer {
  rawPath?: string | string[];
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method and path the Express app actually serves, read from its router stack. */
function servedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') found.push(`${method} ${openApiPath(prefix, layer.route.path)}`);
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return found.sort();
}

/**
 * The API's contract: `/openapi.json` documents exactly the routes the app serves, each with its
 * request and response schemas, and `/docs` renders it from files in the repository.
 */
describe('the OpenAPI document', () => {
  let db: Db;
  let app: Express;
  let api: RunningApp;
  let document: {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
  };

  beforeAll(async () => {
    db = await createTestDb();
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    app = createApp({
      db,
      temporal,
      taskQueue: 'openapi',
      sendTaskQueue: 'openapi-sends',
      defaultCountry: 'IN',
      log: silentLogger(),
    });
    api = await listen(app);
    const response = await fetch(`${api.url}/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as typeof document;
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  it('is OpenAPI 3.1, served without an API key', () => {
    expect(document.openapi).toBe('3.1.0');
  });

  it('documents every route the app serves, and serves every route it documents', () => {
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .sort();
    const served = servedRoutes(app).filter((route) => !route.startsWith('get /docs') && route !== 'get /openapi.json');
    expect(served.length).toBeGreaterThan(50);
    expect(documented).toEqual(served);
  });

  it('gives every operation a success response, the shared error shape, and public routes no security', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.some((status) => /^2/.test(status)),
          `${method} ${path}`,
        ).toBe(true);
        expect(statuses, `${method} ${path}`).toContain('500');
        const isPublic = ['/health', '/metrics', '/webhooks', '/track'].some((prefix) => path.startsWith(prefix));
        if (isPublic) expect(operation.security, `${method} ${path}`).toEqual([]);
        else expect(statuses, `${method} ${path}`).toContain('401');
      }
    }
  });

  it('answers a method a path does not take with 405 and the methods it does, before reading anything', async () => {
    const put = await fetch(`${api.url}/leads`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    // `sync` is not a template id: the path takes POST only, whatever the `/templates/{id}` routes take.
    const patch = await fetch(`${api.url}/templates/sync`, {
      method: 'PATCH',
      body: 'not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('POST');
    expect(((await patch.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    // A path the API does not serve is not described to a caller without a key.
    expect((await fetch(`${api.url}/no-such-path`, { method: 'PUT' })).status).toBe(401);
  });

  it('serves the docs page and its assets from the repository, with no third-party URL', async () => {
    const page = await fetch(`${api.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css', '/docs/init.js']) {
      expect((await fetch(`${api.url}${asset}`)).status, asset).toBe(200);
    }
  });
});

describe('response checking', () => {
  async function appAnswering(body: unknown): Promise<{ api: RunningApp; logged: () => string[] }> {
    const logs = captureLogs();
    const routes = new ApiRouter({ tag: 'Probe', checkResponses: true, public: true }).get(
      '/probe',
      { summary: 'probe', responses: { 200: z.strictObject({ id: z.number().int(), at: z.iso.datetime() }) } },
      (_input, res) => {
        res.json(body);
      },
    );
    const app = express();
    app.use(routes.router);
    app.use(errorHandler(logs.logger));
    return { api: await listen(app), logged: logs.text };
  }

  it('passes a body that matches its documented schema, dates as the client receives them', async () => {
    const { api } = await appAnswering({ id: 1, at: new Date('2030-01-01T00:00:00Z') });
    try {
      expect((await fetch(`${api.url}/probe`)).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('turns a body its schema refuses into a 500 with the mismatch in the log, never sent', async () => {
    const { api, logged } = await appAnswering({ id: 'one', extra: true });
    try {
      const response = await fetch(`${api.url}/probe`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
      expect(logged().join('\n')).toMatch(
        /ResponseContractError: GET \/probe answered 200 with a body its documented schema refuses/,
      );
    } finally {
      await api.close();
    }
  });
});
