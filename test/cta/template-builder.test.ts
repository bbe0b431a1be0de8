import { describe, expect, it } from 'vitest';
import {
  buildCtaTemplateJson,
  checkCtaTemplateRequest,
  CtaTemplateRequest,
  projectUpdateTemplateRequest,
  TemplateJsonError,
} from '../../src/cta/template-builder';
import { verifyCtaToken } from '../../src/cta/tokens';
import { randomBytes } from 'node:crypto';

const request = (overrides: Record<string, unknown> = {}): CtaTemplateRequest =>
  CtaTemplateRequest.parse({
    name: 'site_visit_invite',
    language: 'en',
    body: { text: 'Hi {{1}}, visit {{2}} this weekend?', examples: ['Asha', 'Palm Grove'] },
    footer: 'Bop Realty',
    buttons: [
      {
        type: 'URL',
        text: 'Book a visit',
        url: 'https://crm.example.com/visit/{{1}}',
        example: 'https://crm.example.com/visit/abc123',
      },
      { type: 'QUICK_REPLY', text: 'Call me' },
    ],
    ...overrides,
  });

const pathsOf = (overrides: Record<string, unknown>): string[] =>
  checkCtaTemplateRequest(request(overrides)).map((issue) => issue.path);

describe('buildCtaTemplateJson', () => {
  it("produces Meta's message_templates JSON: body with examples, footer, buttons with the dynamic URL's example", () => {
    expect(buildCtaTemplateJson(request())).toEqual({
      name: 'site_visit_invite',
      language: 'en',
      category: 'MARKETING',
      components: [
        { type: 'BODY', text: 'Hi {{1}}, visit {{2}} this weekend?', example: { body_text: [['Asha', 'Palm Grove']] } },
        { type: 'FOOTER', text: 'Bop Realty' },
        {
          type: 'BUTTONS',
          buttons: [
            {
              type: 'URL',
              text: 'Book a visit',
              url: 'https://crm.example.com/visit/{{1}}',
              example: ['https://crm.example.com/visit/abc123'],
            },
            { type: 'QUICK_REPLY', text: 'Call me' },
          ],
        },
      ],
    });
  });

  it('adds text and media headers, phone buttons, and leaves out examples and components that have nothing to say', () => {
    const built = buildCtaTemplateJson(
      request({
        category: 'UTILITY',
        header: { type: 'text', text: 'Hello {{1}}', example: 'Asha' },
        body: { text: 'Your visit is confirmed.', examples: [] },
        footer: undefined,
        buttons: [
          { type: 'URL', text: 'Directions', url: 'https://maps.example.com/palm-grove' },
          { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+919876543210' },
        ],
      }),
    );
    expect(built.category).toBe('UTILITY');
    expect(built.components).toEqual([
      { type: 'HEADER', format: 'TEXT', text: 'Hello {{1}}', example: { header_text: ['Asha'] } },
      { type: 'BODY', text: 'Your visit is confirmed.' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'URL', text: 'Directions', url: 'https://maps.example.com/palm-grove' },
          { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+919876543210' },
        ],
      },
    ]);
    const withDocument = buildCtaTemplateJson(
      request({ header: { type: 'document', example: '4::aW1hZ2U=:ARb' }, buttons: [] }),
    );
    expect(withDocument.components[0]).toEqual({
      type: 'HEADER',
      format: 'DOCUMENT',
      example: { header_handle: ['4::aW1hZ2U=:ARb'] },
    });
    expect(withDocument.components.map((c) => c.type)).toEqual(['HEADER', 'BODY', 'FOOTER']);
  });

  it('is deterministic: the same request gives the same JSON', () => {
    expect(JSON.stringify(buildCtaTemplateJson(request()))).toBe(JSON.stringify(buildCtaTemplateJson(request())));
  });

  it('throws TemplateJsonError listing every problem at once', () => {
    const bad = request({
      name: 'Bad Name',
      footer: 'x'.repeat(61),
      buttons: [{ type: 'QUICK_REPLY', text: 'y'.repeat(26) }],
    });
    expect(() => buildCtaTemplateJson(bad)).toThrow(TemplateJsonError);
    try {
      buildCtaTemplateJson(bad);
    } catch (error) {
      expect((error as TemplateJsonError).issues.map((issue) => issue.path)).toEqual([
        'name',
        'footer',
        'buttons.0.text',
      ]);
    }
  });
});

