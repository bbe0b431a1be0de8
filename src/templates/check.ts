/**
 * Looks templates up in Message Master and checks a use against them (rules.ts): for the steps of
 * a sequence when it is defined, and for one message right before it is sent.
 */
import type { Db } from '../db/client';
import { getTemplateByNameLanguage, type Template } from '../db/queries';
import type { TemplateSend } from '../providers/types';
import type { TemplateVariables } from '../shared';
import { checkTemplateUse, MEDIA_HEADER_TYPES, type TemplateIssue } from './rules';

export interface NamedTemplateUse {
  templateName: string;
  templateLanguage: string;
  variables: TemplateVariables;
}

/**
 * Every problem with the steps' templates, at `steps.<i>.<path>` (e.g. `steps.1.variables.body`,
 * `steps.0.templateName` for a template Message Master does not have). Empty when all can be sent.
 */
export async function checkSequenceSteps(db: Db, steps: readonly NamedTemplateUse[]): Promise<TemplateIssue[]> {
  const found = new Map<string, Promise<Template | undefined>>();
  const issues: TemplateIssue[] = [];
  for (const [index, step] of steps.entries()) {
    const key = `${step.templateName}\u0000${step.templateLanguage}`;
    if (!found.has(key)) found.set(key, getTemplateByNameLanguage(db, step.templateName, step.templateLanguage));
    const template = await found.get(key)!;
    const stepIssues = template
      ? checkTemplateUse(template, step.variables)
      : [{ path: 'templateName', message: unknownTemplate(step.templateName, step.templateLanguage) }];
    issues.push(...stepIssues.map((issue) => ({ path: `steps.${index}.${issue.path}`, message: issue.message })));
  }
  return issues;
}

export type TemplateMessage = Omit<TemplateSend, 'to' | 'callbackData'>;

export type TemplateSendCheck =
  { ok: true; template: Template; message: TemplateMessage } | { ok: false; reason: string };

/**
 * Checks one message's resolved values against its template. When it may be sent, the message
 * comes back with what the template adds: its header format, and its default media when the
 * message gives none for a media header.
 */
export async function checkTemplateSend(db: Db, message: TemplateMessage): Promise<TemplateSendCheck> {
  const template = await getTemplateByNameLanguage(db, message.templateName, message.languageCode);
  if (!template) return { ok: false, reason: unknownTemplate(message.templateName, message.languageCode) };
  const issues = checkTemplateUse(template, {
    header: message.headerValues,
    body: message.bodyValues,
    buttons: message.buttonValues,
    fileName: message.fileName,
  });
  if (issues.length > 0) return { ok: false, reason: issues.map((issue) => issue.message).join('; ') };

  const prepared: TemplateMessage = { ...message };
  if (template.headerType !== 'none') prepared.headerFormat ??= template.headerType;
  if (template.buttons.length > 0)
    prepared.templateButtons = template.buttons.map(({ type, text, url }) => ({ type, text, ...(url && { url }) }));
  if (MEDIA_HEADER_TYPES.includes(template.headerType) && !message.headerValues?.length && template.headerMediaUrl) {
    prepared.headerValues = [template.headerMediaUrl];
  }
  return { ok: true, template, message: prepared };
}

const unknownTemplate = (name: string, language: string): string =>
  `no template ${name} (${language}) in Message Master`;
