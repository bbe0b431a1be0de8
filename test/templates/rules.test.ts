import { describe, expect, it } from 'vitest';
import { normaliseApprovalStatus } from '../../src/providers/approval-status';
import {
  checkTemplateDefinition,
  checkTemplateUse,
  countBodyVariables,
  placeholderProblem,
  TemplatePlaceholderError,
  templateRequirements,
  type TemplateShape,
} from '../../src/templates/rules';

const template = (overrides: Partial<TemplateShape> = {}): TemplateShape => ({
  name: 'drip_day_2',
  language: 'en',
  approvalStatus: 'Approved',
  headerType: 'none',
  body: 'Hi {{1}}, a quick tip.',
  buttons: [],
  ...overrides,
});

const field = { field: 'name' } as const;

describe('countBodyVariables', () => {
  it('counts {{1}}..{{n}}, a repeated variable once, spaces inside the braces allowed', () => {
    expect(countBodyVariables('No variables')).toBe(0);
    expect(countBodyVariables('Hi {{1}}, welcome to {{2}}. Bye {{1}}')).toBe(2);
    expect(countBodyVariables('Hi {{ 1 }}')).toBe(1);
  });

  it('refuses numbering that does not run from 1 without gaps', () => {
    expect(() => countBodyVariables('Hi {{2}}')).toThrow(TemplatePlaceholderError);
    expect(() => countBodyVariables('Hi {{1}} and {{3}}')).toThrow('{{2}} is missing');
  });

  it('refuses a variable number above 100 by its size, however large, without sizing anything by it', () => {
    expect(() => countBodyVariables('Hi {{1}} {{101}}')).toThrow('{{101}} is too large');
    expect(placeholderProblem('Hi {{1}} {{99999999999999999999999}}')).toBe(
      'variables are numbered {{1}} to {{100}} at most; a variable number that large is too large',
    );
    expect(placeholderProblem(Array.from({ length: 100 }, (_, i) => `{{${i + 1}}}`).join(' '))).toBeUndefined();
  });
});

describe('templateRequirements', () => {
  it('reads body and text-header variables, media headers, dynamic URL buttons and approval', () => {
    const required = templateRequirements(
      template({
        headerType: 'text',
        headerText: 'Order {{1}}',
        body: 'Hi {{1}}, your order {{2}} ships today.',
        approvalStatus: 'Pending',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Thanks' },
          { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' },
          { type: 'URL', text: 'Shop', url: 'https://shop.example/' },
        ],
      }),
    );
    expect(required).toEqual({
      bodyVariables: 2,
      headerVariables: 1,
      headerMedia: false,
      dynamicButtons: [1],
      approved: false,
    });
    expect(templateRequirements(template({ headerType: 'document' }))).toMatchObject({
      headerVariables: 0,
      headerMedia: true,
      approved: true,
    });
    expect(templateRequirements(template({ headerType: 'text', headerText: 'Hello' })).headerVariables).toBe(0);
  });
});

