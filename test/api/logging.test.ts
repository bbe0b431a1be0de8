import { createHmac, randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { generateApiKey } from '../../src/api/auth';
import { signCtaToken, type CtaKeyring } from '../../src/cta/tokens';
import { executeStatement, type Db } from '../../src/db/client';
import { createApiKey } from '../../src/db/queries';
import { infobipBasicAuthHeader } from '../../src/providers/infobip-webhook';
import { listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { captureLogs, LEVEL, type LogLine } from '../support/logs';

const WEBHOOK_SECRET = 'interakt-webhook-secret-7Qm2xY';
const INFOBIP_PASSWORD = 'infobip-password-Zr55pp';
const PHONE = '+919812398765';
const EMAIL = 'meera.secretmail@example.com';
const NAME = 'Meera Secretname';
const signingKey = { kid: 'k1', secret: randomBytes(32) };
const keyring: CtaKeyring = { current: signingKey, keys: new Map([[signingKey.kid, signingKey]]) };

/**
 * The API's real logger, writing JSON lines to memory, while real requests carry every kind of
 * secret and personal data the API sees: API keys in both headers, a signed webhook, Basic
 * credentials, a CTA link with its token, a lead's phone, e-mail and name (also in a write that
 * fails). None of it reaches a line; every line of a request carries that request's id.
 */
describe('structured logs', () => {
  let db: Db;
  let api: RunningApp;
  let apiKey: string;
  const logs = captureLogs('debug');

  beforeAll(async () => {
    db = await createTestDb();
    api = await listen(
      createApp({
        db,
        temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
        taskQueue: 'logging',
        sendTaskQueue: 'logging-sends-interakt',
        defaultCountry: 'IN',
        interaktWebhookSecret: WEBHOOK_SECRET,
        infobipWebhookUsername: 'infobip-user',
        infobipWebhookPassword: INFOBIP_PASSWORD,
        getCtaKeyring: async () => keyring,
        log: logs.logger,
      }),
    );
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    apiKey = key;
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${api.url}${path}`, init);
  const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
  /** The lines of one request, found by the id its response echoed. */
  const linesOf = (response: Response): LogLine[] => {
    const id = response.headers.get('x-request-id');
    expect(id).toBeTruthy();
    return logs.lines().filter((line) => line.reqId === id);
  };

  describe('secrets and personal data never reach a line', () => {
    const secrets: string[] = [];
    const responses: Response[] = [];

    beforeAll(async () => {
      const token = signCtaToken(keyring, {
        leadId: 7,
        flowId: 3,
        action: 'interested',
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      const statusEvent = JSON.stringify({ type: 'message_api_delivered', data: { message: { id: 'wamid-1' } } });
      const inbound = JSON.stringify({
        type: 'message_received',
        data: { customer: { channel_phone_number: PHONE.slice(1) }, message: { id: 'in-1', message: 'hello' } },
      });
      const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(statusEvent).digest('hex')}`;
      const basic = infobipBasicAuthHeader('infobip-user', INFOBIP_PASSWORD);
      const wrongKey = 'dl_wrong_0123456789abcdefghijkl';
      secrets.push(apiKey, wrongKey, WEBHOOK_SECRET, signature.slice(7), INFOBIP_PASSWORD, basic.slice(6), token);
      secrets.push(token.split('.').at(-1)!, PHONE, PHONE.slice(1), PHONE.slice(3), EMAIL, 'secretmail', NAME);

      const { body, ...headers } = json({ name: NAME, phone: PHONE, email: EMAIL });
      const inboundSignature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(inbound).digest('hex')}`;
      responses.push(
        await call('/leads', { method: 'POST', headers: { ...headers, authorization: `Bearer ${apiKey}` }, body }),
        await call(`/leads?search=${encodeURIComponent(PHONE)}`, { headers: { 'x-api-key': apiKey } }),
        await call(`/leads?search=${encodeURIComponent(EMAIL)}`, { headers: { authorization: `Bearer ${wrongKey}` } }),
        await call('/webhooks/interakt', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'interakt-signature': signature },
          body: statusEvent,
        }),
        await call('/webhooks/interakt', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'interakt-signature': inboundSignature },
          body: inbound,
        }),
        await call('/webhooks/interakt', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'interakt-signature': `sha256=${'0'.repeat(64)}` },
          body: statusEvent,
        }),
        await call('/webhooks/infobip', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: basic },
          body: JSON.stringify({ results: [] }),
        }),
        await call(`/track/7?token=${token}&action=interested`),
        await call(`/track/7%3Ftoken%3D${encodeURIComponent(token)}%26action%3Dinterested%E0%A4%A`),
      );

      // A write that fails: the error is logged (with its SQL), its values are not.
      await executeStatement(
        db,
        db.dialect === 'mssql'
          ? "CREATE TRIGGER refuse_leads ON Clients INSTEAD OF INSERT AS THROW 50000, 'leads are read-only', 1"
          : "CREATE TRIGGER refuse_leads BEFORE INSERT ON Clients BEGIN SELECT RAISE(ABORT, 'leads are read-only'); END",
      );
      try {
        const other = json({ name: NAME, phone: '+919812398766', email: EMAIL });
        responses.push(
          await call('/leads', {
            method: 'POST',
            headers: { 'content-type': other['content-type'], 'x-api-key': apiKey },
            body: other.body,
          }),
        );
        secrets.push('+919812398766', '919812398766');
      } finally {
        await executeStatement(db, 'DROP TRIGGER refuse_leads');
      }
    });

    it('the requests did what they should (so the lines below are about real work)', () => {
      expect(responses.map((response) => response.status)).toEqual([201, 200, 401, 200, 200, 401, 200, 403, 400, 500]);
    });

    it('no line holds a key, a secret, a signature, a token, a phone number, an e-mail address or a name', () => {
      const text = logs.text().join('\n');
      expect(logs.text().length).toBeGreaterThanOrEqual(responses.length);
      for (const secret of secrets) expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
      expect(text).not.toMatch(/token=/);
    });

    it('the failed write is one error line naming the SQL and the driver error, beside its access line', () => {
      const lines = linesOf(responses.at(-1)!);
      expect(lines.map((line) => [line.level, line.msg])).toEqual([
        [LEVEL.error, 'request failed'],
        [LEVEL.error, expect.stringMatching(/^POST \/leads -> 500 in \d+ms$/)],
      ]);
      expect(lines[0]).toMatchObject({
        route: '/leads',
        err: { message: expect.stringMatching(/insert into "Clients".*leads are read-only/is) },
      });
    });

    it('a CTA link is logged by its pattern only, and the route line says why it was refused', () => {
      const lines = linesOf(responses[7]!);
      expect(lines.map((line) => line.msg)).toEqual([
        'CTA link rejected',
        expect.stringMatching(/^GET \/track\/:leadId -> 403 in \d+ms$/),
      ]);
      expect(lines[0]).toMatchObject({ leadId: 7, reason: 'run_not_found' });
    });
  });

  describe('request ids', () => {
    it('every line of one request carries the same id, also lines written by the route through the context logger', async () => {
      const response = await call('/track/7?token=not-a-token&action=interested');
      const id = response.headers.get('x-request-id');
      const lines = linesOf(response);
      expect(lines.length).toBe(2);
      expect(new Set(lines.map((line) => line.reqId))).toEqual(new Set([id]));
    });

    it('honours a sane X-Request-Id and echoes it', async () => {
      const response = await call('/health/nowhere', { headers: { 'x-request-id': 'lb-4f2a.9:77_x' } });
      expect(response.headers.get('x-request-id')).toBe('lb-4f2a.9:77_x');
      expect(linesOf(response)).toHaveLength(1);
    });

    it.each([
      ['too long', 'a'.repeat(65)],
      ['with spaces', 'a b'],
      ['with quotes', 'id"injected'],
      ['empty', ''],
    ])('replaces an X-Request-Id %s with its own', async (_what, given) => {
      const response = await call('/leads', { headers: { 'x-request-id': given } });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(id).not.toBe(given);
    });

    it('gives concurrent requests different ids', async () => {
      const responses = await Promise.all(Array.from({ length: 5 }, () => call('/leads')));
      const ids = responses.map((response) => response.headers.get('x-request-id'));
      expect(new Set(ids).size).toBe(5);
    });
  });
});
