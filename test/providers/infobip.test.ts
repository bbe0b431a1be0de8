import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors';
import {
  createInfobipClient,
  createInfobipProvider,
  infobipMessageId,
  parseInfobipTimestamp,
  type InfobipClientOptions,
  type InfobipPeopleCursor,
  type InfobipPerson,
} from '../../src/providers/infobip';
import { parseInfobipWebhook } from '../../src/providers/infobip-webhook';
import type { TemplateButtonShape, TemplateSend } from '../../src/providers/types';
import { listen, type RunningApp } from '../support/api';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';

const DAY = 24 * 60 * 60 * 1000;
const SENDER = '447860099299';
const ANCHOR = new Date('2025-03-10T12:00:00.000Z');
const PEOPLE = { count: 45, seed: 3, anchor: ANCHOR, contactSpreadMs: 4 * DAY };

const welcome: TemplateSend = {
  to: '+919876543210',
  templateName: 'welcome_message',
  languageCode: 'en',
  bodyValues: ['Asha', 'Acme'],
  callbackData: 'drip-42:0',
};

let running: StartedInfobipEmulator;
let receiver: RunningApp;
const received: Array<{ authorization: string | undefined; body: unknown }> = [];

const client = (overrides: Partial<InfobipClientOptions> = {}) =>
  createInfobipClient({
    baseUrl: `${running.url}/`,
    getApiKey: () => TEST_INFOBIP_API_KEY,
    timeoutMs: 10_000,
    ...overrides,
  });
const provider = (overrides: Partial<InfobipClientOptions> = {}) =>
  createInfobipProvider({
    baseUrl: running.url,
    getApiKey: async () => TEST_INFOBIP_API_KEY,
    timeoutMs: 10_000,
    whatsappSender: `+${SENDER}`,
    notifyUrl: `${receiver.url}/reports`,
    ...overrides,
  });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as Error).message).not.toContain(TEST_INFOBIP_API_KEY);
  return error as ProviderError;
}

async function allPeople(
  query: { contactedSince: Date; contactedUntil: Date; channels?: string[] },
  limit: number,
  betweenPages?: (pagesRead: number) => Promise<void>,
) {
  const people: InfobipPerson[] = [];
  const pages: number[] = [];
  let after: InfobipPeopleCursor | null = null;
  do {
    const result = await client().listPeople({ ...query, limit, after });
    pages.push(result.records.length);
    for (const record of result.records) if (record.ok) people.push(record.value);
    after = result.next;
    expect(after !== null).toBe(result.hasMore);
    if (after) await betweenPages?.(pages.length);
  } while (after);
  return { people, pages };
}

