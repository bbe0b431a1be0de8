import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError, type ProviderErrorKind } from '../../src/providers/errors';
import {
  META_ECOSYSTEM_RETRY_MS,
  META_PAIR_RATE_RETRY_MS,
  createMetaProvider,
  type MetaProviderOptions,
} from '../../src/providers/meta';
import type { TemplateSend } from '../../src/providers/types';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';

const TOKEN = 'EAAGm0PX4ZCpsBAKsecret-system-user-token';
const PHONE_NUMBER_ID = '106540352242922';
const API_VERSION = 'v21.0';
/** For the timeout cases only; other sends get a loaded machine's worth of patience. */
const TIMEOUT_MS = 300;

const welcome: TemplateSend = {
  to: '+919876543210',
  templateName: 'welcome_message',
  languageCode: 'en',
  bodyValues: ['Asha', 'Acme'],
  callbackData: 'drip-42:0',
};

let running: StartedMetaEmulator;
const client = (overrides: Partial<MetaProviderOptions> = {}) =>
  createMetaProvider({
    graphBaseUrl: running.url,
    apiVersion: API_VERSION,
    phoneNumberId: PHONE_NUMBER_ID,
    getAccessToken: async () => TOKEN,
    timeoutMs: 5_000,
    ...overrides,
  });

async function sendError(send: Promise<unknown>, token = TOKEN): Promise<ProviderError> {
  const error = await send.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const providerError = error as ProviderError;
  expect(providerError.message).not.toContain(token);
  return providerError;
}

beforeAll(async () => {
  running = await startMetaEmulator({
    accessToken: TOKEN,
    phoneNumberId: PHONE_NUMBER_ID,
    autoWebhooks: false,
    templates: [
      {
        name: 'order_update',
        language: 'en_US',
        header: { format: 'TEXT', text: 'Order {{1}}' },
        body: 'Hi {{1}}, your order {{2}} has shipped.',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Help' },
          { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' },
        ],
      },
      {
        name: 'spring_sale',
        language: 'en',
        header: { format: 'IMAGE' },
        body: 'Hi {{1}}, our spring sale starts today.',
      },
    ],
  });
});
afterAll(async () => {
  await running.close();
});
beforeEach(() => {
  running.emulator.reset();
});

