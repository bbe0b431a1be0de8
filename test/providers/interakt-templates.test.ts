import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors';
import {
  INTERAKT_TEMPLATE_STATUSES,
  createInteraktTemplateClient,
  parseInteraktTemplate,
  type InteraktTemplatePage,
  type ParsedInteraktTemplate,
} from '../../src/providers/interakt-templates';
import { startInteraktEmulator, type StartedInteraktEmulator } from '../support/emulator';

/** A row shaped like Interakt's template list (providers.md §1.5), before any oddity. */
function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '0c1e5b2a-7f60-4e2e-9d4e-1a2b3c4d5e6f',
    name: 'order_update',
    display_name: 'order update',
    language: 'en',
    category: 'UTILITY',
    approval_status: 'APPROVED',
    header_format: null,
    header: null,
    header_text: null,
    header_handle_file_url: null,
    body: 'Hi {{1}}, your order {{2}} has shipped.',
    body_text: '["Asha","A-17"]',
    footer: null,
    buttons: null,
    wa_template_id: '1234567890123',
    rejection_reason: null,
    is_archived: false,
    ...overrides,
  };
}

const BUTTONS = [
  { type: 'QUICK_REPLY', text: 'Stop' },
  { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}', example: ['https://shop.example/track/A-17'] },
  { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919876543210' },
];
const PARSED_BUTTONS = [
  { type: 'QUICK_REPLY', text: 'Stop' },
  { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}', example: 'https://shop.example/track/A-17' },
  { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+919876543210' },
];

function parsedTemplate(result: ParsedInteraktTemplate) {
  if (!result.ok) throw new Error(`expected a parsed template, got: ${result.reason}`);
  return result.template;
}

describe('parseInteraktTemplate', () => {
  it('reads a plain row into Message Master fields, with Meta’s template id as the provider id', () => {
    expect(parseInteraktTemplate(row())).toEqual({
      ok: true,
      template: {
        name: 'order_update',
        language: 'en',
        category: 'UTILITY',
        approvalStatus: 'Approved',
        rejectionReason: null,
        headerType: 'none',
        headerText: null,
        headerMediaUrl: null,
        body: 'Hi {{1}}, your order {{2}} has shipped.',
        footer: null,
        buttons: [],
        providerTemplateId: '1234567890123',
      },
    });
  });

  it.each([
    ['an array', BUTTONS],
    ['a JSON string', JSON.stringify(BUTTONS)],
    ['a double-encoded JSON string', JSON.stringify(JSON.stringify(BUTTONS))],
    ['a JSON string wrapping {"buttons": [...]}', JSON.stringify({ buttons: BUTTONS })],
  ])('reads buttons given as %s', (_label, buttons) => {
    expect(parsedTemplate(parseInteraktTemplate(row({ buttons }))).buttons).toEqual(PARSED_BUTTONS);
  });

  it.each([null, undefined, '', 'null', '[]', '""'])('reads buttons %j as no buttons', (buttons) => {
    expect(parsedTemplate(parseInteraktTemplate(row({ buttons }))).buttons).toEqual([]);
  });

  it('keeps a button type it does not know, verbatim, so button positions stay right', () => {
    const buttons = JSON.stringify([
      { type: 'flow', text: 'Book' },
      { type: 'URL', text: 'Open', url: 'https://x.example/{{1}}' },
    ]);
    expect(parsedTemplate(parseInteraktTemplate(row({ buttons }))).buttons).toEqual([
      { type: 'FLOW', text: 'Book' },
      { type: 'URL', text: 'Open', url: 'https://x.example/{{1}}' },
    ]);
  });

  it.each([
    ['broken JSON', '[{"type": "QUICK_REPLY", "text": ', /buttons is not valid JSON/],
    ['broken JSON inside a JSON string', JSON.stringify('[{"type": "URL"'), /buttons is not valid JSON/],
    ['an object that is not a list', '{"type": "QUICK_REPLY"}', /buttons is an object, not a list/],
    ['a number', 7, /buttons is a number, not a list/],
    ['a button without text', '[{"type": "QUICK_REPLY"}]', /button 0 \(QUICK_REPLY\) has no text/],
    ['a URL button without url', '[{"type": "URL", "text": "Go"}]', /button 0 \(URL\) has no url/],
    ['a button that is a string', '["Stop"]', /button 0 is a string/],
  ])('refuses buttons with %s, naming the template', (_label, buttons, reason) => {
    const result = parseInteraktTemplate(row({ buttons }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toMatch(reason);
    expect(result.key).toEqual({ name: 'order_update', language: 'en' });
  });

  it.each([
    [
      'TEXT',
      { header_format: 'TEXT', header: 'Order {{1}}' },
      { headerType: 'text', headerText: 'Order {{1}}', headerMediaUrl: null },
    ],
    [
      'DOCUMENT',
      { header_format: 'DOCUMENT', header_handle_file_url: 'https://cdn.example/form.pdf' },
      { headerType: 'document', headerText: null, headerMediaUrl: 'https://cdn.example/form.pdf' },
    ],
    [
      'IMAGE (lower case)',
      { header_format: 'image', header_handle_file_url: 'https://cdn.example/a.png' },
      { headerType: 'image', headerText: null, headerMediaUrl: 'https://cdn.example/a.png' },
    ],
    [
      'VIDEO without an example url',
      { header_format: 'VIDEO' },
      { headerType: 'video', headerText: null, headerMediaUrl: null },
    ],
    [
      'VIDEO with a media handle instead of a url',
      { header_format: 'VIDEO', header_handle_file_url: '4::aW1h' },
      { headerType: 'video', headerText: null, headerMediaUrl: null },
    ],
    ['missing', { header_format: undefined }, { headerType: 'none', headerText: null, headerMediaUrl: null }],
    ['empty', { header_format: '' }, { headerType: 'none', headerText: null, headerMediaUrl: null }],
  ])('reads a %s header', (_label, overrides, header) => {
    expect(parsedTemplate(parseInteraktTemplate(row(overrides)))).toMatchObject(header);
  });

  it('refuses a header format Message Master cannot hold, and a TEXT header without text', () => {
    expect(parseInteraktTemplate(row({ header_format: 'LOCATION' }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/LOCATION is not supported/),
    });
    expect(parseInteraktTemplate(row({ header_format: 'TEXT', header: '  ' }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/TEXT but header has no text/),
    });
  });

  it.each([
    ['APPROVED', 'Approved'],
    ['PENDING', 'Pending'],
    ['REJECTED', 'Rejected'],
    ['PAUSED', 'Paused'],
    ['DISABLED', 'Disabled'],
    ['IN_APPEAL', 'InAppeal'],
    ['DELETED', 'Deleted'],
    ['approved', 'Approved'],
    [' SOMETHING_NEW ', 'SOMETHING_NEW'],
  ])('normalises approval status %j to %j', (upstream, stored) => {
    expect(parsedTemplate(parseInteraktTemplate(row({ approval_status: upstream }))).approvalStatus).toBe(stored);
  });

  it('keeps an old or unknown category verbatim and a rejection reason, dropping Meta’s "NONE"', () => {
    const rejected = parsedTemplate(
      parseInteraktTemplate(
        row({ category: 'ALERT_UPDATE', approval_status: 'REJECTED', rejection_reason: 'INVALID_FORMAT' }),
      ),
    );
    expect(rejected).toMatchObject({
      category: 'ALERT_UPDATE',
      approvalStatus: 'Rejected',
      rejectionReason: 'INVALID_FORMAT',
    });
    expect(parsedTemplate(parseInteraktTemplate(row({ rejection_reason: 'NONE' }))).rejectionReason).toBeNull();
    expect(parsedTemplate(parseInteraktTemplate(row({ category: null }))).category).toBeNull();
  });

  it('falls back to Interakt’s own id, and accepts a numeric template id', () => {
    expect(parsedTemplate(parseInteraktTemplate(row({ wa_template_id: null }))).providerTemplateId).toBe(
      '0c1e5b2a-7f60-4e2e-9d4e-1a2b3c4d5e6f',
    );
    expect(parsedTemplate(parseInteraktTemplate(row({ wa_template_id: 987654321 }))).providerTemplateId).toBe(
      '987654321',
    );
  });

  it.each([
    ['a row that is not an object', 'hello', /not an object/, undefined],
    ['a row that is null', null, /null, not an object/, undefined],
    ['no name', row({ name: undefined }), /name is missing/, undefined],
    ['a numeric name', row({ name: 42 }), /name is a number, not text/, undefined],
    ['no language', row({ language: '' }), /language is missing/, undefined],
    [
      'no approval status',
      row({ approval_status: null }),
      /approval_status is missing/,
      { name: 'order_update', language: 'en' },
    ],
    ['no body', row({ body: null }), /body is missing/, { name: 'order_update', language: 'en' }],
    [
      'a name too long for the column',
      row({ name: 'x'.repeat(201) }),
      /name is 201 characters/,
      { name: 'x'.repeat(201), language: 'en' },
    ],
  ])('refuses %s without throwing', (_label, raw, reason, key) => {
    const result = parseInteraktTemplate(raw);
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
    expect(result.ok === false && result.key).toEqual(key ?? undefined);
  });
});

describe('Interakt template list client against the emulator', () => {
  const API_KEY = 'template-list-key';
  let running: StartedInteraktEmulator;
  const client = (apiKey = API_KEY) =>
    createInteraktTemplateClient({ baseUrl: running.baseUrl, getApiKey: () => apiKey, timeoutMs: 2_000 });

  beforeAll(async () => {
    running = await startInteraktEmulator({ apiKey: API_KEY, autoWebhooks: false, templatePageSize: 2 });
  });
  beforeEach(() => running.emulator.reset());
  afterAll(async () => {
    await running.close();
  });

  it('reads one page of one approval status by offset, with Basic auth and language=all', async () => {
    const page = await client().listTemplatesPage('APPROVED', 2);

    expect(page).toMatchObject({ approvalStatus: 'APPROVED', offset: 2, hasNext: true, count: 6 });
    expect(page.rows).toHaveLength(2);
    const [request] = running.emulator.state.requests();
    expect(request).toMatchObject({
      method: 'GET',
      authorized: true,
      path: '/v1/public/track/organization/templates?offset=2&approval_status=APPROVED&language=all',
    });
  });

  it('walks every status’s list, each page by page until has_next is false, so pending and rejected templates are seen too', async () => {
    running.emulator.state.upsertTemplate({
      name: 'diwali_offer',
      language: 'en',
      body: 'Hi {{1}}',
      approvalStatus: 'PENDING',
    });
    running.emulator.state.upsertTemplate({
      name: 'spam_offer',
      language: 'en',
      body: 'Buy {{1}}',
      approvalStatus: 'REJECTED',
    });
    const pages: InteraktTemplatePage[] = [];
    for await (const page of client().pages()) pages.push(page);

    expect(pages.map((page) => [page.approvalStatus, page.offset, page.rows.length])).toEqual([
      ['APPROVED', 0, 2],
      ['APPROVED', 2, 2],
      ['APPROVED', 4, 2],
      ['PENDING', 0, 1],
      ['REJECTED', 0, 1],
      ...INTERAKT_TEMPLATE_STATUSES.slice(3).map((status) => [status, 0, 0]),
    ]);
    expect(pages.at(-1)!.next).toBeNull();
    expect(pages[2]!.next).toEqual({ status: 1, offset: 0 });
    const names = pages.flatMap((page) => page.rows.map((raw) => (raw as { name: string }).name));
    expect(names).toEqual([
      'welcome_message',
      'follow_up',
      'drip_day_1',
      'drip_day_2',
      'drip_day_3',
      'seller_registration',
      'diwali_offer',
      'spam_offer',
    ]);
    const asked = running.emulator.state.requests().map((request) => new URL(request.path, running.url).searchParams);
    expect(asked.every((params) => params.has('approval_status'))).toBe(true);
  });

  it('resumes a pass from a cursor: the status list and offset it names', async () => {
    const pages: InteraktTemplatePage[] = [];
    for await (const page of client().pages({ status: 0, offset: 4 })) pages.push(page);
    expect(pages.map((page) => [page.approvalStatus, page.offset])).toEqual([
      ['APPROVED', 4],
      ...INTERAKT_TEMPLATE_STATUSES.slice(1).map((status) => [status, 0]),
    ]);
  });

  it('is answered as the real API answers: approved templates only without approval_status (the request we used to send), and 400 for `all`', async () => {
    running.emulator.state.upsertTemplate({
      name: 'diwali_offer',
      language: 'en',
      body: 'Hi {{1}}',
      approvalStatus: 'PENDING',
    });
    const list = async (query: string) => {
      const response = await fetch(`${running.baseUrl}/track/organization/templates?${query}`, {
        headers: { Authorization: `Basic ${API_KEY}` },
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const old = await list('offset=0&language=all');
    expect(old.status).toBe(200);
    expect(old.body.count).toBe(6);
    expect(old.body.results.templates.map((row: any) => row.name)).not.toContain('diwali_offer');
    const all = await list('offset=0&approval_status=all&language=all');
    expect(all).toMatchObject({ status: 400, body: { result: false } });
    expect(all.body.message).toMatch(/approval_status must be one of APPROVED, PENDING, REJECTED/);
  });

  it('serves a template removed through the control API no more', async () => {
    const response = await fetch(`${running.url}/__emulator/templates/follow_up/en`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect((await fetch(`${running.url}/__emulator/templates/follow_up/en`, { method: 'DELETE' })).status).toBe(404);

    const names: string[] = [];
    for await (const page of client().pages()) names.push(...page.rows.map((raw) => (raw as { name: string }).name));
    expect(names).not.toContain('follow_up');
    expect(names).toHaveLength(5);
  });

  it('classifies a refused API key as a config error without leaking the key', async () => {
    const error = await client('wrong-key')
      .listTemplatesPage('APPROVED', 0)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'config', code: 'unauthorized' });
    expect((error as Error).message).not.toContain('wrong-key');
  });

  it('classifies an unreachable server as retryable', async () => {
    const closed = await startInteraktEmulator({ apiKey: API_KEY });
    await closed.close();
    const unreachable = createInteraktTemplateClient({
      baseUrl: closed.baseUrl,
      getApiKey: () => API_KEY,
      timeoutMs: 1_000,
    });
    await expect(unreachable.listTemplatesPage('APPROVED', 0)).rejects.toMatchObject({
      kind: 'retryable',
      code: 'network',
    });
  });
});

describe('Interakt template list client against odd providers', () => {
  const json = (body: unknown, status = 200): Response =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fakeClient = (answer: (offset: number) => Response) =>
    createInteraktTemplateClient({
      baseUrl: 'https://interakt.invalid/v1/public',
      getApiKey: () => 'key',
      timeoutMs: 1_000,
      fetch: async (input) => answer(Number(new URL(String(input)).searchParams.get('offset'))),
    });

  it('stops with a permanent error when the provider ignores the offset and repeats a page', async () => {
    const offsets: number[] = [];
    const client = fakeClient((offset) => {
      offsets.push(offset);
      return json({ count: 99, has_next: true, results: { templates: [row({ id: 'a' }), row({ id: 'b' })] } });
    });
    const pages: InteraktTemplatePage[] = [];

    const error = await (async () => {
      for await (const page of client.pages()) pages.push(page);
    })().catch((caught: unknown) => caught);

    expect(error).toMatchObject({ kind: 'permanent', code: 'repeated_page' });
    expect(offsets).toEqual([0, 2]);
    expect(pages).toHaveLength(1);
  });

  it('ends at an empty page even if has_next still says true', async () => {
    const client = fakeClient((offset) =>
      json({ has_next: true, results: { templates: offset === 0 ? [row({ id: 'a' })] : [] } }),
    );
    const pages: InteraktTemplatePage[] = [];
    for await (const page of client.pages()) pages.push(page);
    expect(pages.filter((page) => page.approvalStatus === 'APPROVED').map((page) => page.rows.length)).toEqual([1, 0]);
  });

  it('treats a 2xx without a template list as retryable, and a 5xx as retryable', async () => {
    await expect(fakeClient(() => json({ result: true })).listTemplatesPage('APPROVED', 0)).rejects.toMatchObject({
      kind: 'retryable',
      code: 'unexpected_response',
    });
    await expect(
      fakeClient(() => json({ message: 'down' }, 503)).listTemplatesPage('APPROVED', 0),
    ).rejects.toMatchObject({
      kind: 'retryable',
      code: 'http_503',
    });
  });
});
