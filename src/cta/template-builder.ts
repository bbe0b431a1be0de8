/**
 * The template-creation JSON for WhatsApp (the Cloud API's `message_templates` format, which
 * Tata Omni and other BSPs take as is), built deterministically from a short description. The
 * seed asked an AI for this JSON; here every rule WhatsApp reviews mechanically is checked first,
 * and all problems are reported at once, so a template is not sent for review only to bounce.
 *
 * The zod schema checks shapes only (types, required fields); the rules (lengths, formats,
 * variables, button limits) are in `checkCtaTemplateRequest`, so one 400 lists them all.
 */
import { z } from 'zod';
import type { CtaAction } from './contract';
import { LANGUAGE_CODE_PATTERN, TEMPLATE_NAME_PATTERN, TEMPLATE_NAME_RULE, textProblem } from '../api/schemas';
import { MAX_VARIABLE_NUMBER, placeholderNumbers, placeholderProblem, type TemplateIssue } from '../templates/rules';
import { ctaButtonSuffix } from './tokens';

export const TEMPLATE_JSON_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;

export const MAX_BODY_LENGTH = 1024;
export const MAX_HEADER_TEXT_LENGTH = 60;
export const MAX_FOOTER_LENGTH = 60;
export const MAX_BUTTON_TEXT_LENGTH = 25;
export const MAX_BUTTONS = 10;
export const MAX_URL_BUTTONS = 2;
export const MAX_PHONE_BUTTONS = 1;
export const MAX_URL_LENGTH = 2000;

const E164 = /^\+[1-9]\d{6,14}$/;
/**
 * Anything WhatsApp would read as a variable: `{{1}}`, `{{ 1 }}`, `{{name}}`, `{{lead_id}}`. The
 * inside excludes `{` as well as `}`, so a run of braces is scanned once, not once per brace.
 */
const ANY_VARIABLE = /\{\{[^{}]*\}\}/g;
const POSITIONAL_VARIABLE = /^\{\{[1-9][0-9]*\}\}$/;
const DYNAMIC_URL_SUFFIX = '{{1}}';

/**
 * Every text field is bounded here, before any rule scans it: nothing longer than
 * MAX_FIELD_LENGTH can be a template part, so it is refused on its length alone. Within that
 * bound, `checkCtaTemplateRequest` applies WhatsApp's exact limits together with every other rule,
 * so one 400 still lists all of a description's problems. The character policy is the API's
 * (src/api/schemas.ts).
 */
export const MAX_FIELD_LENGTH = 4096;

const Text = z.string().max(MAX_FIELD_LENGTH, { abort: true }).check(policy(true));
const BodyText = z.string().max(MAX_FIELD_LENGTH, { abort: true }).check(policy(false));

function policy(singleLine: boolean) {
  return (ctx: { value: string; issues: unknown[] }) => {
    const problem = textProblem(ctx.value, { singleLine, visible: false });
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: true });
  };
}

const Button = z.discriminatedUnion('type', [
  z.object({ type: z.literal('URL'), text: Text, url: Text, example: Text.optional() }).strict(),
  z.object({ type: z.literal('QUICK_REPLY'), text: Text }).strict(),
  z.object({ type: z.literal('PHONE_NUMBER'), text: Text, phoneNumber: Text }).strict(),
]);
const Header = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: Text, example: Text.optional() }).strict(),
  z
    .object({
      type: z.enum(['document', 'image', 'video']),
      /** WhatsApp reviews media headers from a sample: the handle of a resumable upload (or the sample URL a BSP takes). */
      example: Text,
    })
    .strict(),
]);

export const CtaTemplateRequest = z
  .object({
    name: Text,
    language: Text.default('en'),
    category: z.enum(TEMPLATE_JSON_CATEGORIES).default('MARKETING'),
    header: Header.optional(),
    body: z.object({ text: BodyText, examples: z.array(Text).max(MAX_VARIABLE_NUMBER).default([]) }).strict(),
    footer: Text.optional(),
    // Past WhatsApp's 10 the rules say so; this only keeps a list of thousands from being walked.
    buttons: z
      .array(Button)
      .max(MAX_BUTTONS * 10)
      .default([]),
  })
  .strict();

export type CtaTemplateRequest = z.output<typeof CtaTemplateRequest>;

export type TemplateJsonButton =
  | { type: 'URL'; text: string; url: string; example?: string[] }
  | { type: 'QUICK_REPLY'; text: string }
  | { type: 'PHONE_NUMBER'; text: string; phone_number: string };

export type TemplateJsonComponent =
  | { type: 'HEADER'; format: 'TEXT'; text: string; example?: { header_text: string[] } }
  | { type: 'HEADER'; format: 'DOCUMENT' | 'IMAGE' | 'VIDEO'; example: { header_handle: string[] } }
  | { type: 'BODY'; text: string; example?: { body_text: string[][] } }
  | { type: 'FOOTER'; text: string }
  | { type: 'BUTTONS'; buttons: TemplateJsonButton[] };

