import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors';
import { createInfobipTemplateSource } from '../../src/providers/infobip-templates';
import { createMetaTemplateClient, createMetaTemplateSource } from '../../src/providers/meta-templates';
import type { TemplatePage, TemplateSource } from '../../src/providers/templates';
import type { EmulatorTemplate } from '../../src/emulators/interakt-templates';
import { META_EMULATOR_WABA_ID } from '../../src/emulators/meta';
import { startInfobipEmulator, TEST_INFOBIP_API_KEY, type StartedInfobipEmulator } from '../support/infobip-emulator';
import { startMetaEmulator, type StartedMetaEmulator } from '../support/meta-emulator';

const EXTRA: EmulatorTemplate[] = [
  {
    name: 'order_update',
    language: 'en_US',
    header: { format: 'TEXT', text: 'Order {{1}}' },
    body: 'Hi {{1}}, your order shipped.',
    footer: 'Shop Example',
    buttons: [
      { type: 'QUICK_REPLY', text: 'Thanks' },
      { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
      { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919800000000' },
    ],
    quality: 'YELLOW',
  },
  {
    name: 'spring_sale',
    language: 'en',
    body: 'Hi {{1}}, sale soon.',
    approvalStatus: 'PAUSED',
    category: 'MARKETING',
  },
  { name: 'spam_offer', language: 'en', body: 'Buy {{1}}', approvalStatus: 'REJECTED', rejectionReason: 'PROMOTIONAL' },
];

async function readAll(source: TemplateSource, from?: unknown) {
  const pages: TemplatePage[] = [];
  for await (const page of source.pages(from)) pages.push(page);
  return { pages, rows: pages.flatMap((page) => page.rows) };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('Meta message_templates against the emulator', () => {
  let meta: StartedMetaEmulator;
  const options = (overrides: Record<string, unknown> = {}) => ({
    graphBaseUrl: meta.url,
    apiVersion: 'v21.0',
    wabaId: META_EMULATOR_WABA_ID,
    getAccessToken: () => 'test-meta-token',
    timeoutMs: 10_000,
    pageSize: 3,
    ...overrides,
  });
  beforeAll(async () => {
    meta = await startMetaEmulator({ templates: EXTRA, autoWebhooks: false });
  });
  beforeEach(() => meta.emulator.reset());
  afterAll(async () => {
    await meta?.close();
  });

  it('lists every template by following the paging cursor, and parses header, body, footer, buttons and quality', async () => {
    const source = createMetaTemplateSource(options());
    const { pages, rows } = await readAll(source);
    expect(pages.map((page) => page.rows.length)).toEqual([3, 3, 3]);
    expect(pages.at(-1)!.next).toBeNull();
    const requests = meta.emulator.state.requests().map((request) => new URL(request.path, meta.url));
    expect(requests.map((url) => url.pathname)).toEqual(
      Array(3).fill(`/v21.0/${META_EMULATOR_WABA_ID}/message_templates`),
    );
    expect(requests[0]!.searchParams.get('fields')).toContain('quality_score');
    expect(requests[1]!.searchParams.get('after')).toBeTruthy();

    const parsed = rows.map((row) => source.parse(row));
    expect(parsed.every((result) => result.ok)).toBe(true);
    const byName = new Map(parsed.map((result) => [result.ok && result.template.name, result.ok && result.template]));
    expect(byName.get('order_update')).toMatchObject({
      language: 'en_US',
      approvalStatus: 'Approved',
      headerType: 'text',
      headerText: 'Order {{1}}',
      footer: 'Shop Example',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Thanks' },
        { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
        { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+919800000000' },
      ],
      qualityScore: 'YELLOW',
    });
    expect(byName.get('spring_sale')).toMatchObject({ approvalStatus: 'Paused', category: 'MARKETING' });
    expect(byName.get('spam_offer')).toMatchObject({ approvalStatus: 'Rejected', rejectionReason: 'PROMOTIONAL' });
    expect(byName.get('seller_registration')).toMatchObject({ headerType: 'document' });
  });

  it('resumes from a cursor, and refuses another account’s WABA id or a bad token', async () => {
    const source = createMetaTemplateSource(options());
    const first = (await source.pages().next()).value as TemplatePage;
    const rest = await readAll(source, first.next);
    expect(rest.rows).toHaveLength(6);

    const otherWaba = await failure(readAll(createMetaTemplateSource(options({ wabaId: '999' }))));
    expect(otherWaba).toMatchObject({ kind: 'permanent', code: 'meta_100' });
    const badToken = await failure(readAll(createMetaTemplateSource(options({ getAccessToken: () => 'nope' }))));
    expect(badToken).toMatchObject({ kind: 'config', code: 'meta_190' });
  });

  it('submits a template for review: PENDING with an id, readable back by id and by name; a second submission of it is refused', async () => {
    const client = createMetaTemplateClient(options());
    const definition = {
      name: 'visit_reminder',
      language: 'en',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hi {{1}}, see you at {{2}}.', example: { body_text: [['Asha', '5 pm']] } }],
    };
    const created = await client.createTemplate(definition);
    expect(created).toMatchObject({ name: 'visit_reminder', status: 'PENDING', rejectedReason: null });
    expect(await client.getTemplate(created.id)).toEqual(created);
    expect(await client.findTemplatesByName('visit_reminder')).toEqual([created]);
    const again = await failure(client.createTemplate(definition));
    expect(again).toMatchObject({ kind: 'permanent', code: 'meta_100' });
    const noExamples = await failure(
      client.createTemplate({ ...definition, name: 'other', components: [{ type: 'BODY', text: 'Hi {{1}}' }] }),
    );
    expect(noExamples.message).toContain('needs example.body_text');
  });
});

describe('Infobip sender templates against the emulator', () => {
  let infobip: StartedInfobipEmulator;
  const SENDER = '447860099299';
  const source = (senders = [`+${SENDER}`]) =>
    createInfobipTemplateSource({
      baseUrl: infobip.url,
      getApiKey: () => TEST_INFOBIP_API_KEY,
      timeoutMs: 10_000,
      senders,
    });
  beforeAll(async () => {
    infobip = await startInfobipEmulator({ whatsappSender: SENDER, templates: EXTRA, autoReports: false });
  });
  beforeEach(() => infobip.emulator.reset());
  afterAll(async () => {
    await infobip?.close();
  });

  it('lists the sender’s templates in one page and parses Infobip’s statuses (FIRST_PAUSED is paused) and quality', async () => {
    const { pages, rows } = await readAll(source());
    expect(pages).toHaveLength(1);
    expect(pages[0]!.next).toBeNull();
    expect(infobip.emulator.state.requests()).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/whatsapp/2/senders/${SENDER}/templates`,
        endpoint: 'templates',
        authorized: true,
      }),
    ]);
    expect(rows.find((row: any) => row.name === 'spring_sale')).toMatchObject({ status: 'FIRST_PAUSED' });
    const parsed = rows.map((row) => source().parse(row));
    const byName = new Map(parsed.map((result) => [result.ok && result.template.name, result.ok && result.template]));
    expect(byName.get('spring_sale')).toMatchObject({ approvalStatus: 'Paused' });
    expect(byName.get('order_update')).toMatchObject({
      headerType: 'text',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Thanks' },
        { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
        { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+919800000000' },
      ],
      qualityScore: 'YELLOW',
    });
  });

  it('refuses a sender the account does not have', async () => {
    const error = await failure(readAll(source(['+15550001111'])));
    expect(error).toMatchObject({ kind: 'permanent', details: { httpStatus: 404 } });
  });
});
