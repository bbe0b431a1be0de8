/**
 * What a WhatsApp template requires of a send, and whether a given use meets it: pure functions,
 * no I/O. The same check runs where a template is named (a sequence step, at definition: 400) and
 * where it is sent (the send activity: a permanent, recorded failure), so the two cannot disagree.
 */
import type { HeaderType } from '../db/schema/values';
import type { TemplateButton } from '../db/queries/templates';
import { isSendableStatus } from '../providers/approval-status';

/** One problem, at a path relative to the use (`variables.body`, `templateName`) or the definition (`buttons.1.url`). */
export interface TemplateIssue {
  path: string;
  message: string;
}

/** What the checks read of a template; a Message Master row fits. */
export interface TemplateShape {
  name: string;
  language: string;
  approvalStatus: string;
  headerType: HeaderType;
  headerText?: string | null;
  /** Default media for a document / image / video header, used when a send gives none. */
  headerMediaUrl?: string | null;
  body: string;
  buttons: readonly TemplateButton[];
  archivedAt?: Date | null;
  removedUpstreamAt?: Date | null;
  provider?: string | null;
}

/**
 * The values one use of a template gives: a step's variable mapping (TemplateVariables) or a
 * send's resolved values. Only how many there are, and where, is checked here.
 */
export interface TemplateValues {
  header?: readonly unknown[] | undefined;
  body?: readonly unknown[] | undefined;
  /** Keyed by the button's 0-based index in the template. */
  buttons?: Readonly<Record<string, readonly unknown[] | undefined>> | undefined;
  fileName?: string | undefined;
}

export interface TemplateRequirements {
  bodyVariables: number;
  /** 1 for a text header with `{{1}}`, else 0. */
  headerVariables: 0 | 1;
  /** A document, image or video header: each send needs a media URL, or the template's default. */
  headerMedia: boolean;
  /** Indexes of URL buttons whose URL ends in `{{1}}`: each send gives one value for each. */
  dynamicButtons: number[];
  approved: boolean;
}

export const MEDIA_HEADER_TYPES: readonly HeaderType[] = ['document', 'image', 'video'];
export const MAX_URL_BUTTONS = 2;

const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;
const DYNAMIC_URL_SUFFIX = /\{\{\s*1\s*\}\}$/;

/**
 * The highest variable number a template may use. A body is at most 1,024 characters and each
 * `{{n}}` takes five, so no real template comes near; the bound keeps a typo such as `{{30000000}}`
 * a clear 400 rather than a number anything is sized by.
 */
export const MAX_VARIABLE_NUMBER = 100;

export class TemplatePlaceholderError extends Error {
  readonly code = 'invalid_placeholders';
}

/** The distinct variable numbers in `text`, ascending: `Hi {{2}} {{1}} {{1}}` → [1, 2]. */
export function placeholderNumbers(text: string | null | undefined): number[] {
  if (!text) return [];
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => Number(match[1])))].sort((a, b) => a - b);
}

/**
 * Why the placeholders of `text` are not `{{1}}`..`{{n}}` without gaps (n at most
 * MAX_VARIABLE_NUMBER), or undefined when they are. The work grows with the number of
 * placeholders, never with the numbers written in them.
 */
export function placeholderProblem(text: string | null | undefined): string | undefined {
  const numbers = placeholderNumbers(text);
  const largest = numbers.at(-1);
  if (largest !== undefined && largest > MAX_VARIABLE_NUMBER) {
    const shown = Number.isSafeInteger(largest) ? `{{${largest}}}` : 'a variable number that large';
    return `variables are numbered {{1}} to {{${MAX_VARIABLE_NUMBER}}} at most; ${shown} is too large`;
  }
  // Distinct and sorted: without gaps exactly when the i-th number is i + 1.
  const gapAt = numbers.findIndex((n, i) => n !== i + 1);
  if (gapAt === -1) return undefined;
  return `variables must be numbered {{1}} to {{n}} without gaps; {{${gapAt + 1}}} is missing`;
}