describe('checkCtaTemplateRequest', () => {
  it('accepts a valid request', () => {
    expect(checkCtaTemplateRequest(request())).toEqual([]);
  });

  it.each([
    ['uppercase', 'Site_Visit'],
    ['spaces', 'site visit'],
    ['hyphens', 'site-visit'],
    ['empty', ''],
    ['longer than 512', 'a'.repeat(513)],
  ])('refuses a name with %s', (_what, name) => {
    expect(pathsOf({ name })).toEqual(['name']);
  });

  it('accepts a name of exactly 512 characters and language codes like en_US', () => {
    expect(pathsOf({ name: 'a'.repeat(512), language: 'en_US' })).toEqual([]);
    expect(pathsOf({ language: 'english' })).toEqual(['language']);
  });

  it('refuses body variables that skip a number, named variables, and spaced variables', () => {
    expect(checkCtaTemplateRequest(request({ body: { text: 'Hi {{1}} and {{3}}', examples: ['a', 'b'] } }))).toEqual([
      { path: 'body.text', message: 'variables must be numbered {{1}} to {{n}} without gaps; {{2}} is missing' },
    ]);
    expect(pathsOf({ body: { text: 'Hi {{name}}', examples: ['a'] } })).toEqual(['body.text']);
    expect(pathsOf({ body: { text: 'Hi {{ 1 }}', examples: ['a'] } })).toEqual(['body.text']);
  });

  it('wants exactly one non-empty example per body variable', () => {
    expect(checkCtaTemplateRequest(request({ body: { text: 'Hi {{1}} at {{2}}', examples: ['Asha'] } }))).toEqual([
      { path: 'body.examples', message: 'one example per body variable: the body has 2, 1 given' },
    ]);
    expect(pathsOf({ body: { text: 'Hi there', examples: ['extra'] } })).toEqual(['body.examples']);
    expect(pathsOf({ body: { text: 'Hi {{1}}', examples: [' '] } })).toEqual(['body.examples.0']);
    expect(pathsOf({ body: { text: 'Hi {{1}} {{1}}', examples: ['Asha'] } })).toEqual([]);
  });

  it('refuses an empty body or one over 1024 characters', () => {
    expect(pathsOf({ body: { text: '', examples: [] } })).toEqual(['body.text']);
    expect(pathsOf({ body: { text: 'x'.repeat(1025), examples: [] } })).toEqual(['body.text']);
  });

  it('keeps the footer to 60 characters without variables', () => {
    expect(pathsOf({ footer: 'x'.repeat(60) })).toEqual([]);
    expect(pathsOf({ footer: 'x'.repeat(61) })).toEqual(['footer']);
    expect(pathsOf({ footer: 'From {{1}}' })).toEqual(['footer']);
  });

  it('checks text headers: 60 characters, one {{1}} with its example', () => {
    expect(pathsOf({ header: { type: 'text', text: 'x'.repeat(61) } })).toEqual(['header.text']);
    expect(pathsOf({ header: { type: 'text', text: 'Hi {{1}} {{2}}', example: 'a' } })).toEqual(['header.text']);
    expect(pathsOf({ header: { type: 'text', text: 'Hi {{1}}' } })).toEqual(['header.example']);
    expect(pathsOf({ header: { type: 'image', example: '' } })).toEqual(['header.example']);
  });

  it('keeps button text to 25 characters and buttons to 10, at most 2 URL and 1 phone', () => {
    expect(pathsOf({ buttons: [{ type: 'QUICK_REPLY', text: 'x'.repeat(25) }] })).toEqual([]);
    expect(pathsOf({ buttons: [{ type: 'QUICK_REPLY', text: 'x'.repeat(26) }] })).toEqual(['buttons.0.text']);
    expect(
      pathsOf({ buttons: Array.from({ length: 11 }, (_, i) => ({ type: 'QUICK_REPLY', text: `Option ${i}` })) }),
    ).toEqual(['buttons']);
    const url = { type: 'URL', text: 'Open', url: 'https://example.com/a' };
    expect(checkCtaTemplateRequest(request({ buttons: [url, url, url] }))).toEqual([
      { path: 'buttons', message: 'at most 2 URL buttons; 3 given' },
    ]);
    const phone = { type: 'PHONE_NUMBER', text: 'Call', phoneNumber: '+919876543210' };
    expect(pathsOf({ buttons: [phone, phone] })).toEqual(['buttons']);
    expect(pathsOf({ buttons: [{ ...phone, phoneNumber: '98765 43210' }] })).toEqual(['buttons.0.phoneNumber']);
  });

  it.each([
    ['a variable in the middle', 'https://crm.example.com/{{1}}/track'],
    ['two variables', 'https://crm.example.com/{{1}}/{{1}}'],
    ['a variable other than {{1}}', 'https://crm.example.com/track/{{2}}'],
    ["the seed's named variables", 'https://crm.example.com/track/{{lead_id}}?token={{token}}&action=interested'],
  ])('refuses a URL button with %s', (_what, url) => {
    expect(
      pathsOf({ buttons: [{ type: 'URL', text: 'Open', url, example: 'https://crm.example.com/track/1' }] }),
    ).toContain('buttons.0.url');
  });

  it('wants URL buttons on https', () => {
    expect(pathsOf({ buttons: [{ type: 'URL', text: 'Open', url: 'http://crm.example.com/a' }] })).toEqual([
      'buttons.0.url',
    ]);
    expect(pathsOf({ buttons: [{ type: 'URL', text: 'Open', url: 'crm.example.com/a' }] })).toEqual(['buttons.0.url']);
  });

  it("wants a dynamic URL's example to be the full URL with a sample value, and no example on a static URL", () => {
    const dynamic = { type: 'URL', text: 'Open', url: 'https://crm.example.com/track/{{1}}' };
    expect(pathsOf({ buttons: [dynamic] })).toEqual(['buttons.0.example']);
    expect(pathsOf({ buttons: [{ ...dynamic, example: 'abc123' }] })).toEqual(['buttons.0.example']);
    expect(pathsOf({ buttons: [{ ...dynamic, example: 'https://crm.example.com/track/' }] })).toEqual([
      'buttons.0.example',
    ]);
    expect(pathsOf({ buttons: [{ ...dynamic, example: 'https://other.example.com/track/1' }] })).toEqual([
      'buttons.0.example',
    ]);
    expect(
      pathsOf({ buttons: [{ ...dynamic, example: 'https://crm.example.com/track/1?token=x&action=interested' }] }),
    ).toEqual([]);
    expect(
      pathsOf({
        buttons: [
          { type: 'URL', text: 'Open', url: 'https://crm.example.com/a', example: 'https://crm.example.com/a' },
        ],
      }),
    ).toEqual(['buttons.0.example']);
  });
});