describe('Meta client against the emulator', () => {
  it('posts the documented template body to /<version>/<phone-number-id>/messages and returns the wamid', async () => {
    const accepted = await client().sendTemplate(welcome);

    const [message] = running.emulator.state.acceptedMessages();
    expect(message!.id).toMatch(/^wamid\./);
    expect(accepted).toEqual({ provider: 'meta', providerMessageId: message!.id, sender: PHONE_NUMBER_ID });

    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({
      method: 'POST',
      path: `/${API_VERSION}/${PHONE_NUMBER_ID}/messages`,
      authorized: true,
      responseStatus: 200,
      headers: { authorization: 'Bearer ***', 'content-type': 'application/json' },
    });
    expect(request!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '919876543210',
      type: 'template',
      template: {
        name: 'welcome_message',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Asha' },
              { type: 'text', text: 'Acme' },
            ],
          },
        ],
      },
      biz_opaque_callback_data: 'drip-42:0',
    });
  });

  it('sends a document header with its file name, body values, and nothing for quick replies', async () => {
    await client().sendTemplate({
      to: '+919876543210',
      templateName: 'seller_registration',
      languageCode: 'en',
      headerValues: ['https://example.com/form.pdf'],
      fileName: 'Registration.pdf',
      bodyValues: ['Asha'],
      buttonValues: {},
    });

    const [request] = running.emulator.state.requests();
    expect(request!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '919876543210',
      type: 'template',
      template: {
        name: 'seller_registration',
        language: { code: 'en' },
        components: [
          {
            type: 'header',
            parameters: [
              { type: 'document', document: { link: 'https://example.com/form.pdf', filename: 'Registration.pdf' } },
            ],
          },
          { type: 'body', parameters: [{ type: 'text', text: 'Asha' }] },
        ],
      },
    });
    expect(running.emulator.state.acceptedMessages()[0]).toMatchObject({
      headerMedia: { type: 'document', link: 'https://example.com/form.pdf', filename: 'Registration.pdf' },
      fileName: 'Registration.pdf',
      bodyValues: ['Asha'],
    });
  });

  it('sends a text header and the URL-button suffix at the button index it belongs to', async () => {
    await client().sendTemplate({
      to: '+919876543210',
      templateName: 'order_update',
      languageCode: 'en_US',
      headerValues: ['#1042'],
      bodyValues: ['Asha', '#1042'],
      buttonValues: { '1': ['1042?ref=wa'] },
    });

    const body = running.emulator.state.requests()[0]!.body as { template: { components: unknown[] } };
    expect(body.template.components).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: '#1042' }] },
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Asha' },
          { type: 'text', text: '#1042' },
        ],
      },
      { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: '1042?ref=wa' }] },
    ]);
    expect(running.emulator.state.acceptedMessages()[0]).toMatchObject({
      headerValues: ['#1042'],
      buttonValues: { '1': ['1042?ref=wa'] },
    });
  });

  it('labels a media header by headerFormat, or by the URL when the format is not given', async () => {
    const sale = { to: '+919876543210', templateName: 'spring_sale', languageCode: 'en', bodyValues: ['Asha'] };
    await client().sendTemplate({ ...sale, headerValues: ['https://cdn.example/sale'], headerFormat: 'image' });
    await client().sendTemplate({ ...sale, headerValues: ['https://cdn.example/sale.png'] });

    const headers = running.emulator.state
      .requests()
      .map((request) => (request.body as { template: { components: unknown[] } }).template.components[0]);
    expect(headers).toEqual([
      { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example/sale' } }] },
      { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example/sale.png' } }] },
    ]);
    expect(running.emulator.state.acceptedMessages()).toHaveLength(2);
  });

  it('omits components for a template without variables and biz_opaque_callback_data without callbackData', async () => {
    running.emulator.state.upsertTemplate({ name: 'plain_hello', language: 'en', body: 'Hello from Acme.' });
    await client().sendTemplate({ to: '+919876543210', templateName: 'plain_hello', languageCode: 'en' });
    const body = running.emulator.state.requests()[0]!.body as Record<string, unknown>;
    expect(body.template).toEqual({ name: 'plain_hello', language: { code: 'en' } });
    expect(body).not.toHaveProperty('biz_opaque_callback_data');
  });

  it('reads the access token per send, so a rotated token is used by the next send', async () => {
    let current = 'old-token-no-longer-valid';
    const rotating = client({ getAccessToken: () => current });
    expect((await sendError(rotating.sendTemplate(welcome), current)).kind).toBe('config');
    current = TOKEN;
    await expect(rotating.sendTemplate(welcome)).resolves.toMatchObject({ provider: 'meta' });
  });
});