/** What `POST /<WABA_ID>/message_templates` takes. */
export interface WhatsAppTemplateJson {
  name: string;
  language: string;
  category: (typeof TEMPLATE_JSON_CATEGORIES)[number];
  components: TemplateJsonComponent[];
}

export class TemplateJsonError extends Error {
  constructor(readonly issues: TemplateIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
    this.name = 'TemplateJsonError';
  }
}

const variablesIn = (text: string): string[] => text.match(ANY_VARIABLE) ?? [];

function isHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Every rule WhatsApp applies mechanically to a template definition; empty when the request is fine. */
export function checkCtaTemplateRequest(request: CtaTemplateRequest): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });

  if (!TEMPLATE_NAME_PATTERN.test(request.name)) issue('name', TEMPLATE_NAME_RULE);
  if (!LANGUAGE_CODE_PATTERN.test(request.language)) issue('language', 'a language code such as en or en_US');

  if (request.header?.type === 'text') {
    const { text, example } = request.header;
    if (text.trim() === '') issue('header.text', 'a text header needs its text');
    if (text.length > MAX_HEADER_TEXT_LENGTH)
      issue('header.text', `at most ${MAX_HEADER_TEXT_LENGTH} characters; ${text.length} given`);
    const variables = variablesIn(text);
    if (variables.length > 1 || variables.some((v) => v !== '{{1}}'))
      issue('header.text', 'a text header may hold one variable, {{1}}');
    else if (variables.length === 1 && !example?.trim())
      issue('header.example', 'the header variable {{1}} needs an example');
    else if (variables.length === 0 && example !== undefined)
      issue('header.example', 'only a header with {{1}} takes an example');
  } else if (request.header && request.header.example.trim() === '') {
    issue('header.example', `a ${request.header.type} header needs a sample: the handle of an uploaded sample file`);
  }

  const body = request.body.text;
  if (body.trim() === '') issue('body.text', 'the body needs its text');
  if (body.length > MAX_BODY_LENGTH) issue('body.text', `at most ${MAX_BODY_LENGTH} characters; ${body.length} given`);
  const malformed = variablesIn(body).filter((v) => !POSITIONAL_VARIABLE.test(v));
  if (malformed.length > 0) {
    issue('body.text', `variables are written {{1}}, {{2}}, …; not ${[...new Set(malformed)].join(', ')}`);
  } else {
    const problem = placeholderProblem(body);
    if (problem) issue('body.text', problem);
    const count = placeholderNumbers(body).length;
    if (!problem && request.body.examples.length !== count) {
      issue(
        'body.examples',
        `one example per body variable: the body has ${count}, ${request.body.examples.length} given`,
      );
    }
  }
  request.body.examples.forEach((example, i) => {
    if (example.trim() === '') issue(`body.examples.${i}`, 'an example cannot be empty');
  });

  if (request.footer !== undefined) {
    if (request.footer.trim() === '') issue('footer', 'leave the footer out rather than empty');
    if (request.footer.length > MAX_FOOTER_LENGTH)
      issue('footer', `at most ${MAX_FOOTER_LENGTH} characters; ${request.footer.length} given`);
    if (variablesIn(request.footer).length > 0) issue('footer', 'a footer cannot hold variables');
  }

  const { buttons } = request;
  if (buttons.length > MAX_BUTTONS) issue('buttons', `at most ${MAX_BUTTONS} buttons; ${buttons.length} given`);
  const urlButtons = buttons.filter((b) => b.type === 'URL').length;
  if (urlButtons > MAX_URL_BUTTONS) issue('buttons', `at most ${MAX_URL_BUTTONS} URL buttons; ${urlButtons} given`);
  const phoneButtons = buttons.filter((b) => b.type === 'PHONE_NUMBER').length;
  if (phoneButtons > MAX_PHONE_BUTTONS)
    issue('buttons', `at most ${MAX_PHONE_BUTTONS} phone number button; ${phoneButtons} given`);

  buttons.forEach((button, i) => {
    const at = `buttons.${i}`;
    if (button.text.trim() === '') issue(`${at}.text`, 'a button needs its text');
    if (button.text.length > MAX_BUTTON_TEXT_LENGTH)
      issue(`${at}.text`, `at most ${MAX_BUTTON_TEXT_LENGTH} characters; ${button.text.length} given`);
    if (variablesIn(button.text).length > 0) issue(`${at}.text`, 'button text cannot hold variables');
    if (button.type === 'PHONE_NUMBER' && !E164.test(button.phoneNumber))
      issue(`${at}.phoneNumber`, 'E.164, e.g. +919876543210');
    if (button.type !== 'URL') return;

    const variables = variablesIn(button.url);
    const dynamic = variables.length === 1 && button.url.endsWith(DYNAMIC_URL_SUFFIX);
    if (variables.length > 0 && !dynamic)
      issue(`${at}.url`, 'a URL button may hold one variable, {{1}}, at the very end of the URL');
    const prefix = dynamic ? button.url.slice(0, -DYNAMIC_URL_SUFFIX.length) : button.url;
    if (button.url.length > MAX_URL_LENGTH) issue(`${at}.url`, `at most ${MAX_URL_LENGTH} characters`);
    if (!isHttpsUrl(prefix)) issue(`${at}.url`, 'an https URL');
    if (dynamic) {
      if (!button.example?.trim())
        issue(`${at}.example`, 'a dynamic URL needs an example: the full URL with a sample value for {{1}}');
      else if (
        !isHttpsUrl(button.example) ||
        !button.example.startsWith(prefix) ||
        button.example.length === prefix.length
      ) {
        issue(`${at}.example`, `the full URL with a sample value for {{1}}, starting ${prefix}`);
      }
    } else if (button.example !== undefined) {
      issue(`${at}.example`, 'only a URL ending in {{1}} takes an example');
    }
  });
  return issues;
}