describe('projectUpdateTemplateRequest', () => {
  it("builds the seed's project_update_template for a base URL, both buttons opening <base>/track/{{1}}", () => {
    const built = buildCtaTemplateJson(projectUpdateTemplateRequest({ baseUrl: 'https://crm.example.com/' }));
    expect(built.name).toBe('project_update_template');
    expect(built.language).toBe('en');
    expect(built.category).toBe('MARKETING');
    expect(built.components).toEqual([
      {
        type: 'BODY',
        text: 'Hi {{1}},\nWe shared details about *{{2}}*.\nAre you interested in this project?',
        example: { body_text: [['Asha', 'Palm Grove Residences']] },
      },
      { type: 'FOOTER', text: 'Bop Realty' },
      {
        type: 'BUTTONS',
        buttons: [
          {
            type: 'URL',
            text: 'Interested ✅',
            url: 'https://crm.example.com/track/{{1}}',
            example: [
              expect.stringMatching(
                /^https:\/\/crm\.example\.com\/track\/12345\?token=[A-Za-z0-9._-]+&action=interested$/,
              ),
            ],
          },
          {
            type: 'URL',
            text: 'Not interested ❌',
            url: 'https://crm.example.com/track/{{1}}',
            example: [
              expect.stringMatching(
                /^https:\/\/crm\.example\.com\/track\/12345\?token=[A-Za-z0-9._-]+&action=not_interested$/,
              ),
            ],
          },
        ],
      },
    ]);
  });

  it('gives reviewers an example token that no key verifies', () => {
    const built = buildCtaTemplateJson(projectUpdateTemplateRequest({ baseUrl: 'https://crm.example.com' }));
    const buttons = built.components.find((c) => c.type === 'BUTTONS');
    const example =
      buttons && 'buttons' in buttons && buttons.buttons[0]?.type === 'URL'
        ? buttons.buttons[0].example?.[0]
        : undefined;
    const token = new URL(example!).searchParams.get('token')!;
    const someKey = { kid: 'exampleKid', secret: randomBytes(32) };
    const check = verifyCtaToken(
      { current: someKey, keys: new Map([[someKey.kid, someKey]]) },
      token,
      { leadId: 12345, action: 'interested' },
      new Date(0),
    );
    expect(check).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('takes a name, language and footer, and refuses a base URL that is not plain https', () => {
    const built = buildCtaTemplateJson(
      projectUpdateTemplateRequest({
        baseUrl: 'https://crm.example.com/app',
        name: 'palm_grove_cta',
        language: 'en_GB',
        footer: 'Palm Grove',
      }),
    );
    expect(built).toMatchObject({ name: 'palm_grove_cta', language: 'en_GB' });
    expect(JSON.stringify(built)).toContain('https://crm.example.com/app/track/{{1}}');
    for (const baseUrl of [
      'http://crm.example.com',
      'https://crm.example.com?x=1',
      'https://crm.example.com#top',
      'crm.example.com',
      'https://crm.example.com/{{1}}',
    ]) {
      expect(() => projectUpdateTemplateRequest({ baseUrl })).toThrow();
    }
  });
});