/** `{{1}}`..`{{n}}` → n (a repeated variable takes one value). Throws when the numbers have a gap. */
export function countBodyVariables(body: string): number {
  const problem = placeholderProblem(body);
  if (problem) throw new TemplatePlaceholderError(problem);
  return placeholderNumbers(body).length;
}

export const isDynamicUrlButton = (button: TemplateButton): boolean =>
  button.type === 'URL' && DYNAMIC_URL_SUFFIX.test(button.url ?? '');

/** What every send of `template` must give. Throws TemplatePlaceholderError for a body with a gap in its variables. */
export function templateRequirements(template: TemplateShape): TemplateRequirements {
  return {
    bodyVariables: countBodyVariables(template.body),
    headerVariables: template.headerType === 'text' && placeholderNumbers(template.headerText).length > 0 ? 1 : 0,
    headerMedia: MEDIA_HEADER_TYPES.includes(template.headerType),
    dynamicButtons: template.buttons.flatMap((button, index) => (isDynamicUrlButton(button) ? [index] : [])),
    approved: isSendableStatus(template.approvalStatus),
  };
}

export const describeTemplate = (template: Pick<TemplateShape, 'name' | 'language'>): string =>
  `template ${template.name} (${template.language})`;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Every reason `values` cannot be sent with `template`: not approved, archived, removed upstream,
 * wrong number of body or header values, a media header without media, dynamic URL buttons
 * without their one value, values for buttons that take none. Empty when the use is fine.
 */
export function checkTemplateUse(template: TemplateShape, values: TemplateValues): TemplateIssue[] {
  const label = describeTemplate(template);
  const issues: TemplateIssue[] = [];
  const usable = (message: string) => issues.push({ path: 'templateName', message });

  if (template.archivedAt) usable(`${label} is archived; archived templates cannot be sent`);
  if (template.removedUpstreamAt)
    usable(`${label} was removed from ${template.provider ?? 'the provider'}; it can no longer be sent`);

  let required: TemplateRequirements;
  try {
    required = templateRequirements(template);
  } catch (error) {
    if (!(error instanceof TemplatePlaceholderError)) throw error;
    usable(`${label} has a malformed body (${error.message}); fix the template first`);
    return issues;
  }
  if (!required.approved) usable(`${label} is ${template.approvalStatus}; only approved templates can be sent`);

  const bodyGiven = values.body?.length ?? 0;
  if (bodyGiven !== required.bodyVariables) {
    issues.push({
      path: 'variables.body',
      message: `${label} has ${plural(required.bodyVariables, 'body variable')}; ${bodyGiven} given`,
    });
  }

  const headerGiven = values.header?.length ?? 0;
  if (required.headerMedia) {
    if (headerGiven === 0 && !template.headerMediaUrl) {
      issues.push({
        path: 'variables.header',
        message: `${label} has a ${template.headerType} header and no default media; give its URL as the one header value`,
      });
    } else if (headerGiven > 1) {
      issues.push({
        path: 'variables.header',
        message: `${label} has a ${template.headerType} header, which takes 1 media URL; ${headerGiven} given`,
      });
    }
  } else if (headerGiven !== required.headerVariables) {
    const has =
      template.headerType === 'text'
        ? `a text header with ${plural(required.headerVariables, 'variable')}`
        : 'no header';
    issues.push({
      path: 'variables.header',
      message: `${label} has ${has}; ${plural(headerGiven, 'header value')} given`,
    });
  }

  if (values.fileName !== undefined && template.headerType !== 'document') {
    issues.push({
      path: 'variables.fileName',
      message: `${label} has no document header; a file name is only for document headers`,
    });
  }

  for (const index of required.dynamicButtons) {
    const given = values.buttons?.[String(index)]?.length ?? 0;
    if (given !== 1) {
      issues.push({
        path: `variables.buttons.${index}`,
        message: `button ${index} of ${label} is a dynamic URL button and takes exactly 1 value; ${given} given`,
      });
    }
  }
  // A copy-code button carries its code on every send; a quick reply may carry a payload (what a
  // tap sends back; its text when none is given). Both are bound by position (Infobip).
  template.buttons.forEach((button, index) => {
    const given = values.buttons?.[String(index)]?.length ?? 0;
    if (button.type === 'COPY_CODE' && given !== 1) {
      issues.push({
        path: `variables.buttons.${index}`,
        message: `button ${index} of ${label} is a copy-code button and takes exactly 1 value (the code); ${given} given`,
      });
    }
    if (button.type === 'QUICK_REPLY' && given > 1) {
      issues.push({
        path: `variables.buttons.${index}`,
        message: `button ${index} of ${label} is a quick reply and takes at most 1 value (its payload); ${given} given`,
      });
    }
  });
  const takesValue = (index: number): boolean =>
    required.dynamicButtons.includes(index) ||
    template.buttons[index]?.type === 'COPY_CODE' ||
    template.buttons[index]?.type === 'QUICK_REPLY';
  for (const key of Object.keys(values.buttons ?? {})) {
    const index = Number(key);
    if (takesValue(index)) continue;
    const button = template.buttons[index];
    issues.push({
      path: `variables.buttons.${key}`,
      message: button
        ? `button ${key} of ${label} (${button.type}) takes no value: only dynamic URL, copy-code and quick-reply buttons do`
        : `${label} has no button ${key}`,
    });
  }
  return issues;
}