beforeAll(async () => {
  const app = express();
  app.post('/reports', express.json(), (req, res) => {
    received.push({ authorization: req.get('authorization'), body: req.body });
    res.sendStatus(200);
  });
  receiver = await listen(app);
  running = await startInfobipEmulator({
    people: PEOPLE,
    smsLogs: { count: 25, seed: 5 },
    whatsappSender: SENDER,
    autoReports: false,
    templates: [
      {
        name: 'price_list',
        language: 'en',
        header: { format: 'DOCUMENT' },
        body: 'Hi {{1}}, the {{2}} price list is attached.',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Interested' },
          { type: 'URL', text: 'Offer', url: 'https://shop.example/o/{{1}}' },
          { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
          { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919800000000' },
          { type: 'COPY_CODE', text: 'Copy code' },
        ],
      },
      { name: 'order_header', language: 'en', header: { format: 'TEXT', text: 'Order {{1}}' }, body: 'Thanks!' },
      { name: 'sale_image', language: 'en', header: { format: 'IMAGE' }, body: 'Hi {{1}}, {{2}} sale.' },
      { name: 'invoice_document', language: 'en', header: { format: 'DOCUMENT' }, body: 'Hi {{1}}, {{2}} invoice.' },
    ],
  });
});
afterAll(async () => {
  await running?.close();
  await receiver?.close();
});
beforeEach(() => {
  running.emulator.reset();
  received.length = 0;
});

describe('Infobip client: People and logs against the emulator', () => {
  it('authenticates with `App <key>` against the account base URL', async () => {
    await client().listPeople({ contactedSince: new Date(0), contactedUntil: ANCHOR, limit: 5 });
    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({ method: 'GET', endpoint: 'people', authorized: true, responseStatus: 200 });
    expect(request!.path).toMatch(/^\/people\/2\/persons\?/);
  });

  it('pages through the people contacted in the window, over several pages, each person once', async () => {
    const wide = await allPeople({ contactedSince: new Date(ANCHOR.getTime() - 5 * DAY), contactedUntil: ANCHOR }, 10);
    expect(wide.people).toHaveLength(45);
    expect(wide.pages).toEqual([10, 10, 10, 10, 5]);
    expect(new Set(wide.people.map((person) => person.profileId)).size).toBe(45);

    const since = new Date(ANCHOR.getTime() - 2 * DAY);
    const until = new Date(ANCHOR.getTime() - DAY);
    const expected = wide.people.filter(
      (person) => person.lastContactedAt! >= since && person.lastContactedAt! < until,
    );
    expect(expected.length).toBeGreaterThan(3);
    const narrow = await allPeople({ contactedSince: since, contactedUntil: until }, 3);
    expect(narrow.people.map((person) => person.profileId).sort()).toEqual(
      expected.map((person) => person.profileId).sort(),
    );
    expect(narrow.pages.length).toBeGreaterThan(1);
  });

  it('never skips anybody when a person on a page already read is contacted again before the next page is read', async () => {
    const window = { contactedSince: new Date(ANCHOR.getTime() - 5 * DAY), contactedUntil: ANCHOR };
    const before = await allPeople(window, 10);
    const recontacted = before.people[3]!.profileId;

    running.emulator.reset();
    const during = await allPeople(window, 10, async (pagesRead) => {
      if (pagesRead !== 1) return;
      // Over the control API, as Infobip would record a send: now past the window's end.
      const response = await fetch(`${running.url}/__emulator/people/${recontacted}/contact`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ at: new Date(ANCHOR.getTime() + 60_000).toISOString(), channel: 'whatsapp' }),
      });
      expect(response.status).toBe(200);
    });

    // With page numbers, person 11 would have moved up onto page 1, already read, and been lost.
    expect(during.people.map((person) => person.profileId)).toEqual(before.people.map((person) => person.profileId));
    const second = new URL(running.emulator.state.requests()[1]!.path, running.url).searchParams;
    const bound = JSON.parse(second.get('filter')!)['#and'].find((clause: any) => clause['#gte']?.createdAt)['#gte']
      .createdAt;
    expect(parseInfobipTimestamp(bound)).toEqual(before.people[9]!.createdAt);
    expect(second.get('page')).toBe('1');
  });

  it('reads people created in the same second once each, even when they fill whole pages', async () => {
    const contacted = '2025-03-10T13:30:00';
    const person = (n: number, createdAt: string) => ({
      id: `same-${n}`,
      createdAt,
      customAttributes: { LastContactedAt: contacted, LastContactedChannel: 'SMS' },
      contactInformation: { phone: [{ number: `9198765${String(n).padStart(5, '0')}` }] },
    });
    running.emulator.state.addPeople([
      ...Array.from({ length: 12 }, (_, n) => person(n, '2025-02-01T00:00:00')),
      ...Array.from({ length: 3 }, (_, n) => person(100 + n, '2025-02-01T00:00:01')),
    ]);
    const read = await allPeople(
      { contactedSince: new Date('2025-03-10T13:00:00Z'), contactedUntil: new Date('2025-03-10T14:00:00Z') },
      5,
    );
    const ids = read.people.map((p) => p.profileId);
    expect(ids).toHaveLength(15);
    expect(new Set(ids).size).toBe(15);
  });

  it('sends the window as the documented filter JSON, in the DATE_TIME format, ordered by createdAt, and reports the total on page 1', async () => {
    const page = await client().listPeople({
      contactedSince: new Date('2025-03-08T00:00:00.000Z'),
      contactedUntil: new Date('2025-03-09T00:00:00.000Z'),
      limit: 1000,
      channels: ['whatsapp'],
    });
    const url = new URL(running.emulator.state.requests()[0]!.path, running.url);
    expect(JSON.parse(url.searchParams.get('filter')!)).toEqual({
      '#and': [
        { '#gte': { 'customAttributes.LastContactedAt': '2025-03-08T00:00:00' } },
        { '#lt': { 'customAttributes.LastContactedAt': '2025-03-09T00:00:00' } },
        { '#or': [{ 'customAttributes.LastContactedChannel': 'WHATSAPP' }] },
      ],
    });
    expect(url.searchParams.get('orderBy')).toBe('createdAt:asc');
    expect(page.totalCount).toBe(page.records.length);
    expect(page.hasMore).toBe(false);
    expect(page.records.every((record) => record.ok && record.value.lastChannel === 'WHATSAPP')).toBe(true);
  });

  it('reads a person: id, names, raw phones, last contact and channel', async () => {
    running.emulator.state.addPeople([
      {
        id: 'p-1',
        externalId: 'crm-77',
        firstName: 'Meera',
        lastName: 'Iyer',
        modifiedAt: '2025-03-09T08:00:00',
        customAttributes: { LastContactedAt: '2025-03-09T07:59:00', LastContactedChannel: 'SMS' },
        contactInformation: { phone: [{ number: '0098 7654 3210' }, { number: 919812345678 }] },
      },
    ]);
    const page = await client().listPeople({
      contactedSince: new Date('2025-03-09T07:00:00Z'),
      contactedUntil: new Date('2025-03-09T08:00:00Z'),
      limit: 100,
    });
    expect(page.records).toContainEqual({
      ok: true,
      value: {
        profileId: 'p-1',
        externalId: 'crm-77',
        firstName: 'Meera',
        lastName: 'Iyer',
        phones: ['0098 7654 3210', '919812345678'],
        lastContactedAt: new Date('2025-03-09T07:59:00.000Z'),
        lastChannel: 'SMS',
        modifiedAt: new Date('2025-03-09T08:00:00.000Z'),
      },
    });
  });

  it('reports malformed people and log entries as records, without failing the page', async () => {
    running.emulator.state.injectFault({ kind: 'malformed', endpoint: 'people', count: 3 });
    const people = await client().listPeople({ contactedSince: new Date(0), contactedUntil: ANCHOR, limit: 10 });
    expect(people.records).toHaveLength(13);
    const bad = people.records.filter((record) => !record.ok);
    expect(bad).toHaveLength(3);
    for (const record of bad) expect(record.ok === false && record.reason).toMatch(/not an object|no id|no number/);

    running.emulator.state.injectFault({ kind: 'malformed', endpoint: 'logs', count: 2 });
    const logs = await client().listSmsLogs({ sentSince: new Date(Date.now() - DAY), sentUntil: new Date(), limit: 5 });
    expect(logs.records.filter((record) => record.ok)).toHaveLength(5);
    expect(logs.records.filter((record) => !record.ok).map((record) => !record.ok && record.reason)).toEqual([
      expect.stringMatching(/sentAt is not a timestamp/),
      'log entry is not an object',
    ]);
  });

  it('follows the SMS logs cursor to the end, in the documented timestamp format', async () => {
    const sentSince = new Date(Date.now() - 47.5 * 60 * 60 * 1000);
    const sentUntil = new Date(Date.now() + 60_000);
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await client().listSmsLogs({ sentSince, sentUntil, limit: 10, cursor });
      for (const record of page.records) {
        expect(record.ok).toBe(true);
        if (record.ok) {
          ids.push(record.value.messageId);
          expect(record.value.sentAt.getTime()).toBeGreaterThanOrEqual(sentSince.getTime());
          expect(record.value.status).toBe('DELIVERED');
        }
      }
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(25);
    const first = new URL(running.emulator.state.requests()[0]!.path, running.url).searchParams;
    expect(first.get('sentSince')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(first.get('useCursor')).toBe('true');
  });

  it('widens a window with milliseconds to whole seconds, so a contact in its edges is still read', async () => {
    await client().listPeople({
      contactedSince: new Date('2025-03-08T00:00:00.750Z'),
      contactedUntil: new Date('2025-03-08T06:00:00.250Z'),
      limit: 10,
    });
    const filter = JSON.parse(
      new URL(running.emulator.state.requests()[0]!.path, running.url).searchParams.get('filter')!,
    );
    expect(filter['#and'].slice(0, 2)).toEqual([
      { '#gte': { 'customAttributes.LastContactedAt': '2025-03-08T00:00:00' } },
      { '#lt': { 'customAttributes.LastContactedAt': '2025-03-08T06:00:01' } },
    ]);
  });

  it('checks that LastContactedAt is a DATE_TIME before a sync reads People', async () => {
    expect(await client().checkPeopleAttributes()).toEqual({ name: 'LastContactedAt', dataType: 'DATE_TIME' });
    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({
      method: 'GET',
      path: '/people/2/customAttributes/LastContactedAt',
      endpoint: 'attributes',
    });
  });

  it('refuses to sync, with a configuration error saying how to fix it, when LastContactedAt is text or missing', async () => {
    const textual = await startInfobipEmulator({
      customAttributes: [{ name: 'LastContactedAt', dataType: 'STRING' }],
    });
    const missing = await startInfobipEmulator({ customAttributes: [] });
    try {
      const wrongType = await failure(client({ baseUrl: textual.url }).checkPeopleAttributes());
      expect(wrongType).toMatchObject({ kind: 'config', code: 'people_attribute_type' });
      expect(wrongType.message).toContain('"LastContactedAt" is STRING, not DATE_TIME');
      expect(wrongType.message).toContain('{"name": "LastContactedAt", "dataType": "DATE_TIME"}');
      const absent = await failure(client({ baseUrl: missing.url }).checkPeopleAttributes());
      expect(absent).toMatchObject({ kind: 'config', code: 'people_attribute_missing', details: { httpStatus: 404 } });
      expect(absent.message).toContain('POST /people/2/customAttributes');
      // The window itself, against the text attribute, is what People would refuse.
      const refused = await failure(
        client({ baseUrl: textual.url }).listPeople({ contactedSince: new Date(0), contactedUntil: ANCHOR, limit: 5 }),
      );
      expect(refused).toMatchObject({ kind: 'permanent', code: 'infobip_bad_request', details: { httpStatus: 400 } });
      expect(refused.message).toContain('range operators apply to number and date attributes only');
    } finally {
      await textual.close();
      await missing.close();
    }
  });

  it('paces People requests so that a long run never trips the 5 requests/s limit', async () => {
    let after: InfobipPeopleCursor | null = null;
    for (let page = 1; page <= 9; page += 1) {
      after = (await client().listPeople({ contactedSince: new Date(0), contactedUntil: ANCHOR, limit: 5, after }))
        .next;
    }
    expect(running.emulator.state.requestCounts().people).toBe(9);
    expect(running.emulator.state.requests().map((request) => request.responseStatus)).toEqual(Array(9).fill(200));
  });
});

