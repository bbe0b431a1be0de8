import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generatedPersonKind } from '../../src/emulators/infobip';
import { formatInfobipTimestamp, formatPeopleDateTime } from '../../src/providers/infobip';
import { infobipBasicAuthHeader } from '../../src/providers/infobip-webhook';
import { listen, type RunningApp } from '../support/api';
import { waitFor } from '../support/drip-harness';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';

const HOUR = 60 * 60 * 1000;
const AUTH = { Authorization: `App ${TEST_INFOBIP_API_KEY}` };
const BIG = { count: 100_000, seed: 11 };

const started: StartedInfobipEmulator[] = [];
async function emulator(options: Parameters<typeof startInfobipEmulator>[0] = {}): Promise<StartedInfobipEmulator> {
  const running = await startInfobipEmulator(options);
  started.push(running);
  return running;
}
afterAll(async () => {
  await Promise.all(started.map((running) => running.close()));
});

const get = async (
  base: string,
  path: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = AUTH,
) => {
  const response = await fetch(`${base}${path}?${new URLSearchParams(params).toString()}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
};

describe('Infobip emulator: People', () => {
  let big: StartedInfobipEmulator;
  beforeAll(async () => {
    big = await emulator({ people: BIG });
  });
  beforeEach(() => big.emulator.reset());

  it('refuses a request without `App <key>` in the requestError shape', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'App wrong' },
      { Authorization: `Basic ${TEST_INFOBIP_API_KEY}` },
    ];
    for (const headers of attempts) {
      const response = await get(big.url, '/people/2/persons', {}, headers);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        requestError: { serviceException: { messageId: 'UNAUTHORIZED', text: 'Invalid login details' } },
      });
    }
    expect(big.emulator.state.requests().map((request) => request.authorized)).toEqual([false, false, false]);
  });

  it('serves any page of a 100,000-person set, the same for the same seed and different for another', async () => {
    const page = await get(big.url, '/people/2/persons', { page: '57', limit: '1000', includeTotalCount: 'true' });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ page: 57, limit: 1000, totalCount: 100_000 });
    expect(page.body.persons).toHaveLength(1000);

    const twin = await emulator({ people: BIG });
    const other = await emulator({ people: { ...BIG, seed: 12 } });
    const params = { page: '57', limit: '1000' };
    const phones = (body: any) => body.persons.map((person: any) => person.contactInformation.phone[0].number);
    expect(phones((await get(twin.url, '/people/2/persons', params)).body)).toEqual(phones(page.body));
    expect(phones((await get(other.url, '/people/2/persons', params)).body)).not.toEqual(phones(page.body));
  });

  it('writes phones the many ways people type them, with invalid numbers and duplicates among them', async () => {
    const { body } = await get(big.url, '/people/2/persons', { page: '1', limit: '100' });
    const numbers: string[] = body.persons.map((person: any) => person.contactInformation.phone[0].number);
    expect(numbers.some((n) => /^\+91\d{10}$/.test(n))).toBe(true);
    expect(numbers.some((n) => /^91\d{10}$/.test(n))).toBe(true);
    expect(numbers.some((n) => /^\+91 \d{5} \d{5}$/.test(n))).toBe(true);
    expect(numbers.some((n) => /^\d{5}-\d{5}$/.test(n))).toBe(true);
    expect(numbers.some((n) => /^0\d{10}$/.test(n))).toBe(true);
    expect(numbers.some((n) => /^0091\d{10}$/.test(n))).toBe(true);
    expect(numbers.filter((_, index) => generatedPersonKind(index, BIG) === 'invalid')).toEqual([
      expect.not.stringMatching(/^(\+?91|0)?\d{10}$/),
      expect.anything(),
      expect.anything(),
      expect.anything(),
    ]);
    const duplicate = numbers.findIndex((_, index) => generatedPersonKind(index, BIG) === 'duplicate');
    expect(numbers[duplicate]!.replace(/\D/g, '').slice(-10)).toBe(
      numbers[duplicate - 1]!.replace(/\D/g, '').slice(-10),
    );
    expect(numbers[duplicate]).not.toBe(numbers[duplicate - 1]);
  });

  it('filters on the last-contacted DATE_TIME attribute with #and/#gte/#lt and on the channel with #or', async () => {
    const since = formatPeopleDateTime(new Date(Date.now() - 2 * 24 * HOUR));
    const until = formatPeopleDateTime(new Date(Date.now() - 24 * HOUR));
    const filter = {
      '#and': [
        { '#gte': { 'customAttributes.LastContactedAt': since } },
        { '#lt': { 'customAttributes.LastContactedAt': until } },
        { '#or': [{ 'customAttributes.LastContactedChannel': 'WHATSAPP' }] },
      ],
    };
    const { status, body } = await get(big.url, '/people/2/persons', {
      filter: JSON.stringify(filter),
      limit: '1000',
      includeTotalCount: 'true',
    });
    expect(status).toBe(200);
    // Seven days of contacts, two channels: about one in fourteen people match.
    expect(body.totalCount).toBeGreaterThan(5_000);
    expect(body.totalCount).toBeLessThan(9_500);
    for (const person of body.persons) {
      expect(person.customAttributes.LastContactedAt >= since && person.customAttributes.LastContactedAt < until).toBe(
        true,
      );
      expect(person.customAttributes.LastContactedChannel).toBe('WHATSAPP');
    }
  });

  it('orders by a documented field and answers 400 naming the parameter for a bad filter or order', async () => {
    const small = await emulator({ people: { count: 30, seed: 2 } });
    const { body } = await get(small.url, '/people/2/persons', { orderBy: 'firstName:asc', limit: '30' });
    const names = body.persons.map((person: any) => person.firstName);
    expect(names).toEqual([...names].sort());

    const badFilter = await get(small.url, '/people/2/persons', { filter: '{"#near":{"city":"Pune"}}' });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.requestError.serviceException).toMatchObject({
      messageId: 'BAD_REQUEST',
      validationErrors: { filter: ['unknown operator #near'] },
    });
    const badJson = await get(small.url, '/people/2/persons', { filter: '{oops' });
    expect(badJson.body.requestError.serviceException.validationErrors).toHaveProperty('filter');
    const badOrder = await get(small.url, '/people/2/persons', { orderBy: 'LastContactedAt:asc' });
    expect(badOrder.status).toBe(400);
    expect(badOrder.body.requestError.serviceException.validationErrors).toHaveProperty('orderBy');
    const badLimit = await get(small.url, '/people/2/persons', { limit: '1001' });
    expect(badLimit.body.requestError.serviceException.validationErrors).toHaveProperty('limit');
  });

  it('filters on createdAt with #gte inside #and, ordered by createdAt, as keyset paging asks', async () => {
    const firstPage = await get(big.url, '/people/2/persons', { orderBy: 'createdAt:asc', limit: '1000' });
    const boundary = firstPage.body.persons[999].createdAt as string;
    const filter = {
      '#and': [
        { '#gte': { 'customAttributes.LastContactedAt': formatPeopleDateTime(new Date(0)) } },
        { '#gte': { createdAt: boundary } },
      ],
    };
    const { status, body } = await get(big.url, '/people/2/persons', {
      filter: JSON.stringify(filter),
      orderBy: 'createdAt:asc',
      limit: '3',
      includeTotalCount: 'true',
    });
    expect(status).toBe(200);
    expect(body.totalCount).toBe(100_000 - 999);
    expect(body.persons.map((person: any) => person.id)).toEqual(
      [999, 1000, 1001].map((i) => firstPage.body.persons[0].id + i),
    );
    expect(body.persons.every((person: any) => person.createdAt >= boundary)).toBe(true);
  });

  it('re-contacts a person over the control API: the last-contacted attribute and channel change, and the filter sees it', async () => {
    const small = await emulator({ people: { count: 10, seed: 4 } });
    const [person] = (await get(small.url, '/people/2/persons', { limit: '1' })).body.persons;
    const contactedAt = new Date(Math.floor(Date.now() / 1000) * 1000 + HOUR);
    const at = formatPeopleDateTime(contactedAt);
    const contacted = await fetch(`${small.url}/__emulator/people/${person.id}/contact`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ at: contactedAt.toISOString(), channel: 'sms' }),
    });
    expect(contacted.status).toBe(200);
    const filter = { '#gte': { 'customAttributes.LastContactedAt': at } };
    const { body } = await get(small.url, '/people/2/persons', { filter: JSON.stringify(filter) });
    expect(body.persons).toEqual([
      expect.objectContaining({
        id: person.id,
        customAttributes: { LastContactedAt: at, LastContactedChannel: 'SMS' },
      }),
    ]);
    expect((await fetch(`${small.url}/__emulator/people/404/contact`, { method: 'POST' })).status).toBe(404);
    small.emulator.reset();
    expect((await get(small.url, '/people/2/persons', { filter: JSON.stringify(filter) })).body.persons).toEqual([]);
  });

  it('describes the account’s custom attributes: LastContactedAt is a DATE_TIME, an unknown one is 404', async () => {
    const small = await emulator({ people: { count: 1, seed: 4 } });
    const found = await get(small.url, '/people/2/customAttributes/LastContactedAt');
    expect(found).toMatchObject({ status: 200, body: { name: 'LastContactedAt', dataType: 'DATE_TIME' } });
    const missing = await get(small.url, '/people/2/customAttributes/Nope');
    expect(missing.status).toBe(404);
    expect(missing.body.requestError.serviceException.messageId).toBe('NOT_FOUND');
  });

  it('refuses a range operator on a text attribute: the old filter against an account set up the old way', async () => {
    // The attribute as the sync used to assume it: a STRING holding an ISO timestamp.
    const old = await emulator({
      people: { count: 5, seed: 4 },
      customAttributes: [
        { name: 'LastContactedAt', dataType: 'STRING' },
        { name: 'LastContactedChannel', dataType: 'STRING' },
      ],
    });
    const filter = { '#gte': { 'customAttributes.LastContactedAt': new Date(0).toISOString() } };
    const refused = await get(old.url, '/people/2/persons', { filter: JSON.stringify(filter) });
    expect(refused.status).toBe(400);
    expect(refused.body.requestError.serviceException.validationErrors.filter[0]).toMatch(
      /#gte is not supported on customAttributes\.LastContactedAt \(STRING\); range operators apply to number and date attributes only/,
    );
    // A range on a person's own text field is refused the same way; equality on text is fine.
    expect((await get(old.url, '/people/2/persons', { filter: '{"#gt":{"firstName":"A"}}' })).status).toBe(400);
    expect((await get(old.url, '/people/2/persons', { filter: '{"#eq":{"firstName":"Asha"}}' })).status).toBe(200);
  });

  it('refuses the old ISO value with milliseconds and a zone against a DATE_TIME, and a custom attribute the account lacks', async () => {
    const small = await emulator({ people: { count: 5, seed: 4 } });
    const iso = { '#gte': { 'customAttributes.LastContactedAt': new Date(0).toISOString() } };
    const refused = await get(small.url, '/people/2/persons', { filter: JSON.stringify(iso) });
    expect(refused.status).toBe(400);
    expect(refused.body.requestError.serviceException.validationErrors.filter[0]).toMatch(/is a DATE_TIME/);
    const unknown = { '#eq': { 'customAttributes.LastContacted': 'x' } };
    expect((await get(small.url, '/people/2/persons', { filter: JSON.stringify(unknown) })).status).toBe(400);
  });

  it('creates a custom attribute over POST /people/2/customAttributes, once', async () => {
    const bare = await emulator({ people: { count: 1, seed: 4 }, customAttributes: [] });
    const create = (body: unknown) =>
      fetch(`${bare.url}/people/2/customAttributes`, {
        method: 'POST',
        headers: { ...AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await get(bare.url, '/people/2/customAttributes/LastContactedAt')).status).toBe(404);
    const created = await create({ name: 'LastContactedAt', dataType: 'DATE_TIME' });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ name: 'LastContactedAt', dataType: 'DATE_TIME' });
    expect((await create({ name: 'LastContactedAt', dataType: 'DATE_TIME' })).status).toBe(400);
    expect((await create({ name: 'Other', dataType: 'TIMESTAMP' })).status).toBe(400);
    expect((await get(bare.url, '/people/2/customAttributes/lastcontactedat')).body.dataType).toBe('DATE_TIME');
  });

  it('enforces 5 People requests per second with 429 in the E429 shape and a Retry-After', async () => {
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => get(big.url, '/people/2/persons', { limit: '1' })),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(5);
    const limited = responses.filter((response) => response.status === 429);
    expect(limited).toHaveLength(3);
    expect(limited[0]!.body).toMatchObject({ errorCode: 'E429', description: 'Too many requests.', violations: [] });
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const counts = (await (await fetch(`${big.url}/__emulator/requests`)).json()) as any;
    expect(counts.counts).toEqual({ people: 8, attributes: 0, logs: 0, send: 0, templates: 0, other: 0 });
  });
});

describe('Infobip emulator: SMS logs', () => {
  it('pages 2,500 logs by cursor and ends with a null cursor', async () => {
    const running = await emulator({ smsLogs: { count: 2_500, seed: 4 } });
    const ids = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params: Record<string, string> = {
        sentSince: formatInfobipTimestamp(new Date(Date.now() - 47.9 * HOUR)),
        sentUntil: formatInfobipTimestamp(new Date(Date.now() + HOUR)),
        limit: '1000',
        useCursor: 'true',
      };
      if (cursor) params.cursor = cursor;
      const { status, body } = await get(running.url, '/sms/3/logs', params);
      expect(status).toBe(200);
      for (const log of body.results) ids.add(log.messageId);
      expect(body.cursor.limit).toBe(1000);
      cursor = body.cursor.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids.size).toBe(2_500);
  });

  it('reaches back 48 hours only: an older sentSince is clamped, or refused in reject mode', async () => {
    const records = [
      {
        messageId: 'old',
        destination: '919800000001',
        sentAt: formatInfobipTimestamp(new Date(Date.now() - 60 * HOUR)),
        status: { groupName: 'DELIVERED' },
      },
      {
        messageId: 'recent',
        destination: '919800000002',
        sentAt: formatInfobipTimestamp(new Date(Date.now() - HOUR)),
        status: { groupName: 'DELIVERED' },
      },
    ];
    const params = {
      sentSince: formatInfobipTimestamp(new Date(Date.now() - 72 * HOUR)),
      sentUntil: formatInfobipTimestamp(new Date()),
    };

    const clamping = await emulator({ smsLogs: { records } });
    const clamped = await get(clamping.url, '/sms/3/logs', params);
    expect(clamped.body.results.map((log: any) => log.messageId)).toEqual(['recent']);

    const rejecting = await emulator({ smsLogs: { records }, logsRetention: 'reject' });
    const refused = await get(rejecting.url, '/sms/3/logs', params);
    expect(refused.status).toBe(400);
    expect(refused.body.requestError.serviceException.validationErrors).toHaveProperty('sentSince');

    const badTime = await get(clamping.url, '/sms/3/logs', { sentSince: 'last tuesday' });
    expect(badTime.status).toBe(400);
    expect(badTime.body.requestError.serviceException.validationErrors).toHaveProperty('sentSince');
  });
});

describe('Infobip emulator: sends, reports and faults', () => {
  let receiver: RunningApp;
  const received: Array<{ authorization: string | undefined; body: any }> = [];
  let running: StartedInfobipEmulator;
  const send = (message: Record<string, unknown>) =>
    fetch(`${running.url}/whatsapp/1/message/template`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [message] }),
    });
  const valid = () => ({
    from: '447860099299',
    to: '919876543210',
    messageId: 'dl-test-1',
    content: { templateName: 'drip_day_1', language: 'en', templateData: { body: { placeholders: ['Asha'] } } },
    callbackData: 'drip-1:0',
    notifyUrl: `${receiver.url}/reports`,
  });

  beforeAll(async () => {
    const app = express();
    app.post('/reports', express.json(), (req, res) => {
      received.push({ authorization: req.get('authorization'), body: req.body });
      res.sendStatus(200);
    });
    receiver = await listen(app);
    running = await emulator({
      whatsappSender: '447860099299',
      webhookAuth: { username: 'infobip', password: 'hook-pass' },
      reportDelaysMs: { delivered: 20, seen: 40 },
    });
  });
  afterAll(async () => {
    await receiver?.close();
  });
  beforeEach(() => {
    running.emulator.reset();
    received.length = 0;
  });

  it('accepts a template send with PENDING and then posts a delivery report and a seen report to its notifyUrl, without the subscription’s credentials', async () => {
    const response = await send(valid());
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      messages: [
        {
          to: '919876543210',
          messageCount: 1,
          messageId: 'dl-test-1',
          status: { groupName: 'PENDING', name: 'PENDING_ENROUTE' },
        },
      ],
    });
    await waitFor(() => received.length >= 2, 'the delivery and seen reports');
    // A notifyUrl gets the reports bare: the BASIC credentials belong to the subscription's URL.
    expect(received.map((post) => post.authorization)).toEqual([undefined, undefined]);
    expect(received[0]!.body.results[0]).toMatchObject({
      messageId: 'dl-test-1',
      to: '919876543210',
      status: { groupName: 'DELIVERED', name: 'DELIVERED_TO_HANDSET' },
      error: { groupName: 'OK', id: 0 },
    });
    expect(received[1]!.body.results[0]).toMatchObject({
      messageId: 'dl-test-1',
      from: '919876543210',
      to: '447860099299',
      seenAt: expect.any(String),
    });
  });

  it('posts the reports of a message without notifyUrl to the subscription’s URL, with its BASIC credentials', async () => {
    running.emulator.state.configure({ webhookUrl: `${receiver.url}/reports` });
    const { notifyUrl: _none, ...withoutNotifyUrl } = valid();
    expect((await send(withoutNotifyUrl)).status).toBe(200);
    await waitFor(() => received.length >= 2, 'the delivery and seen reports');
    expect(received.map((post) => post.authorization)).toEqual([
      infobipBasicAuthHeader('infobip', 'hook-pass'),
      infobipBasicAuthHeader('infobip', 'hook-pass'),
    ]);
  });

  it('answers 400 naming each failing field and records nothing', async () => {
    const response = await send({
      ...valid(),
      from: '15550000000',
      to: '+91 98765 43210',
      content: {
        templateName: 'Welcome!',
        language: 'en',
        templateData: {
          body: { placeholders: [''] },
          header: { type: 'DOCUMENT', mediaUrl: 'ftp://x' },
          buttons: [{ type: 'URL' }],
        },
      },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(Object.keys(body.requestError.serviceException.validationErrors).sort()).toEqual([
      'messages[0].content.templateData.body.placeholders',
      'messages[0].content.templateData.buttons[0].parameter',
      'messages[0].content.templateData.header.filename',
      'messages[0].content.templateData.header.mediaUrl',
      'messages[0].content.templateName',
      'messages[0].from',
      'messages[0].to',
    ]);
    expect(running.emulator.state.acceptedMessages()).toEqual([]);
  });

  it('checks a send against the sender’s registered template: name, language, approval, placeholders and header', async () => {
    const content = (templateName: string, templateData: Record<string, unknown>, language = 'en') => ({
      ...valid(),
      content: { templateName, language, templateData },
    });
    const problems = async (message: Record<string, unknown>) => {
      const response = await send(message);
      expect(response.status).toBe(400);
      return ((await response.json()) as any).requestError.serviceException.validationErrors;
    };
    expect(await problems(content('no_such_template', { body: { placeholders: [] } }))).toEqual({
      'messages[0].content.templateName': ['no template no_such_template in language en is registered for this sender'],
    });
    expect(await problems(content('drip_day_1', { body: { placeholders: ['Asha'] } }, 'en_GB'))).toHaveProperty([
      'messages[0].content.templateName',
    ]);
    expect(await problems(content('welcome_message', { body: { placeholders: ['Asha'] } }))).toEqual({
      'messages[0].content.templateData.body.placeholders': ["the template's body has 2 placeholders; 1 given"],
    });
    expect(await problems(content('seller_registration', { body: { placeholders: ['Asha'] } }))).toMatchObject({
      'messages[0].content.templateData.header': ['the template has a DOCUMENT header, which needs a value'],
    });
    running.emulator.state.upsertTemplate({
      name: 'drip_day_1',
      language: 'en',
      body: 'Hi {{1}}',
      approvalStatus: 'PAUSED',
    });
    expect(await problems(valid())).toEqual({
      'messages[0].content.templateName': ['template drip_day_1 (en) is PAUSED, not APPROVED'],
    });
    expect(running.emulator.state.acceptedMessages()).toEqual([]);
  });

  it('refuses buttons that do not list, in template order, every button that takes a parameter: the old URL-only shape', async () => {
    running.emulator.state.configure({ autoReports: false });
    running.emulator.state.upsertTemplate({
      name: 'order_update',
      language: 'en',
      body: 'Hi {{1}}, your order shipped.',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Thanks' },
        { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919800000000' },
        { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
        { type: 'URL', text: 'Shop', url: 'https://shop.example/' },
        { type: 'COPY_CODE', text: 'Copy code' },
      ],
    });
    const withButtons = (buttons: unknown[]) => ({
      ...valid(),
      content: {
        templateName: 'order_update',
        language: 'en',
        templateData: { body: { placeholders: ['Asha'] }, buttons },
      },
    });
    // What the client used to send: the dynamic URL alone.
    const old = await send(withButtons([{ type: 'URL', parameter: 'A1' }]));
    expect(old.status).toBe(400);
    expect(((await old.json()) as any).requestError.serviceException.validationErrors).toEqual({
      'messages[0].content.templateData.buttons': [
        'must list every button that takes a parameter, in template order: [QUICK_REPLY, URL, COPY_CODE]; got [URL]',
      ],
    });
    const shuffled = withButtons([
      { type: 'URL', parameter: 'A1' },
      { type: 'QUICK_REPLY', parameter: 'thanks' },
      { type: 'COPY_CODE', parameter: 'SAVE10' },
    ]);
    expect((await send(shuffled)).status).toBe(400);
    const right = withButtons([
      { type: 'QUICK_REPLY', parameter: 'thanks' },
      { type: 'URL', parameter: 'A1' },
      { type: 'COPY_CODE', parameter: 'SAVE10' },
    ]);
    expect((await send(right)).status).toBe(200);
    expect(running.emulator.state.acceptedMessages()).toHaveLength(1);
  });

  it('takes faults over HTTP: 5xx twice then success, counted per endpoint, cleared by reset', async () => {
    running.emulator.state.configure({ autoReports: false });
    const injected = await fetch(`${running.url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'server_error', endpoint: 'send', times: 2 }),
    });
    expect(injected.status).toBe(201);
    expect((await send(valid())).status).toBe(500);
    expect((await send(valid())).status).toBe(500);
    expect((await send(valid())).status).toBe(200);

    const requests = (await (await fetch(`${running.url}/__emulator/requests`)).json()) as any;
    expect(requests.counts.send).toBe(3);
    expect(requests.requests.map((request: any) => request.responseStatus)).toEqual([500, 500, 200]);

    await fetch(`${running.url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ kind: 'rate_limit', times: 5 }]),
    });
    await fetch(`${running.url}/__emulator/reset`, { method: 'POST' });
    expect(running.emulator.state.pendingFaults()).toEqual([]);
    expect(running.emulator.state.requestCounts()).toEqual({
      people: 0,
      attributes: 0,
      logs: 0,
      send: 0,
      templates: 0,
      other: 0,
    });
  });

  it('posts failure reports and inbound messages on demand', async () => {
    running.emulator.state.configure({ autoReports: false, webhookUrl: `${receiver.url}/reports` });
    await send(valid());
    const failed = await fetch(`${running.url}/__emulator/reports`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messageId: 'dl-test-1', groupName: 'UNDELIVERABLE' }),
    });
    expect(((await failed.json()) as any).delivery.responseStatus).toBe(200);
    await running.emulator.state.deliverInboundMessage({
      from: '+91 98765 43210',
      buttonText: 'Stop',
      replyTo: 'dl-test-1',
    });
    expect(received.map((post) => post.body.results[0])).toEqual([
      expect.objectContaining({
        messageId: 'dl-test-1',
        status: expect.objectContaining({ groupName: 'UNDELIVERABLE' }),
        error: expect.objectContaining({ permanent: true }),
      }),
      expect.objectContaining({
        from: '919876543210',
        message: {
          type: 'BUTTON',
          text: 'Stop',
          payload: 'Stop',
          context: expect.objectContaining({ id: 'dl-test-1' }),
        },
      }),
    ]);
  });
});

describe('npm run emulator -- --provider infobip', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('announces the local Infobip EMULATOR, never the key, and serves People with that key', async () => {
    const key = 'real-looking-infobip-key-never-logged';
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/emulators/main.ts', '--port', '0', '--provider', 'infobip', '--people', '50'],
      {
        env: { ...process.env, INFOBIP_API_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await waitFor(
      () => /Infobip EMULATOR .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
      `the emulator to start: ${output}`,
    );
    expect(output).not.toContain(key);
    const people = await get(url, '/people/2/persons', { includeTotalCount: 'true' }, { Authorization: `App ${key}` });
    expect(people.body).toMatchObject({ totalCount: 50 });
  });
});