describe('Meta error classification (providers.md §3.5)', () => {
  const table: Array<[code: number, kind: ProviderErrorKind, retryAfterMs?: number]> = [
    [0, 'config'],
    [190, 'config'],
    [3, 'config'],
    [10, 'config'],
    [200, 'config'],
    [294, 'config'],
    [368, 'config'],
    [131031, 'config'],
    [131042, 'config'],
    [1, 'retryable'],
    [2, 'retryable'],
    [4, 'retryable'],
    [80007, 'retryable'],
    [130429, 'retryable'],
    [131000, 'retryable'],
    [131056, 'retryable', META_PAIR_RATE_RETRY_MS],
    [131049, 'retryable', META_ECOSYSTEM_RETRY_MS],
    [100, 'permanent'],
    [131008, 'permanent'],
    [131026, 'permanent'],
    [131047, 'permanent'],
    [131048, 'permanent'],
    [131050, 'permanent'],
    [130472, 'permanent'],
    [132000, 'permanent'],
    [132001, 'permanent'],
    [132015, 'permanent'],
    [132016, 'permanent'],
  ];

  it.each(table)(
    'classifies Graph error %i as %s, with code, details and fbtrace_id in the message',
    async (code, kind, retryAfterMs) => {
      running.emulator.state.injectFault({ kind: 'graph_error', code, details: `details for ${code}` });
      const error = await sendError(client().sendTemplate(welcome));

      const [request] = running.emulator.state.requests();
      const graph = (request!.responseBody as { error: { fbtrace_id: string } }).error;
      expect(error).toMatchObject({ kind, code: `meta_${code}`, details: { httpStatus: request!.responseStatus } });
      expect(error.details.retryAfterMs).toBe(retryAfterMs);
      expect(error.message).toContain(`Meta error ${code}`);
      expect(error.message).toContain(`details: details for ${code}`);
      expect(error.message).toContain(`fbtrace_id: ${graph.fbtrace_id}`);
      expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
    },
  );

  it('classifies an HTTP 5xx-wrapped configuration code as config, not retryable: the code decides', async () => {
    running.emulator.state.injectFault({ kind: 'graph_error', code: 3, httpStatus: 500 });
    expect(await sendError(client().sendTemplate(welcome))).toMatchObject({
      kind: 'config',
      details: { httpStatus: 500 },
    });
  });

  it('uses Retry-After over the default delay when Meta sends one', async () => {
    running.emulator.state.injectFault({ kind: 'graph_error', code: 130429, retryAfterSeconds: 3 });
    expect(await sendError(client().sendTemplate(welcome))).toMatchObject({
      kind: 'retryable',
      details: { httpStatus: 429, retryAfterMs: 3000 },
    });
    running.emulator.state.injectFault({ kind: 'graph_error', code: 131056, retryAfterSeconds: 16 });
    expect((await sendError(client().sendTemplate(welcome))).details.retryAfterMs).toBe(16_000);
  });

  it.each([500, 502, 503] as const)('classifies HTTP %i as retryable', async (status) => {
    running.emulator.state.injectFault({ kind: 'http_5xx', status });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'retryable', details: { httpStatus: status } });
    expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
  });

  it('classifies an unknown template as permanent 132001 with Meta details', async () => {
    const error = await sendError(client().sendTemplate({ ...welcome, templateName: 'no_such_template' }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'meta_132001' });
    expect(error.message).toContain('template name (no_such_template) does not exist in en');
  });

  it('classifies a wrong body-value count as permanent 132000', async () => {
    const error = await sendError(client().sendTemplate({ ...welcome, bodyValues: ['Asha'] }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'meta_132000' });
    expect(error.message).toContain(
      'body: number of localizable_params (1) does not match the expected number of params (2)',
    );
  });

  it('classifies a missing URL-button suffix as permanent 131008', async () => {
    const error = await sendError(
      client().sendTemplate({
        to: '+919876543210',
        templateName: 'order_update',
        languageCode: 'en_US',
        headerValues: ['#1'],
        bodyValues: ['Asha', '#1'],
      }),
    );
    expect(error).toMatchObject({ kind: 'permanent', code: 'meta_131008' });
    expect(error.message).toContain('Button at index 1 of type Url requires a parameter');
  });

  it('classifies a wrong token as config 190, and the token appears in no error and no recorded request', async () => {
    const wrongToken = 'EAAGwrong-token-that-must-not-leak';
    const error = await sendError(client({ getAccessToken: () => wrongToken }).sendTemplate(welcome), wrongToken);
    expect(error).toMatchObject({ kind: 'config', code: 'meta_190', details: { httpStatus: 401 } });
    expect(JSON.stringify(running.emulator.state.requests())).not.toContain(wrongToken);
  });

  it('classifies an empty or unreadable token as config before any request', async () => {
    expect(await sendError(client({ getAccessToken: () => '  ' }).sendTemplate(welcome))).toMatchObject({
      kind: 'config',
      code: 'access_token_missing',
    });
    expect(
      await sendError(
        client({ getAccessToken: () => Promise.reject(new Error('vault sealed')) }).sendTemplate(welcome),
      ),
    ).toMatchObject({ kind: 'config', code: 'access_token_unavailable' });
    expect(running.emulator.state.requests()).toHaveLength(0);
  });

  it('refuses a recipient that is not E.164, or a non-numeric button index, as permanent without sending', async () => {
    expect(await sendError(client().sendTemplate({ ...welcome, to: '09876543210' }))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_recipient',
    });
    expect(await sendError(client().sendTemplate({ ...welcome, buttonValues: { first: ['x'] } }))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_request',
    });
    expect(running.emulator.state.requests()).toHaveLength(0);
  });

  it('classifies a refusal of the phone number id as permanent (Graph code 100)', async () => {
    const error = await sendError(client({ phoneNumberId: '999' }).sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'permanent', code: 'meta_100' });
    expect(error.message).toContain("Object with ID '999' does not exist");
  });

  it('classifies no answer in time as ambiguous when the emulator did not accept', async () => {
    running.emulator.state.injectFault({ kind: 'timeout', ms: TIMEOUT_MS * 5 });
    expect(await sendError(client({ timeoutMs: TIMEOUT_MS }).sendTemplate(welcome))).toMatchObject({
      kind: 'ambiguous',
      code: 'timeout',
    });
    expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
  });

  it('classifies a late answer as ambiguous although the emulator accepted the message', async () => {
    running.emulator.state.injectFault({ kind: 'accept_then_timeout', ms: TIMEOUT_MS * 5 });
    expect(await sendError(client({ timeoutMs: TIMEOUT_MS }).sendTemplate(welcome))).toMatchObject({
      kind: 'ambiguous',
      code: 'timeout',
    });
    expect(running.emulator.state.acceptedMessages()).toEqual([
      expect.objectContaining({ callbackData: 'drip-42:0', phone: '+919876543210' }),
    ]);
  });

  it('applies a fault only to sends to the matching phone', async () => {
    running.emulator.state.injectFault({ kind: 'graph_error', code: 131056, match: { phone: '+919812345678' } });
    await client().sendTemplate(welcome);
    expect((await sendError(client().sendTemplate({ ...welcome, to: '+919812345678' }))).code).toBe('meta_131056');
    expect(running.emulator.state.acceptedMessages().map((message) => message.phone)).toEqual(['+919876543210']);
  });

  it('classifies a refused connection as retryable network error', async () => {
    const closed = await startMetaEmulator();
    await closed.close();
    expect(await sendError(client({ graphBaseUrl: closed.url }).sendTemplate(welcome))).toMatchObject({
      kind: 'retryable',
      code: 'network',
    });
  });

  it('classifies a connection dropped after the request was read as ambiguous, not safe to resend', async () => {
    const dropping = createServer((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as AddressInfo;
    try {
      const error = await sendError(client({ graphBaseUrl: `http://127.0.0.1:${port}` }).sendTemplate(welcome));
      expect(error).toMatchObject({ kind: 'ambiguous', code: 'connection_lost' });
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});

describe('Meta client against answers the emulator does not give', () => {
  let server: Server;
  let baseUrl: string;
  let next: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
        res.end(next.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = () =>
    sendError(
      createMetaProvider({
        graphBaseUrl: baseUrl,
        apiVersion: API_VERSION,
        phoneNumberId: PHONE_NUMBER_ID,
        getAccessToken: () => TOKEN,
        timeoutMs: 1_000,
      }).sendTemplate(welcome),
    );
  const graphError = (code: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      error: { message: `(#${code}) Something`, type: 'OAuthException', code, fbtrace_id: 'AbC', ...extra },
    });

  it.each([
    [
      'a 2xx without messages',
      200,
      '{"messaging_product":"whatsapp","contacts":[{"input":"919876543210","wa_id":"919876543210"}]}',
    ],
    ['a 2xx with an empty id', 200, '{"messages":[{"id":""}]}'],
    ['a 2xx that is not JSON', 200, '<html>ok</html>'],
    ['an empty 2xx', 200, ''],
  ])('classifies %s as ambiguous', async (_what, status, body) => {
    next = { status, body };
    expect(await send()).toMatchObject({ kind: 'ambiguous', code: 'unexpected_response' });
  });

  it('falls back to the HTTP status for a code it does not know', async () => {
    next = { status: 400, body: graphError(999_001) };
    expect(await send()).toMatchObject({ kind: 'permanent', code: 'meta_999001' });
    next = { status: 503, body: graphError(999_002), headers: { 'Retry-After': '2' } };
    expect(await send()).toMatchObject({ kind: 'retryable', code: 'meta_999002', details: { retryAfterMs: 2000 } });
    next = { status: 403, body: graphError(999_003) };
    expect(await send()).toMatchObject({ kind: 'config', code: 'meta_999003' });
  });

  it('classifies bare 401/403 as config and a bare 429 as retryable with Retry-After', async () => {
    next = { status: 401, body: 'Unauthorized' };
    expect(await send()).toMatchObject({ kind: 'config', code: 'unauthorized' });
    next = { status: 403, body: '' };
    expect(await send()).toMatchObject({ kind: 'config', code: 'forbidden' });
    next = { status: 429, body: '', headers: { 'Retry-After': '9' } };
    expect(await send()).toMatchObject({ kind: 'retryable', code: 'rate_limited', details: { retryAfterMs: 9000 } });
  });

  it('never repeats the token even when the error echoes it', async () => {
    next = { status: 400, body: graphError(100, { error_data: { details: `bad token ${TOKEN}` } }) };
    const error = await send();
    expect(error.message).toContain('details: bad token [redacted]');
  });
});