describe('Infobip client errors', () => {
  const listPeople = (overrides: Partial<InfobipClientOptions> = {}) =>
    client(overrides).listPeople({ contactedSince: new Date(0), contactedUntil: ANCHOR, limit: 5 });

  it('turns a 429 in the E429 shape into a retryable error honouring Retry-After', async () => {
    running.emulator.state.injectFault({ kind: 'rate_limit', retryAfterSeconds: 3 });
    const error = await failure(listPeople());
    expect(error).toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      details: { httpStatus: 429, retryAfterMs: 3_000 },
    });
    expect(error.message).toContain('E429');
    expect(error.message).toContain('Too many requests.');
  });

  it('gives a 429 without Retry-After, in the older requestError shape, a default delay', async () => {
    running.emulator.state.injectFault({ kind: 'rate_limit', retryAfterSeconds: null, shape: 'requestError' });
    const error = await failure(listPeople());
    expect(error).toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      details: { httpStatus: 429, retryAfterMs: 1_000 },
    });
    expect(error.message).toContain('TOO_MANY_REQUESTS');
  });

  it('treats 5xx, JSON or HTML, as retryable', async () => {
    running.emulator.state.injectFault({ kind: 'server_error', status: 500 });
    expect(await failure(listPeople())).toMatchObject({ kind: 'retryable', code: 'http_500' });
    running.emulator.state.injectFault({ kind: 'server_error', status: 503, endpoint: 'logs' });
    const logs = client().listSmsLogs({ sentSince: new Date(Date.now() - DAY), sentUntil: new Date(), limit: 5 });
    expect(await failure(logs)).toMatchObject({ kind: 'retryable', code: 'http_503' });
  });

  it('treats a refused key as a configuration error that never quotes the key', async () => {
    const error = await failure(listPeople({ getApiKey: () => 'wrong-key-0123456789' }));
    expect(error).toMatchObject({ kind: 'config', code: 'unauthorized', details: { httpStatus: 401 } });
    expect(error.message).toContain('UNAUTHORIZED');
    expect(error.message).not.toContain('wrong-key-0123456789');
    expect(await failure(listPeople({ getApiKey: () => '  ' }))).toMatchObject({
      kind: 'config',
      code: 'api_key_missing',
    });
  });

  it('turns a 400 in the requestError shape into a permanent error naming the failing fields', async () => {
    const error = await failure(provider().sendTemplate({ ...welcome, templateName: 'Welcome Message' }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'infobip_bad_request', details: { httpStatus: 400 } });
    expect(error.message).toContain('messages[0].content.templateName');
  });

  it('reports an unreachable account, or a read that failed mid-way, as retryable (a GET changes nothing)', async () => {
    const error = await failure(listPeople({ baseUrl: 'http://127.0.0.1:1' }));
    expect(error.kind).toBe('retryable');
  });
});

