import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import type { Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import type { Role } from '../../src/db/schema/values';
import { createSecretBox } from '../../src/settings/secret-box';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { silentLogger } from '../support/logs';

/**
 * The console signs in by exchanging an API key for a session cookie; the cookie then works like
 * the key (same role), changes made with it need the session's CSRF token, sign-out ends it, and
 * every change lands in the audit log that admins read. Keys keep working as before.
 */
describe('console sessions and the audit log', () => {
  let db: Db;
  let api: RunningApp;
  let adminKey: string;
  let agentKey: string;
  let consoleDir: string;

  const keyFor = async (role: Role, name: string) => {
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name, keyHash, keyPrefix, role });
    return key;
  };

  beforeAll(async () => {
    db = await createTestDb();
    consoleDir = mkdtempSync(path.join(tmpdir(), 'dripline-console-'));
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>Dripline</title>');
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    api = await listen(
      createApp({
        db,
        temporal,
        taskQueue: 'session',
        sendTaskQueue: 'session-sends',
        defaultCountry: 'IN',
        secretBox: createSecretBox(Buffer.alloc(32, 3).toString('base64')),
        log: silentLogger(),
        consoleDir,
      }),
    );
    adminKey = await keyFor('admin', 'ops admin');
    agentKey = await keyFor('agent', 'sales agent');
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  async function signIn(apiKey: string) {
    const response = await fetch(`${api.url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey }),
    });
    const setCookie = response.headers.get('set-cookie') ?? '';
    return {
      status: response.status,
      body: (await response.json()) as any,
      setCookie,
      cookie: setCookie.split(';')[0]!,
    };
  }

  it('sets an HttpOnly, SameSite=Strict, expiring cookie on localhost (not Secure there), and never echoes the key', async () => {
    const { status, body, setCookie } = await signIn(adminKey);
    expect(status).toBe(201);
    expect(body).toMatchObject({ name: 'ops admin', role: 'admin' });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(setCookie).toMatch(
      /^dripline_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    expect(JSON.stringify(body)).not.toContain(adminKey);
  });

  it('marks the cookie Secure when the API is reached by another host name', async () => {
    // fetch may not set Host; node:http may.
    const { status, setCookie } = await new Promise<{ status: number; setCookie: string }>((resolve, reject) => {
      const request = http.request(
        `${api.url}/session`,
        { method: 'POST', headers: { 'content-type': 'application/json', host: 'dripline.example.com' } },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, setCookie: String(response.headers['set-cookie'] ?? '') });
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ apiKey: adminKey }));
    });
    expect(status).toBe(201);
    expect(setCookie).toMatch(/; Secure$/);
  });

  it('answers a wrong key with 401 invalid_api_key and a message a person understands, setting no cookie', async () => {
    const { status, body, setCookie } = await signIn('dl_not-a-key');
    expect(status).toBe(401);
    expect(body.error).toEqual({
      code: 'invalid_api_key',
      message: 'That is not a valid API key (or it has been revoked).',
    });
    expect(setCookie).toBe('');
  });

  it('stores only the hash of the session token', async () => {
    const { cookie } = await signIn(adminKey);
    const token = cookie.split('=')[1]!;
    const rows = await db.orm.select().from(db.schema.consoleSessions);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('lets the cookie read, refuses a change without the CSRF token (403, nothing changed) and accepts it with the token', async () => {
    const { cookie, body: session } = await signIn(adminKey);
    const read = await fetch(`${api.url}/leads`, { headers: { cookie } });
    expect(read.status).toBe(200);

    const lead = { name: 'Asha Rao', phone: '+919876500001' };
    const refused = await fetch(`${api.url}/leads`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(lead),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error.code).toBe('csrf_required');
    const wrongToken = await fetch(`${api.url}/leads`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': 'x'.repeat(43) },
      body: JSON.stringify(lead),
    });
    expect(wrongToken.status).toBe(403);
    expect((await apiClient(api.url, adminKey)('GET', '/leads?search=Asha')).body.total).toBe(0);

    const accepted = await fetch(`${api.url}/leads`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
      body: JSON.stringify(lead),
    });
    expect(accepted.status).toBe(201);
  });

  it("gives a session its key's role: an agent's session gets 403 role_required on settings", async () => {
    const { cookie } = await signIn(agentKey);
    const me = await fetch(`${api.url}/session`, { headers: { cookie } });
    expect(((await me.json()) as any).role).toBe('agent');
    const settings = await fetch(`${api.url}/settings/interakt`, { headers: { cookie } });
    expect(settings.status).toBe(403);
    expect(((await settings.json()) as any).error.code).toBe('role_required');
  });

  it('signs out: the cookie is cleared and refused afterwards with 401', async () => {
    const { cookie, body: session } = await signIn(adminKey);
    const withoutToken = await fetch(`${api.url}/session`, { method: 'DELETE', headers: { cookie } });
    expect(withoutToken.status).toBe(403);
    const out = await fetch(`${api.url}/session`, {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': session.csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^dripline_session=; .*Max-Age=0/);
    expect((await fetch(`${api.url}/leads`, { headers: { cookie } })).status).toBe(401);
    expect((await fetch(`${api.url}/session`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses every API route signed out, and keeps API keys working', async () => {
    expect((await fetch(`${api.url}/leads`)).status).toBe(401);
    expect((await fetch(`${api.url}/audit`)).status).toBe(401);
    expect((await apiClient(api.url, adminKey)('GET', '/leads')).status).toBe(200);
    expect((await fetch(`${api.url}/leads`, { headers: { 'x-api-key': agentKey } })).status).toBe(200);
  });

  it('records who changed what and when in the audit log, readable by admins only', async () => {
    const asAdmin = apiClient(api.url, adminKey);
    const created = await asAdmin('POST', '/templates', { name: 'audit_probe', category: 'UTILITY', body: 'Hi {{1}}' });
    expect(created.status).toBe(201);
    await asAdmin('PATCH', `/templates/${created.body.id}`, { body: 'Hello {{1}}' });
    let entries: any[] = [];
    for (let i = 0; i < 50 && !entries.some((e) => e.method === 'PATCH'); i++) {
      entries = (await asAdmin('GET', '/audit?pageSize=100')).body.items;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(entries).toContainEqual(
      expect.objectContaining({
        actorName: 'ops admin',
        actorRole: 'admin',
        via: 'api_key',
        method: 'PATCH',
        route: '/templates/:id',
        targetId: String(created.body.id),
        status: 200,
      }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ route: '/session', method: 'POST', via: 'session' }));
    expect(entries.some((e) => e.method === 'GET')).toBe(false);
    expect((await apiClient(api.url, agentKey)('GET', '/audit')).status).toBe(403);
  });

  it('serves the console: index.html for every page path (deep links), revalidated, and 404 for a missing asset', async () => {
    const page = await fetch(`${api.url}/console/drips/3?status=paused`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>Dripline</title>');
    expect((await fetch(`${api.url}/console/assets/missing-abc123.js`)).status).toBe(404);
    const root = await fetch(`${api.url}/console`, { redirect: 'manual' });
    expect(root.status).toBe(301);
    expect(root.headers.get('location')).toBe('/console/');
  });
});
