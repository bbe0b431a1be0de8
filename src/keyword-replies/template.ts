/** What a keyword confirmation's template is given: one rule for the settings' check and the send. */
import type { Db } from '../db/client';
import { getTemplateByNameLanguage } from '../db/queries';
import type { KeywordReplyTemplate } from '../delivery/settings';
import type { TemplateVariables } from '../shared';
import { checkSequenceSteps } from '../templates/check';
import { templateRequirements } from '../templates/rules';

/**
 * The confirmation's variables: the lead's name for a body with one variable (`Hi {{1}}, you will
 * not hear from us again`), nothing otherwise. A template that needs anything else (two body
 * variables, a text header variable) is refused when the setting is saved.
 */
export async function keywordReplyVariables(db: Db, reply: KeywordReplyTemplate): Promise<TemplateVariables> {
  const template = await getTemplateByNameLanguage(db, reply.templateName, reply.templateLanguage);
  if (!template) return {};
  try {
    return templateRequirements(template).bodyVariables === 1 ? { body: [{ field: 'name' }] } : {};
  } catch {
    // A malformed body: the send's own check refuses it, on record.
    return {};
  }
}

/** Why this template cannot confirm a keyword, one message per problem; empty when it can. */
export async function checkKeywordReplyTemplate(db: Db, reply: KeywordReplyTemplate): Promise<string[]> {
  const variables = await keywordReplyVariables(db, reply);
  const issues = await checkSequenceSteps(db, [{ ...reply, variables }]);
  return issues.map((issue) => issue.message);
}