describe('checkTemplateUse', () => {
  it('accepts a use that gives exactly what an approved template needs', () => {
    expect(checkTemplateUse(template(), { body: [field] })).toEqual([]);
  });

  it('names the template and both counts when the body values do not match', () => {
    expect(checkTemplateUse(template(), { body: [field, { value: 'x' }] })).toEqual([
      { path: 'variables.body', message: 'template drip_day_2 (en) has 1 body variable; 2 given' },
    ]);
    expect(checkTemplateUse(template({ body: 'Hi {{1}} from {{2}}' }), {})).toEqual([
      { path: 'variables.body', message: 'template drip_day_2 (en) has 2 body variables; 0 given' },
    ]);
  });

  it('refuses a template that is not approved, saying its status', () => {
    expect(checkTemplateUse(template({ approvalStatus: 'Pending' }), { body: [field] })).toEqual([
      { path: 'templateName', message: 'template drip_day_2 (en) is Pending; only approved templates can be sent' },
    ]);
  });

  it('refuses archived templates and templates removed upstream', () => {
    const issues = checkTemplateUse(
      template({ archivedAt: new Date(), removedUpstreamAt: new Date(), provider: 'interakt' }),
      { body: [field] },
    );
    expect(issues.map((issue) => issue.message)).toEqual([
      'template drip_day_2 (en) is archived; archived templates cannot be sent',
      'template drip_day_2 (en) was removed from interakt; it can no longer be sent',
    ]);
  });

  it('needs media for a document header unless the template has a default, and at most one URL', () => {
    const document = template({ name: 'seller_registration', headerType: 'document' });
    expect(checkTemplateUse(document, { body: [field] })).toEqual([
      {
        path: 'variables.header',
        message:
          'template seller_registration (en) has a document header and no default media; give its URL as the one header value',
      },
    ]);
    expect(
      checkTemplateUse(document, { body: [field], header: [{ value: 'https://x.example/a.pdf' }], fileName: 'a.pdf' }),
    ).toEqual([]);
    expect(
      checkTemplateUse({ ...document, headerMediaUrl: 'https://x.example/default.pdf' }, { body: [field] }),
    ).toEqual([]);
    expect(checkTemplateUse(document, { body: [field], header: [{ value: 'a' }, { value: 'b' }] })[0]?.path).toBe(
      'variables.header',
    );
  });

  it('checks text-header variables, and refuses header values or a file name the template has no place for', () => {
    const textHeader = template({ headerType: 'text', headerText: 'Order {{1}}' });
    expect(checkTemplateUse(textHeader, { body: [field] })).toEqual([
      {
        path: 'variables.header',
        message: 'template drip_day_2 (en) has a text header with 1 variable; 0 header values given',
      },
    ]);
    expect(checkTemplateUse(template(), { body: [field], header: [field], fileName: 'x.pdf' })).toEqual([
      { path: 'variables.header', message: 'template drip_day_2 (en) has no header; 1 header value given' },
      {
        path: 'variables.fileName',
        message: 'template drip_day_2 (en) has no document header; a file name is only for document headers',
      },
    ]);
  });

  it('needs one value per dynamic URL and copy-code button, at most one (a payload) per quick reply, and none for others', () => {
    const withButtons = template({
      buttons: [
        { type: 'QUICK_REPLY', text: 'Yes' },
        { type: 'URL', text: 'Track', url: 'https://shop.example/t/{{1}}' },
        { type: 'PHONE_NUMBER', text: 'Call', phoneNumber: '+919800000000' },
        { type: 'COPY_CODE', text: 'Copy code' },
      ],
    });
    const code = { '3': [{ value: 'SAVE10' }] };
    expect(checkTemplateUse(withButtons, { body: [field], buttons: { '1': [{ value: 'A1' }], ...code } })).toEqual([]);
    expect(checkTemplateUse(withButtons, { body: [field], buttons: { '0': [field], '1': [field], ...code } })).toEqual(
      [],
    );
    expect(checkTemplateUse(withButtons, { body: [field] })).toEqual([
      {
        path: 'variables.buttons.1',
        message: 'button 1 of template drip_day_2 (en) is a dynamic URL button and takes exactly 1 value; 0 given',
      },
      {
        path: 'variables.buttons.3',
        message:
          'button 3 of template drip_day_2 (en) is a copy-code button and takes exactly 1 value (the code); 0 given',
      },
    ]);
    expect(
      checkTemplateUse(withButtons, {
        body: [field],
        buttons: { '0': [field, field], '1': [field], '2': [field], '5': [field], ...code },
      }),
    ).toEqual([
      {
        path: 'variables.buttons.0',
        message:
          'button 0 of template drip_day_2 (en) is a quick reply and takes at most 1 value (its payload); 2 given',
      },
      {
        path: 'variables.buttons.2',
        message:
          'button 2 of template drip_day_2 (en) (PHONE_NUMBER) takes no value: only dynamic URL, copy-code and quick-reply buttons do',
      },
      { path: 'variables.buttons.5', message: 'template drip_day_2 (en) has no button 5' },
    ]);
  });

  it('reports a stored template whose body numbering has a gap instead of throwing', () => {
    expect(checkTemplateUse(template({ body: 'Hi {{2}}' }), { body: [field] })).toEqual([
      { path: 'templateName', message: expect.stringContaining('has a malformed body') },
    ]);
  });
});

describe('checkTemplateDefinition', () => {
  const definition = { headerType: 'none' as const, body: 'Hi {{1}}', buttons: [] };

  it('accepts a plain template', () => {
    expect(checkTemplateDefinition(definition)).toEqual([]);
  });

  it('refuses gaps in the body, header parts that do not match the header type, and URL variables not at the end', () => {
    const issues = checkTemplateDefinition({
      headerType: 'image',
      headerText: 'Hello',
      body: 'Hi {{1}} {{3}}',
      buttons: [
        { type: 'URL', text: 'A', url: 'https://a.example/{{1}}/x' },
        { type: 'URL', text: 'B', url: 'https://b.example/{{1}}' },
        { type: 'URL', text: 'C', url: 'https://c.example/' },
      ],
    });
    expect(issues.map((issue) => issue.path)).toEqual(['body', 'headerText', 'buttons', 'buttons.0.url']);
    expect(checkTemplateDefinition({ ...definition, headerType: 'text' })).toEqual([
      { path: 'headerText', message: 'a text header needs its text' },
    ]);
    expect(checkTemplateDefinition({ ...definition, headerMediaUrl: 'https://x.example/a.png' })[0]?.path).toBe(
      'headerMediaUrl',
    );
  });
});

describe('normaliseApprovalStatus', () => {
  it('maps provider spellings to the stored statuses and keeps unknown values verbatim', () => {
    expect(['APPROVED', 'approved', 'Approved'].map(normaliseApprovalStatus)).toEqual([
      'Approved',
      'Approved',
      'Approved',
    ]);
    expect(['IN_APPEAL', 'In Appeal', 'InAppeal'].map(normaliseApprovalStatus)).toEqual([
      'InAppeal',
      'InAppeal',
      'InAppeal',
    ]);
    expect(['FIRST_PAUSED', 'SECOND_PAUSED', 'PAUSED'].map(normaliseApprovalStatus)).toEqual([
      'Paused',
      'Paused',
      'Paused',
    ]);
    expect(normaliseApprovalStatus('PENDING_DELETION')).toBe('PendingDeletion');
    expect(normaliseApprovalStatus(' SOMETHING_NEW ')).toBe('SOMETHING_NEW');
  });
});
