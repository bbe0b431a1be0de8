/**
 * Lead custom fields checked against their definitions: a field with a definition must hold a value
 * of its type (an `enum` one of its allowed values); a field without one takes any value, as before
 * definitions existed. Used by lead create/update and the CSV import.
 */
import type { Db } from '../db/client';
import { listCustomFieldDefinitions, type CustomFieldDefinition } from '../db/queries';

export type CustomFieldValue = string | number | boolean | null;

export type CustomFieldRules = Map<string, CustomFieldDefinition>;

export async function loadCustomFieldRules(db: Db): Promise<CustomFieldRules> {
  return new Map((await listCustomFieldDefinitions(db)).map((definition) => [definition.name, definition]));
}

/** Why `value` does not fit the definition of `key`, or undefined when it does (null clears a field). */
export function customFieldProblem(rules: CustomFieldRules, key: string, value: unknown): string | undefined {
  const definition = rules.get(key);
  if (!definition || value === null) return undefined;
  switch (definition.type) {
    case 'text':
      return typeof value === 'string' ? undefined : `${key} is a text field`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${key} is a number field`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${key} is a boolean field (true or false)`;
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : `${key} is a date field (YYYY-MM-DD)`;
    case 'enum':
      return typeof value === 'string' && definition.allowedValues.includes(value)
        ? undefined
        : `${key} must be one of ${definition.allowedValues.join(', ')}`;
  }
}

/**
 * A CSV cell (always text) as the value its definition's type takes: `42` for a number field,
 * `true` for a boolean one; text otherwise. Undefined with a reason when it cannot be.
 */
export function customFieldFromText(
  rules: CustomFieldRules,
  key: string,
  text: string,
): { ok: true; value: CustomFieldValue } | { ok: false; reason: string } {
  const type = rules.get(key)?.type;
  let value: CustomFieldValue = text;
  if (type === 'number') {
    const number = Number(text);
    if (text.trim() === '' || !Number.isFinite(number)) return { ok: false, reason: `${key} is a number field` };
    value = number;
  } else if (type === 'boolean') {
    const lower = text.trim().toLowerCase();
    if (!['true', 'false', 'yes', 'no', '1', '0'].includes(lower))
      return { ok: false, reason: `${key} is a boolean field (true or false)` };
    value = ['true', 'yes', '1'].includes(lower);
  }
  const problem = customFieldProblem(rules, key, value);
  return problem ? { ok: false, reason: problem } : { ok: true, value };
}
