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
 * Every key has a role. An agent works with leads, drips, campaigns and CTA flows and reads the
 * rest; provider settings, signing keys, templates and the Infobip sync's configuration are for
 * admins, and an agent asking gets 403 saying what is missing, with nothing changed.
 */
describe('roles', () => {
  let db: Db;
  let api: RunningApp;
  let asAdmin: ReturnType<typeof apiClient>;
  let asAgent: ReturnType<typeof apiClient>;

  const keyFor = async (role: Role) => {
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: `${role} key`, keyHash, keyPrefix, role });
    return key;
  };

  beforeAll(async () => {
    db = await createTestDb();
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) });
    api = await listen(
      createApp({
        db,
        temporal,
        taskQueue: 'roles',
        sendTaskQueue: 'roles-sends',
        defaultCountry: 'IN',
        secretBox: createSecretBox(Buffer.alloc(32, 3).toString('base64')),
        log: silentLogger(),
      }),
    );
    asAdmin = apiClient(api.url, await keyFor('admin'));
    asAgent = apiClient(api.url, await keyFor('agent'));
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  const template = { name: 'agent_probe', category: 'UTILITY', body: 'Hi {{1}}' };

  it.each([
    ['GET', '/settings/interakt', undefined],
    ['PUT', '/settings/interakt', { enabled: false }],
    ['GET', '/settings/cta-signing-keys', undefined],
    ['POST', '/settings/cta-signing-keys/rotate', undefined],
    ['POST', '/templates', template],
    ['POST', '/templates/sync', undefined],
    [
      'POST',
      '/templates/submissions',
      { name: 'agent_probe', language: 'en', body: { text: 'Hi {{1}}', examples: ['Asha'] } },
    ],
    ['GET', '/templates/submissions/1', undefined],
    ['POST', '/sync/infobip/schedule', { every: 'daily' }],
  ])('refuses an agent %s %s with 403 role_required', async (method, path, body) => {
    const response = await asAgent(method, path, body);
    expect(response.status).toBe(403);
    expect(response.body.error).toEqual({
      code: 'role_required',
      message: 'this needs the admin role; the credentials used have the agent role',
    });
  });

  it('changes nothing when it refuses', async () => {
    expect((await asAgent('POST', '/templates', template)).status).toBe(403);
    expect((await asAdmin('GET', '/templates?search=agent_probe')).body.total).toBe(0);
  });

  it('lets an agent read and work with leads, drips and templates as read-only', async () => {
    expect((await asAgent('GET', '/templates')).status).toBe(200);
    expect((await asAgent('GET', '/leads')).status).toBe(200);
    expect((await asAgent('POST', '/leads', { name: 'Asha', phone: '+919800002001' })).status).toBe(201);
    expect((await asAgent('GET', '/sync/infobip/runs')).status).toBe(200);
  });

  it('lets an admin do what an agent may not', async () => {
    expect((await asAdmin('POST', '/templates', template)).status).toBe(201);
    expect((await asAdmin('GET', '/settings/interakt')).status).toBe(200);
  });

  it('states the role each operation needs in the OpenAPI document', async () => {
    const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { 'x-required-role'?: string; responses: Record<string, unknown> }>>;
    };
    expect(document.paths['/templates']!.post!['x-required-role']).toBe('admin');
    expect(document.paths['/templates']!.post!.responses['403']).toBeDefined();
    expect(document.paths['/templates']!.get!['x-required-role']).toBe('agent');
    expect(document.paths['/templates/submissions']!.post!['x-required-role']).toBe('admin');
    expect(document.paths['/templates/submissions/{id}']!.get!['x-required-role']).toBe('admin');
    expect(document.paths['/leads']!.post!['x-required-role']).toBe('agent');
    expect(document.paths['/health']!.get!['x-required-role']).toBeUndefined();
  });
});