describe('Infobip provider: WhatsApp template sends', () => {
  /** As Message Master has it: the buttons a send must bind by position. */
  const priceListButtons: TemplateButtonShape[] = [
    { type: 'QUICK_REPLY', text: 'Interested' },
    { type: 'URL', text: 'Offer', url: 'https://shop.example/o/{{1}}' },
    { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
    { type: 'PHONE_NUMBER', text: 'Call us' },
    { type: 'COPY_CODE', text: 'Copy code' },
  ];
  const priceList: TemplateSend = {
    ...welcome,
    templateName: 'price_list',
    headerValues: ['https://files.example/brochures/Price%20List.pdf'],
    headerFormat: 'document',
    buttonValues: { '2': ['track/123'], '1': ['offer/9'], '4': ['SAVE10'] },
    templateButtons: priceListButtons,
  };

  it('posts the documented body: digits-only numbers, derived messageId, placeholders, document header, every button that takes a parameter in template order', async () => {
    const accepted = await provider().sendTemplate(priceList);

    const [message] = running.emulator.state.acceptedMessages();
    expect(message!.message).toEqual({
      from: SENDER,
      to: '919876543210',
      messageId: infobipMessageId('drip-42:0'),
      content: {
        templateName: 'price_list',
        language: 'en',
        templateData: {
          body: { placeholders: ['Asha', 'Acme'] },
          header: {
            type: 'DOCUMENT',
            mediaUrl: 'https://files.example/brochures/Price%20List.pdf',
            filename: 'Price List.pdf',
          },
          // The quick reply's payload is its text unless one is given; the phone button takes none.
          buttons: [
            { type: 'QUICK_REPLY', parameter: 'Interested' },
            { type: 'URL', parameter: 'offer/9' },
            { type: 'URL', parameter: 'track/123' },
            { type: 'COPY_CODE', parameter: 'SAVE10' },
          ],
        },
      },
      callbackData: 'drip-42:0',
      notifyUrl: `${receiver.url}/reports`,
    });
    expect(accepted).toEqual({ provider: 'infobip', providerMessageId: infobipMessageId('drip-42:0'), sender: SENDER });
    expect(running.emulator.state.requests()[0]).toMatchObject({ endpoint: 'send', authorized: true });
  });

  it('sends a quick-reply payload given for the button, and refuses a value for a button that takes none before any request', async () => {
    await provider().sendTemplate({ ...priceList, buttonValues: { ...priceList.buttonValues, '0': ['lead-7:yes'] } });
    const [message] = running.emulator.state.acceptedMessages();
    expect((message!.message.content as any).templateData.buttons[0]).toEqual({
      type: 'QUICK_REPLY',
      parameter: 'lead-7:yes',
    });
    expect(
      await failure(provider().sendTemplate({ ...priceList, buttonValues: { ...priceList.buttonValues, '3': ['x'] } })),
    ).toMatchObject({
      kind: 'permanent',
      code: 'invalid_request',
      message: 'Button 3 (PHONE_NUMBER) takes no parameter',
    });
    expect(
      await failure(provider().sendTemplate({ ...priceList, buttonValues: { '1': ['offer/9'], '2': ['t'] } })),
    ).toMatchObject({ kind: 'permanent', code: 'invalid_request' });
    expect(running.emulator.state.requestCounts().send).toBe(1);
  });

  it('is refused by Infobip when it lists only the URL buttons, as it used to (without the template’s buttons)', async () => {
    const { templateButtons: _omitted, ...withoutTemplateButtons } = priceList;
    const error = await failure(
      provider().sendTemplate({ ...withoutTemplateButtons, buttonValues: { '1': ['offer/9'], '2': ['track/123'] } }),
    );
    expect(error).toMatchObject({ kind: 'permanent', code: 'infobip_bad_request', details: { httpStatus: 400 } });
    expect(error.message).toContain('[QUICK_REPLY, URL, URL, COPY_CODE]; got [URL, URL]');
    expect(running.emulator.state.acceptedMessages()).toEqual([]);
  });

  it('sends text, image and file-named document headers, and an empty placeholder list when the body has none', async () => {
    await provider().sendTemplate({
      ...welcome,
      templateName: 'order_header',
      bodyValues: undefined,
      headerValues: ['Order 42'],
      callbackData: 'a',
    });
    await provider().sendTemplate({
      ...welcome,
      templateName: 'sale_image',
      headerValues: ['https://cdn.example/sale.png'],
      callbackData: 'b',
    });
    await provider().sendTemplate({
      ...welcome,
      templateName: 'invoice_document',
      headerValues: ['https://cdn.example/x'],
      fileName: 'Invoice.pdf',
      callbackData: 'c',
    });
    const data = running.emulator.state
      .acceptedMessages()
      .map((m) => (m.message.content as { templateData: unknown }).templateData);
    expect(data).toEqual([
      { body: { placeholders: [] }, header: { type: 'TEXT', placeholder: 'Order 42' } },
      { body: { placeholders: ['Asha', 'Acme'] }, header: { type: 'IMAGE', mediaUrl: 'https://cdn.example/sale.png' } },
      {
        body: { placeholders: ['Asha', 'Acme'] },
        header: { type: 'DOCUMENT', mediaUrl: 'https://cdn.example/x', filename: 'Invoice.pdf' },
      },
    ]);
  });

  it('reuses the messageId for a resend of the same key, and the delivery report carries it back', async () => {
    const first = await provider().sendTemplate(welcome);
    const again = await provider().sendTemplate(welcome);
    const other = await provider().sendTemplate({ ...welcome, callbackData: 'drip-42:1' });
    expect(again.providerMessageId).toBe(first.providerMessageId);
    expect(other.providerMessageId).not.toBe(first.providerMessageId);

    const delivery = await running.emulator.state.deliverReport({ messageId: first.providerMessageId });
    expect(delivery.responseStatus).toBe(200);
    const events = parseInfobipWebhook(received[0]!.body);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'status',
        providerMessageId: first.providerMessageId,
        status: 'delivered',
        recipient: '919876543210',
      }),
    ]);
  });

  it('refuses a recipient that is not E.164, and a missing sender, before any request', async () => {
    expect(await failure(provider().sendTemplate({ ...welcome, to: '09876543210' }))).toMatchObject({
      kind: 'permanent',
      code: 'invalid_recipient',
    });
    expect(await failure(provider({ whatsappSender: undefined }).sendTemplate(welcome))).toMatchObject({
      kind: 'config',
      code: 'sender_missing',
    });
    expect(running.emulator.state.requestCounts().send).toBe(0);
  });

  it('treats a 5xx on send as retryable and a 429 as retryable with its delay', async () => {
    running.emulator.state.injectFault({ kind: 'server_error', endpoint: 'send', status: 502 });
    expect(await failure(provider().sendTemplate(welcome))).toMatchObject({ kind: 'retryable', code: 'http_502' });
    running.emulator.state.injectFault({ kind: 'rate_limit', endpoint: 'send', retryAfterSeconds: 2 });
    expect(await failure(provider().sendTemplate(welcome))).toMatchObject({
      kind: 'retryable',
      details: { retryAfterMs: 2_000 },
    });
    expect(running.emulator.state.acceptedMessages()).toEqual([]);
  });
});

describe('Infobip timestamps', () => {
  it('reads offsets without a colon, zone-less People times as UTC, and bare dates', () => {
    expect(parseInfobipTimestamp('2019-04-09T16:01:56.494-0300')).toEqual(new Date('2019-04-09T19:01:56.494Z'));
    expect(parseInfobipTimestamp('2019-04-09T16:01:56.494+0000')).toEqual(new Date('2019-04-09T16:01:56.494Z'));
    expect(parseInfobipTimestamp('2019-04-09T16:01:56')).toEqual(new Date('2019-04-09T16:01:56.000Z'));
    expect(parseInfobipTimestamp('2019-04-09')).toEqual(new Date('2019-04-09T00:00:00.000Z'));
    expect(parseInfobipTimestamp('yesterday')).toBeUndefined();
  });
});
