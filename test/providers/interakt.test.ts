import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors';
import { createInteraktProvider } from '../../src/providers/interakt';
import { parseRetryAfter } from '../../src/providers/transport';
import type { TemplateSend } from '../../src/providers/types';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';

const API_KEY = 'aW50ZXJha3Qtc2VjcmV0LWtleQ==';
const TIMEOUT_MS = 300;

const welcome: TemplateSend = {
  to: '+919876543210',
  templateName: 'welcome_message',
  languageCode: 'en',
  bodyValues: ['Asha', 'Acme'],
  callbackData: 'drip-42:0',
};

let running: StartedInteraktEmulator;
const client = (apiKey = API_KEY) =>
  createInteraktProvider({ baseUrl: running.baseUrl, getApiKey: async () => apiKey, timeoutMs: TIMEOUT_MS });

async function sendError(send: Promise<unknown>): Promise<ProviderError> {
  const error = await send.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const providerError = error as ProviderError;
  expect(providerError.message).not.toContain(API_KEY);
  return providerError;
}

beforeAll(async () => {
  running = await startInteraktEmulator({ apiKey: API_KEY, autoWebhooks: false });
});
afterAll(async () => {
  await running.close();
});
beforeEach(() => {
  running.emulator.reset();
});

describe('Interakt client against the emulator', () => {
  it('posts the documented wire body to /message/ and returns the Interakt id', async () => {
    const accepted = await client().sendTemplate(welcome);

    const [message] = running.emulator.state.acceptedMessages();
    expect(accepted).toEqual({ provider: 'interakt', providerMessageId: message!.id });

    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/public/message/',
      authorized: true,
      responseStatus: 201,
      headers: { authorization: 'Basic ***', 'content-type': 'application/json' },
    });
    expect(request!.body).toEqual({
      countryCode: '+91',
      phoneNumber: '9876543210',
      callbackData: 'drip-42:0',
      type: 'Template',
      template: { name: 'welcome_message', languageCode: 'en', bodyValues: ['Asha', 'Acme'] },
    });
    expect(request!.body).not.toHaveProperty('fullPhoneNumber');
  });

  it('sends header values, file name and button values, and omits empty ones', async () => {
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
      countryCode: '+91',
      phoneNumber: '9876543210',
      type: 'Template',
      template: {
        name: 'seller_registration',
        languageCode: 'en',
        headerValues: ['https://example.com/form.pdf'],
        fileName: 'Registration.pdf',
        bodyValues: ['Asha'],
      },
    });
    expect(running.emulator.state.acceptedMessages()).toHaveLength(1);
  });

  it('sends the key exactly as configured after "Basic ", which the emulator checks byte for byte', async () => {
    await client(`  ${API_KEY}\n`).sendTemplate(welcome);
    expect(running.emulator.state.requests()[0]!.authorized).toBe(true);
  });

  it.each([500, 502, 503] as const)('classifies HTTP %i as retryable', async (status) => {
    running.emulator.state.injectFault({ kind: 'http_5xx', status });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'retryable', code: `http_${status}`, details: { httpStatus: status } });
    expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
  });

  it('classifies 429 as retryable and carries Retry-After in ms', async () => {
    running.emulator.state.injectFault({ kind: 'rate_limit', retryAfterSeconds: 7 });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      details: { httpStatus: 429, retryAfterMs: 7000 },
    });
    expect(error.message).toContain('Rate limit exceeded for this resource');
  });

  it('classifies 429 without Retry-After as retryable with no delay hint', async () => {
    running.emulator.state.injectFault({ kind: 'rate_limit' });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error.kind).toBe('retryable');
    expect(error.details.retryAfterMs).toBeUndefined();
  });

  it('classifies no answer in time as ambiguous when the emulator did not accept', async () => {
    running.emulator.state.injectFault({ kind: 'timeout', ms: TIMEOUT_MS * 5 });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'timeout' });
    expect(running.emulator.state.acceptedMessages()).toHaveLength(0);
  });

  it('classifies a late answer as ambiguous although the emulator accepted the message', async () => {
    running.emulator.state.injectFault({ kind: 'accept_then_timeout', ms: TIMEOUT_MS * 5 });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'timeout' });
    const accepted = running.emulator.state.acceptedMessages();
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ callbackData: 'drip-42:0', phone: '+919876543210' });
  });

  it('classifies a result:false rejection as permanent and keeps the reason', async () => {
    running.emulator.state.injectFault({
      kind: 'permanent',
      message: 'Please correct the following error - Customer is not available for the organization',
    });
    const error = await sendError(client().sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'permanent', code: 'invalid_recipient', details: { httpStatus: 400 } });
    expect(error.message).toContain('Customer is not available for the organization');
  });

  it('classifies an unknown template as permanent invalid_template with Interakt reason', async () => {
    const error = await sendError(client().sendTemplate({ ...welcome, templateName: 'no_such_template' }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'invalid_template' });
    expect(error.message).toContain('No approved template found with name no_such_template and language en');
  });

  it('classifies a wrong body-value count as permanent', async () => {
    const error = await sendError(client().sendTemplate({ ...welcome, bodyValues: ['Asha'] }));
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('expects 2 body values, received 1');
  });

  it('classifies a wrong key as config, without echoing the key', async () => {
    const wrongKey = 'd3Jvbmcta2V5LXRoYXQtbXVzdC1ub3QtbGVhaw==';
    const error = await sendError(client(wrongKey).sendTemplate(welcome));
    expect(error).toMatchObject({ kind: 'config', code: 'unauthorized', details: { httpStatus: 401 } });
    expect(error.message).toContain('Invalid token provided');
    expect(error.message).not.toContain(wrongKey);
    expect(JSON.stringify(running.emulator.state.requests())).not.toContain(wrongKey);
  });

  it('classifies an empty or unreadable key as config before any request', async () => {
    const empty = createInteraktProvider({ baseUrl: running.baseUrl, getApiKey: () => '', timeoutMs: TIMEOUT_MS });
    expect(await sendError(empty.sendTemplate(welcome))).toMatchObject({ kind: 'config', code: 'api_key_missing' });
    const failing = createInteraktProvider({
      baseUrl: running.baseUrl,
      getApiKey: () => Promise.reject(new Error('vault sealed')),
      timeoutMs: TIMEOUT_MS,
    });
    expect(await sendError(failing.sendTemplate(welcome))).toMatchObject({
      kind: 'config',
      code: 'api_key_unavailable',
    });
    expect(running.emulator.state.requests()).toHaveLength(0);
  });

  it('refuses a recipient that is not E.164 or callbackData over 512 characters as permanent, without sending', async () => {
    expect(await sendError(client().sendTemplate({ ...welcome, to: '09876543210' }))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_recipient',
    });
    expect(await sendError(client().sendTemplate({ ...welcome, callbackData: 'x'.repeat(513) }))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_request',
    });
    expect(running.emulator.state.requests()).toHaveLength(0);
  });

  it('applies a fault only to sends to the matching phone', async () => {
    running.emulator.state.injectFault({ kind: 'http_5xx', match: { phone: '+919812345678' } });
    await client().sendTemplate(welcome);
    const error = await sendError(client().sendTemplate({ ...welcome, to: '+919812345678' }));
    expect(error.kind).toBe('retryable');
    expect(running.emulator.state.acceptedMessages().map((message) => message.phone)).toEqual(['+919876543210']);
  });

  it('classifies a refused connection as retryable network error', async () => {
    const closed = await startInteraktEmulator({ apiKey: API_KEY });
    await closed.close();
    const offline = createInteraktProvider({
      baseUrl: closed.baseUrl,
      getApiKey: () => API_KEY,
      timeoutMs: TIMEOUT_MS,
    });
    expect(await sendError(offline.sendTemplate(welcome))).toMatchObject({ kind: 'retryable', code: 'network' });
  });

  it('classifies a connection dropped after the request was read as ambiguous, not safe to resend', async () => {
    const dropping = createServer((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as AddressInfo;
    try {
      const provider = createInteraktProvider({
        baseUrl: `http://127.0.0.1:${port}/v1/public`,
        getApiKey: () => API_KEY,
        timeoutMs: TIMEOUT_MS,
      });
      expect(await sendError(provider.sendTemplate(welcome))).toMatchObject({
        kind: 'ambiguous',
        code: 'connection_lost',
      });
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });
});

describe('Interakt client against answers the emulator does not give', () => {
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
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/public`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = () =>
    sendError(createInteraktProvider({ baseUrl, getApiKey: () => API_KEY, timeoutMs: 1_000 }).sendTemplate(welcome));

  it.each([
    ['a 2xx without an id', 201, '{"result":true,"message":"Message created successfully"}'],
    ['a 2xx that is not JSON', 200, '<html>ok</html>'],
    ['an empty 2xx', 200, ''],
  ])('classifies %s as ambiguous', async (_what, status, body) => {
    next = { status, body };
    expect(await send()).toMatchObject({ kind: 'ambiguous', code: 'unexpected_response' });
  });

  it('classifies a 2xx that says result:false as a permanent rejection', async () => {
    next = {
      status: 200,
      body: '{"result":false,"message":"Please correct the following error - Invalid phone number"}',
    };
    expect(await send()).toMatchObject({ kind: 'permanent', code: 'invalid_recipient' });
  });

  it('classifies "Invalid token provided" as config whatever the status', async () => {
    next = { status: 400, body: '{"result":false,"message":"Invalid token provided"}' };
    expect(await send()).toMatchObject({ kind: 'config' });
  });

  it('classifies 403 as config', async () => {
    next = { status: 403, body: '{"result":false,"message":"API access is not available on your plan"}' };
    expect(await send()).toMatchObject({ kind: 'config', code: 'forbidden' });
  });

  it('classifies 404 and 422 as permanent rejections', async () => {
    next = { status: 404, body: '{"result":false,"message":"Not found"}' };
    expect(await send()).toMatchObject({ kind: 'permanent', code: 'rejected', details: { httpStatus: 404 } });
    next = {
      status: 422,
      body: '{"result":false,"message":"Please correct the following error - bodyValues invalid"}',
    };
    expect(await send()).toMatchObject({ kind: 'permanent', details: { httpStatus: 422 } });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    next = {
      status: 429,
      body: '{"result":false,"message":"Rate limit exceeded for this resource"}',
      headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() },
    };
    const error = await send();
    expect(error.kind).toBe('retryable');
    expect(error.details.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('never repeats the key even when the provider echoes it', async () => {
    const message = `Please correct the following error - bad key ${API_KEY}`;
    next = { status: 400, body: JSON.stringify({ result: false, message }) };
    const error = await send();
    expect(error.message).toContain('[redacted]');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates and ignores nonsense', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