/** What a template's own definition must satisfy (the API checks it on create and on the result of an edit). */
export interface TemplateDefinition {
  headerType: HeaderType;
  headerText?: string | null | undefined;
  headerMediaUrl?: string | null | undefined;
  body: string;
  buttons: readonly TemplateButton[];
}

/**
 * WhatsApp's rules for a template's parts, with paths relative to the definition: variables
 * `{{1}}`..`{{n}}` without gaps; a text header has text and at most `{{1}}`; media URLs only on
 * media headers; at most 2 URL buttons, 1 phone button and 1 copy-code button; a URL button's
 * only variable is `{{1}}` at the very end.
 */
export function checkTemplateDefinition(definition: TemplateDefinition): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const bodyProblem = placeholderProblem(definition.body);
  if (bodyProblem) issues.push({ path: 'body', message: bodyProblem });

  if (definition.headerType === 'text') {
    if (!definition.headerText) issues.push({ path: 'headerText', message: 'a text header needs its text' });
    else if (placeholderNumbers(definition.headerText).some((n) => n !== 1)) {
      issues.push({ path: 'headerText', message: 'a text header may hold one variable, {{1}}' });
    }
  } else if (definition.headerText) {
    issues.push({
      path: 'headerText',
      message: `header text is only for text headers; headerType is ${definition.headerType}`,
    });
  }
  if (definition.headerMediaUrl && !MEDIA_HEADER_TYPES.includes(definition.headerType)) {
    issues.push({
      path: 'headerMediaUrl',
      message: `a media URL is only for document, image or video headers; headerType is ${definition.headerType}`,
    });
  }

  const limits: Partial<Record<TemplateButton['type'], number>> = {
    URL: MAX_URL_BUTTONS,
    PHONE_NUMBER: 1,
    COPY_CODE: 1,
  };
  for (const [type, max] of Object.entries(limits)) {
    const n = definition.buttons.filter((button) => button.type === type).length;
    if (n > max) issues.push({ path: 'buttons', message: `at most ${plural(max, `${type} button`)}; ${n} given` });
  }
  definition.buttons.forEach((button, index) => {
    if (button.type !== 'URL' || !button.url) return;
    const variables = [...button.url.matchAll(PLACEHOLDER)];
    if (variables.length > 1 || (variables.length === 1 && !DYNAMIC_URL_SUFFIX.test(button.url))) {
      issues.push({
        path: `buttons.${index}.url`,
        message: 'a URL button may hold one variable, {{1}}, at the very end',
      });
    }
  });
  return issues;
}
