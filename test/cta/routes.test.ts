/**
 * The two CTA admin routers as the admin API mounts them (`/settings/cta-signing-keys` and
 * `/cta/template-json`), behind the JSON parser and the one error handler, over real HTTP and a
 * real SQLite file.
 */
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/api/errors';
import { ctaSigningKeysRouter } from '../../src/cta/signing-keys-routes';
import { ctaTemplateJsonRouter } from '../../src/cta/template-json-routes';
import { ctaKeyringReader } from '../../src/cta/signing-keys';
import type { Db } from '../../src/db/client';
import { createSecretBox, generateSecretKey } from '../../src/settings/secret-box';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { captureLogs } from '../support/logs';

describe('CTA admin routes', () => {
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  const box = createSecretBox(generateSecretKey());
  const logs = captureLogs();
  const bodies: string[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    const app = express();
    app.use(express.json());
    app.use('/settings/cta-signing-keys', ctaSigningKeysRouter({ db, secretBox: box, checkResponses: true }).router);
    app.use(
      '/no-secret-key/cta-signing-keys',
      ctaSigningKeysRouter({ db, secretBox: createSecretBox(undefined), checkResponses: true }).router,
    );
    app.use('/cta/template-json', ctaTemplateJsonRouter({ checkResponses: true }).router);
    app.use(errorHandler(logs.logger));
    api = await listen(app);
    const client = apiClient(api.url);
    request = async (...args: Parameters<typeof client>) => {
      const response = await client(...args);
      bodies.push(JSON.stringify(response.body ?? ''));
      return response;
    };
  });
  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  describe('/settings/cta-signing-keys', () => {
    it('lists no keys before the first one exists', async () => {
      expect(await request('GET', '/settings/cta-signing-keys')).toEqual({ status: 200, body: { keys: [] } });
    });

    it('rotates to a new current key and lists every key without its secret', async () => {
      const first = await request('POST', '/settings/cta-signing-keys/rotate');
      expect(first.status).toBe(201);
      expect(Object.keys(first.body).sort()).toEqual(['createdAt', 'kid']);
      const second = await request('POST', '/settings/cta-signing-keys/rotate');

      const listed = await request('GET', '/settings/cta-signing-keys');
      expect(listed.status).toBe(200);
      const kids = listed.body.keys.map((key: { kid: string }) => key.kid);
      expect(kids).toEqual(expect.arrayContaining([first.body.kid, second.body.kid]));
      expect(
        listed.body.keys.filter((key: { current: boolean }) => key.current).map((key: { kid: string }) => key.kid),
      ).toEqual([second.body.kid]);
    });

    it('refuses to retire the current key with 409 and an unknown key with 404, changing nothing', async () => {
      const before = (await request('GET', '/settings/cta-signing-keys')).body.keys;
      const current = before.find((key: { current: boolean }) => key.current).kid;

      const refused = await request('DELETE', `/settings/cta-signing-keys/${current}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('current_key');
      expect((await request('DELETE', '/settings/cta-signing-keys/noSuchKey')).status).toBe(404);

      expect((await request('GET', '/settings/cta-signing-keys')).body.keys).toEqual(before);
    });

    it('answers 400 naming the kid for a malformed key id', async () => {
      const response = await request('DELETE', `/settings/cta-signing-keys/${'x'.repeat(40)}`);
      expect(response.status).toBe(400);
      expect(response.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['kid']);
    });

    it('retires an old key with 204', async () => {
      const keys = (await request('GET', '/settings/cta-signing-keys')).body.keys;
      const old = keys.find((key: { current: boolean }) => !key.current).kid;
      const response = await request('DELETE', `/settings/cta-signing-keys/${old}`);
      expect(response.status).toBe(204);
      expect(
        (await request('GET', '/settings/cta-signing-keys')).body.keys.map((key: { kid: string }) => key.kid),
      ).not.toContain(old);
    });

    it('answers 503 when no DRIPLINE_SECRET_KEY is configured', async () => {
      const response = await request('POST', '/no-secret-key/cta-signing-keys/rotate');
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('secret_key_missing');
    });

    it('puts no secret in any response or log', async () => {
      const keyring = await ctaKeyringReader(db, box, { cacheMs: 0 })();
      const secrets = [...keyring.keys.values()].flatMap((key) => [
        key.secret.toString('base64url'),
        key.secret.toString('base64'),
        key.secret.toString('hex'),
      ]);
      const seen = [...bodies, ...logs.text()].join('\n');
      for (const secret of secrets) expect(seen).not.toContain(secret);
      expect(logs.text()).toEqual([]);
    });
  });

  describe('/cta/template-json', () => {
    const valid = {
      name: 'project_update_template',
      language: 'en',
      body: { text: 'Hi {{1}}, interested in {{2}}?', examples: ['Asha', 'Palm Grove'] },
      footer: 'Bop Realty',
      buttons: [
        {
          type: 'URL',
          text: 'Interested ✅',
          url: 'https://crm.example.com/track/{{1}}',
          example: 'https://crm.example.com/track/1?token=t&action=interested',
        },
        {
          type: 'URL',
          text: 'Not interested ❌',
          url: 'https://crm.example.com/track/{{1}}',
          example: 'https://crm.example.com/track/1?token=t&action=not_interested',
        },
      ],
    };

    it("answers the provider's template-creation JSON for a valid description", async () => {
      const response = await request('POST', '/cta/template-json', valid);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'project_update_template', language: 'en', category: 'MARKETING' });
      expect(response.body.components.map((c: { type: string }) => c.type)).toEqual(['BODY', 'FOOTER', 'BUTTONS']);
      expect(response.body.components[2].buttons[0]).toEqual({
        type: 'URL',
        text: 'Interested ✅',
        url: 'https://crm.example.com/track/{{1}}',
        example: ['https://crm.example.com/track/1?token=t&action=interested'],
      });
    });

    it('answers 400 listing every rule the description breaks', async () => {
      const response = await request('POST', '/cta/template-json', {
        ...valid,
        name: 'Project Update',
        body: { text: 'Hi {{1}}, interested in {{3}}?', examples: ['Asha'] },
        footer: 'Hello {{1}}',
        buttons: [
          ...valid.buttons,
          { type: 'URL', text: 'A third link that is far too long', url: 'http://crm.example.com/{{1}}/x' },
        ],
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(
        response.body.error.issues.map(
          (issue: { location: string; path: string }) => `${issue.location}.${issue.path}`,
        ),
      ).toEqual([
        'body.name',
        'body.body.text',
        'body.footer',
        'body.buttons',
        'body.buttons.2.text',
        'body.buttons.2.url',
        'body.buttons.2.url',
      ]);
    });

    it('answers 400 naming missing or mistyped fields, and unknown ones', async () => {
      const response = await request('POST', '/cta/template-json', {
        name: 'x',
        buttons: [{ type: 'URL', text: 'Open' }],
        extra: true,
      });
      expect(response.status).toBe(400);
      const paths = response.body.error.issues.map((issue: { path: string }) => issue.path);
      expect(paths).toEqual(expect.arrayContaining(['body', 'buttons.0.url']));
      expect(response.body.error.issues.some((issue: { message: string }) => issue.message.includes('extra'))).toBe(
        true,
      );
    });

    it("answers the seed's project_update_template for a base URL", async () => {
      const response = await request('POST', '/cta/template-json/project-update', {
        baseUrl: 'https://crm.example.com',
      });
      expect(response.status).toBe(200);
      expect(response.body.name).toBe('project_update_template');
      const buttons = response.body.components.find((c: { type: string }) => c.type === 'BUTTONS').buttons;
      expect(buttons.map((b: { text: string; url: string }) => [b.text, b.url])).toEqual([
        ['Interested ✅', 'https://crm.example.com/track/{{1}}'],
        ['Not interested ❌', 'https://crm.example.com/track/{{1}}'],
      ]);
    });

    it('answers 400 naming baseUrl when it is not plain https, and the footer when it breaks the rules', async () => {
      const badBase = await request('POST', '/cta/template-json/project-update', { baseUrl: 'http://localhost:3000' });
      expect(badBase.status).toBe(400);
      expect(badBase.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['baseUrl']);
      const badFooter = await request('POST', '/cta/template-json/project-update', {
        baseUrl: 'https://crm.example.com',
        footer: 'x'.repeat(61),
      });
      expect(badFooter.status).toBe(400);
      expect(badFooter.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual(['footer']);
    });
  });
});
