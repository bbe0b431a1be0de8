import { gzipSync } from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { ApiOptions } from '../../src/api/context';
import { generateApiKey } from '../../src/api/auth';
import { executeStatement, type Db } from '../../src/db/client';
import { claimOutgoingMessage, createApiKey, createLead } from '../../src/db/queries';
import { infobipBasicAuthHeader } from '../../src/providers/infobip-webhook';
import { apiClient, listen, type RunningApp } from '../support/api';
import { createTestDb } from '../support/db';
import { openStream } from '../support/sse';
import { seedTemplates } from '../support/templates';
import { captureLogs } from '../support/logs';

/**
 * Each input that once stalled, crashed or 500'd the API (issue 9), now refused with a 4xx that
 * names the field, with nothing written. No workflow runs: Temporal is a lazy client that never
 * connects. Speed items are proven by bounded work (the input is refused before any scan), never
 * by timing.
 */
describe('hostile input', () => {
  let db: Db;
  let api: RunningApp;
  let request: ReturnType<typeof apiClient>;
  let apiKey: string;
  const logs = captureLogs();

  const deps = (): ApiOptions => ({
    db,
    temporal: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', interceptors: [] }) }),
    taskQueue: 'hardening',
    sendTaskQueue: 'hardening-sends-interakt',
    defaultCountry: 'IN',
    interaktWebhookSecret: 'interakt-webhook-secret',
    metaAppSecret: 'meta-app-secret',
    infobipWebhookUsername: 'infobip-user',
    infobipWebhookPassword: 'infobip-password',
    log: logs.logger,
    liveLog: { maxStreams: 2, maxReplayRows: 10 },
  });

  beforeAll(async () => {
    db = await createTestDb();
    await seedTemplates(db);
    api = await listen(createApp(deps()));
    const { key, keyHash, keyPrefix } = generateApiKey();
    await createApiKey(db, { name: 'test', keyHash, keyPrefix });
    apiKey = key;
    request = apiClient(api.url, key);
  });

  afterAll(async () => {
    await api?.close();
    await db?.close();
  });

  interface ErrorBody {
    error: { issues?: { location: string; path: string; message: string }[] };
  }
  const issues = (body: ErrorBody) => body.error.issues ?? [];
  const paths = (body: ErrorBody) => issues(body).map((issue) => issue.path);
  const total = async (path: string): Promise<number> => (await request('GET', path)).body.total as number;

  describe('1. a template variable number is bounded, never an allocation', () => {
    const template = { name: 'huge_variable', category: 'UTILITY', body: 'Hi {{1}}' };

    it.each(['Hi {{1}} {{30000000}}', 'Hi {{1}} {{99999999999999999999999}}', `Hi {{1}} {{${'9'.repeat(400)}}}`])(
      'POST /templates with body %j answers 400 naming body, and stores nothing',
      async (body) => {
        const before = await total('/templates?includeArchived=true');
        const response = await request('POST', '/templates', { ...template, body });
        expect(response.status).toBe(400);
        expect(issues(response.body)).toContainEqual({
          location: 'body',
          path: 'body',
          message: expect.stringContaining('{{1}} to {{100}} at most'),
        });
        expect(await total('/templates?includeArchived=true')).toBe(before);
      },
    );

    it('PATCH /templates/:id refuses the same body and leaves the template as it was', async () => {
      const created = await request('POST', '/templates', template);
      expect(created.status).toBe(201);
      const response = await request('PATCH', `/templates/${created.body.id}`, {
        body: 'Hi {{1}} {{99999999999999999999999}}',
      });
      expect(response.status).toBe(400);
      expect(paths(response.body)).toContain('body');
      expect((await request('GET', `/templates/${created.body.id}`)).body.body).toBe('Hi {{1}}');
    });

    it('the template JSON builder refuses it too', async () => {
      const response = await request('POST', '/cta/template-json', {
        name: 'x',
        body: { text: 'Hi {{1}} {{30000000}}', examples: ['a'] },
      });
      expect(response.status).toBe(400);
      expect(issues(response.body)).toContainEqual({
        location: 'body',
        path: 'body.text',
        message: expect.stringContaining('at most'),
      });
    });
  });

  describe('2. the template JSON builder bounds every text before scanning it', () => {
    it('refuses a body of 60,000 `{` on its length alone: the variable scan never ran', async () => {
      const response = await request('POST', '/cta/template-json', {
        name: 'braces',
        body: { text: '{'.repeat(60_000) },
      });
      expect(response.status).toBe(400);
      // Had the scan run, it would have added its own finding about the braces; only the length is reported.
      expect(issues(response.body)).toEqual([
        { location: 'body', path: 'body.text', message: expect.stringContaining('<=4096') },
      ]);
    });

    it.each([
      ['header.text', { header: { type: 'text', text: 'h'.repeat(100_000) } }],
      ['footer', { footer: 'f'.repeat(100_000) }],
      ['buttons.0.url', { buttons: [{ type: 'URL', text: 'Go', url: `https://x.example/${'{'.repeat(100_000)}` }] }],
      ['name', { name: 'n'.repeat(100_000) }],
    ])('refuses an over-long %s with 400 naming it', async (path, fields) => {
      const response = await request('POST', '/cta/template-json', {
        name: 'ok_name',
        body: { text: 'Hello' },
        ...fields,
      });
      expect(response.status).toBe(400);
      expect(paths(response.body)).toEqual([path]);
    });

    it('still reads a body within the limit that is full of braces, and names what is wrong with it', async () => {
      const response = await request('POST', '/cta/template-json', {
        name: 'braces',
        body: { text: `${'{'.repeat(500)}{{name}}` },
      });
      expect(response.status).toBe(400);
      expect(issues(response.body)).toContainEqual(
        expect.objectContaining({ path: 'body.text', message: expect.stringContaining('{{name}}') }),
      );
    });
  });

  describe('3. the live log replays a bounded amount and caps its streams', () => {
    it('replays at most maxReplayRows from Last-Event-ID 0-0, then sends a reset event', async () => {
      const lead = await createLead(db, { name: 'Streamed', phone: '+919800000301' });
      for (let i = 0; i < 25; i++) {
        await claimOutgoingMessage(db, {
          idempotencyKey: `replay-${i}`,
          leadId: lead.id,
          phone: lead.phone,
          provider: 'interakt',
          templateName: 'welcome',
          templateLanguage: 'en',
          messageContent: {},
          referenceType: 'manual',
          referenceId: null,
          workflowId: null,
          stepIndex: null,
          callbackData: null,
        });
      }
      // A log that was written a while ago: the stream catches up on what is older than its settle time.
      await executeStatement(
        db,
        db.dialect === 'mssql'
          ? 'UPDATE WhatsAppMessages SET UpdatedAt = DATEADD(minute, -1, UpdatedAt)'
          : 'UPDATE WhatsAppMessages SET UpdatedAt = UpdatedAt - 60000',
      );
      const stream = await openStream(`${api.url}/messages/stream`, apiKey, { 'last-event-id': '0-0' });
      try {
        await expect.poll(() => stream.events.some((event) => event.event === 'reset'), { timeout: 5_000 }).toBe(true);
        const messages = stream.events.filter((event) => event.event === 'message');
        expect(messages).toHaveLength(10);
        expect(JSON.parse(stream.events.find((event) => event.event === 'reset')!.data!)).toEqual({
          reason: 'replay_limit',
          replayed: 10,
        });
      } finally {
        await stream.close();
      }
    });

    it('refuses a stream past maxStreams with 503 and accepts one again once another closed', async () => {
      const first = await openStream(`${api.url}/messages/stream`, apiKey);
      const second = await openStream(`${api.url}/messages/stream`, apiKey);
      const third = await fetch(`${api.url}/messages/stream`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect([first.response.status, second.response.status, third.status]).toEqual([200, 200, 503]);
      expect(third.headers.get('retry-after')).toBe('10');
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe('too_many_streams');

      await first.close();
      await expect
        .poll(async () => {
          const again = await openStream(`${api.url}/messages/stream`, apiKey);
          const status = again.response.status;
          await again.close();
          return status;
        })
        .toBe(200);
      await second.close();
    });
  });

  describe('4. a body that is not what its Content-Encoding says is a 400', () => {
    const notGzip = Buffer.from('{"this": "is not gzip"}');

    it.each([
      ['/webhooks/interakt', {}],
      ['/webhooks/meta', {}],
      ['/webhooks/infobip', { authorization: infobipBasicAuthHeader('infobip-user', 'infobip-password') }],
      ['/leads', { authorization: 'API_KEY' }],
    ])(
      'POST %s with Content-Encoding: gzip and a plain body answers 400 and logs only its access line',
      async (path, headers: Record<string, string>) => {
        const before = logs.mark();
        const response = await fetch(`${api.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            ...headers,
            ...(headers.authorization === 'API_KEY' && { authorization: `Bearer ${apiKey}` }),
          },
          body: notGzip,
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: { code: 'invalid_body', message: 'request body is not valid for its Content-Encoding' },
        });
        const mine = logs.since(before).filter((line) => line.reqId === response.headers.get('x-request-id'));
        expect(mine).toEqual([
          expect.objectContaining({ msg: expect.stringMatching(new RegExp(`^POST ${path} -> 400 in \\d+ms$`)) }),
        ]);
        expect(mine[0]).not.toHaveProperty('err');
      },
    );

    it('still reads a real gzip body', async () => {
      const response = await fetch(`${api.url}/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${apiKey}` },
        body: gzipSync(JSON.stringify({ name: 'Zipped', phone: '+919800000401' })),
      });
      expect(response.status).toBe(201);
    });
  });

  describe('5. a CTA link with malformed percent-encoding', () => {
    it('gets the invalid-link page (400), and the log never sees the segment', async () => {
      const before = logs.mark();
      const response = await fetch(`${api.url}/track/12%3Ftoken%3D12.3.i.1767225600.kid.SECRETMAC%E0%A4%A`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('text/html');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await response.text()).toContain('This link is no longer valid');
      const lines = logs.text().slice(before).join('\n');
      expect(lines).toContain('CTA link rejected');
      expect(lines).not.toContain('SECRETMAC');
      expect(lines).not.toContain('%E0');
    });
  });

  describe('6. custom-field filters are limited in number', () => {
    it('answers 400 naming customField for 995 field filters, and 200 for 20', async () => {
      const many = Array.from({ length: 995 }, (_, i) => `field.k${i}=v`).join('&');
      const refused = await request('GET', `/leads?${many}`);
      expect(refused.status).toBe(400);
      expect(issues(refused.body)).toEqual([
        { location: 'query', path: 'customField', message: expect.stringContaining('at most 20') },
      ]);

      const twenty = Array.from({ length: 20 }, (_, i) => `field.k${i}=v`).join('&');
      expect((await request('GET', `/leads?${twenty}`)).status).toBe(200);
    });
  });

  describe('7. text fields have a character policy', () => {
    it.each([
      ['name', 'a\u0000b', 'U+0000'],
      ['name', '\u001b[31mred', 'U+001B'],
      ['name', 'Asha \u202Egnp.exe', 'U+202E'],
      ['name', '\u200b', 'visible character'],
      ['status', 'New\r\nInjected: yes', 'U+000D'],
      ['lastName', 'tab\there', 'U+0009'],
      ['customFields.note', 'bell\u0007', 'U+0007'],
    ])('POST /leads refuses %s %j with 400 naming it, and writes nothing', async (field, value, mentions) => {
      const before = await total('/leads');
      const body: Record<string, unknown> = { name: 'Asha', phone: '+919800000501' };
      if (field.startsWith('customFields.')) body.customFields = { [field.slice('customFields.'.length)]: value };
      else body[field] = value;
      const response = await request('POST', '/leads', body);
      expect(response.status).toBe(400);
      expect(issues(response.body)).toEqual([
        { location: 'body', path: field, message: expect.stringContaining(mentions) },
      ]);
      expect(await total('/leads')).toBe(before);
    });

    it('keeps line breaks where text may span lines: a custom field note and a template body', async () => {
      const lead = await request('POST', '/leads', {
        name: 'अनुष्का 😀',
        phone: '+919800000502',
        customFields: { note: 'line one\nline two' },
      });
      expect(lead.status).toBe(201);
      expect(lead.body).toMatchObject({ name: 'अनुष्का 😀', customFields: { note: 'line one\nline two' } });
      const template = await request('POST', '/templates', {
        name: 'two_lines',
        category: 'UTILITY',
        body: 'Hi {{1}},\nsee you.',
      });
      expect(template.status).toBe(201);
      expect(
        (await request('POST', '/templates', { name: 'nul_body', category: 'UTILITY', body: 'Hi\u0000{{1}}' })).status,
      ).toBe(400);
    });

    it('refuses an unknown time zone on a lead', async () => {
      const response = await request('POST', '/leads', {
        name: 'Zoned',
        phone: '+919800000503',
        timeZone: 'Mars/Olympus_Mons',
      });
      expect(response.status).toBe(400);
      expect(paths(response.body)).toEqual(['timeZone']);
      expect(
        (await request('POST', '/leads', { name: 'Zoned', phone: '+919800000503', timeZone: 'Asia/Kolkata' })).status,
      ).toBe(201);
    });
  });

  describe('8. inherited names are not custom fields', () => {
    it.each(['__proto__', 'constructor', 'prototype'])(
      'refuses custom.%s as a variable source with 400',
      async (name) => {
        const before = await total('/sequences?includeArchived=true');
        const response = await request('POST', '/sequences', {
          name: 'Proto',
          steps: [{ templateName: 'welcome', delaySeconds: 0, variables: { body: [{ field: `custom.${name}` }] } }],
        });
        expect(response.status).toBe(400);
        expect(paths(response.body)).toEqual(['steps.0.variables.body.0.field']);
        expect(await total('/sequences?includeArchived=true')).toBe(before);
      },
    );

    it('refuses a body holding a __proto__ key anywhere with 400, and writes nothing', async () => {
      const before = await total('/leads');
      const response = await request(
        'POST',
        '/leads',
        '{"name": "Proto", "phone": "+919800000601", "customFields": {"__proto__": {"x": 1}}}',
      );
      expect(response.status).toBe(400);
      expect(response.body.error).toEqual({ code: 'invalid_body', message: expect.stringContaining('"__proto__"') });
      expect(await total('/leads')).toBe(before);
    });

    it('refuses constructor as a custom field name on a lead', async () => {
      const response = await request('POST', '/leads', {
        name: 'Proto',
        phone: '+919800000602',
        customFields: { constructor: 'x' },
      });
      expect(response.status).toBe(400);
      expect(paths(response.body)).toEqual(['customFields.constructor']);
    });
  });

  describe('9. no personal data in the log', () => {
    it('a failing lead write answers a bare 500 and logs the SQL without its values', async () => {
      await executeStatement(
        db,
        db.dialect === 'mssql'
          ? "CREATE TRIGGER refuse_leads ON Clients INSTEAD OF INSERT AS THROW 50000, 'leads are read-only', 1"
          : "CREATE TRIGGER refuse_leads BEFORE INSERT ON Clients BEGIN SELECT RAISE(ABORT, 'leads are read-only'); END",
      );
      try {
        const before = logs.mark();
        const response = await request('POST', '/leads', {
          name: 'Priya Secretname',
          phone: '+919812398765',
          email: 'priya.secret@example.com',
        });
        expect(response.status).toBe(500);
        expect(response.body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
        // One line with the error, one access line; nothing else.
        const lines = logs.since(before);
        const failures = lines.filter((line) => line.err !== undefined);
        expect(failures).toHaveLength(1);
        expect(lines).toHaveLength(2);
        const failure = JSON.stringify(failures[0]);
        expect(failure).toContain('leads are read-only');
        expect(failure).toMatch(/insert into \\"Clients\\"/i);
        for (const secret of ['Secretname', '9812398765', '98765', 'priya.secret', 'example.com'])
          expect(logs.text().slice(before).join('\n')).not.toContain(secret);
      } finally {
        await executeStatement(db, 'DROP TRIGGER refuse_leads');
      }
    });
  });
});