/** The provider's JSON for a valid request. Throws TemplateJsonError listing every problem otherwise. */
export function buildCtaTemplateJson(request: CtaTemplateRequest): WhatsAppTemplateJson {
  const issues = checkCtaTemplateRequest(request);
  if (issues.length > 0) throw new TemplateJsonError(issues);

  const components: TemplateJsonComponent[] = [];
  const { header } = request;
  if (header?.type === 'text') {
    components.push({
      type: 'HEADER',
      format: 'TEXT',
      text: header.text,
      ...(header.example !== undefined && { example: { header_text: [header.example] } }),
    });
  } else if (header) {
    components.push({
      type: 'HEADER',
      format: header.type.toUpperCase() as 'DOCUMENT' | 'IMAGE' | 'VIDEO',
      example: { header_handle: [header.example] },
    });
  }
  components.push({
    type: 'BODY',
    text: request.body.text,
    ...(request.body.examples.length > 0 && { example: { body_text: [request.body.examples] } }),
  });
  if (request.footer !== undefined) components.push({ type: 'FOOTER', text: request.footer });
  if (request.buttons.length > 0) {
    components.push({
      type: 'BUTTONS',
      buttons: request.buttons.map((button): TemplateJsonButton => {
        if (button.type === 'QUICK_REPLY') return { type: 'QUICK_REPLY', text: button.text };
        if (button.type === 'PHONE_NUMBER')
          return { type: 'PHONE_NUMBER', text: button.text, phone_number: button.phoneNumber };
        return {
          type: 'URL',
          text: button.text,
          url: button.url,
          ...(button.example !== undefined && { example: [button.example] }),
        };
      }),
    });
  }
  return { name: request.name, language: request.language, category: request.category, components };
}

function isHttpsBaseUrl(text: string): boolean {
  if (!isHttpsUrl(text)) return false;
  const url = new URL(text);
  return url.search === '' && url.hash === '' && !text.includes('{{');
}

export const ProjectUpdateTemplateOptions = z
  .object({
    /** Where the click endpoint is served, e.g. `https://crm.example.com`; the buttons open `<baseUrl>/track/…`. */
    baseUrl: Text.refine(isHttpsBaseUrl, 'an https URL without query or fragment, e.g. https://crm.example.com'),
    name: Text.default('project_update_template'),
    language: Text.default('en'),
    footer: Text.default('Bop Realty'),
  })
  .strict();

export type ProjectUpdateTemplateOptions = z.input<typeof ProjectUpdateTemplateOptions>;

/** A token of the real shape for the reviewers' example URL; no key signed it, so it verifies nowhere. */
const exampleSuffix = (action: CtaAction): string =>
  ctaButtonSuffix(
    12345,
    `12345.7.${action === 'interested' ? 'i' : 'n'}.1767225600.exampleKid.AAAAAAAAAAAAAAAAAAAAAA`,
    action,
  );

/**
 * The seed's `project_update_template`: "Hi {{1}}, … *{{2}}* …" with two URL buttons that both
 * open `<baseUrl>/track/{{1}}`; the CTA workflow fills `{{1}}` with `ctaButtonSuffix(...)`, so
 * the lead id, token and action ride in the one variable WhatsApp allows, at the URL's end.
 * Throws a ZodError for options that do not parse.
 */
export function projectUpdateTemplateRequest(options: ProjectUpdateTemplateOptions): CtaTemplateRequest {
  const { baseUrl, name, language, footer } = ProjectUpdateTemplateOptions.parse(options);
  const trackUrl = `${baseUrl.replace(/\/+$/, '')}/track/`;
  return {
    name,
    language,
    category: 'MARKETING',
    body: {
      text: 'Hi {{1}},\nWe shared details about *{{2}}*.\nAre you interested in this project?',
      examples: ['Asha', 'Palm Grove Residences'],
    },
    footer,
    buttons: [
      { type: 'URL', text: 'Interested ✅', url: `${trackUrl}{{1}}`, example: trackUrl + exampleSuffix('interested') },
      {
        type: 'URL',
        text: 'Not interested ❌',
        url: `${trackUrl}{{1}}`,
        example: trackUrl + exampleSuffix('not_interested'),
      },
    ],
  };
}
