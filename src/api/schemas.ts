/**
 * The rules every request schema shares, defined once: ids, paging, and the character policy of
 * text. Every text input has a length checked *before* anything scans it (zod runs a string's
 * checks in order and, without `abort`, goes on after a failed one), and a character policy:
 *
 * - no text holds C0 or C1 control characters (NUL, ESC, …) other than tab, line feed and carriage
 *   return, nor bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 *   which make a name read differently from what it is, nor unpaired surrogates;
 * - single-line text (names, statuses, ids, template parameters) holds no tab, line break or
 *   line/paragraph separator either;
 * - text that must say something (a name) holds at least one letter, digit, punctuation mark or
 *   symbol: whitespace and zero-width characters alone are not a name.
 */
import { createSelectSchema } from 'drizzle-orm/zod';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';

/** SQL Server's INT, the type of every Id column: larger ids cannot exist, and would fail the driver. */
export const MAX_ID = 2_147_483_647;

/** A row id, from a JSON number. */
export const Id = z.number().int().min(1).max(MAX_ID);
/** A row id, from a path or query string. */
export const IdFromText = z.coerce.number().int().min(1).max(MAX_ID);

export const IdParams = z.object({ id: IdFromText });

/** Pages past this are never useful to a person, and keep OFFSET far from any integer limit. */
export const MAX_PAGE = 100_000;

export const Paging = z.object({
  page: z.coerce.number().int().min(1).max(MAX_PAGE).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});

// Control characters are exactly what these patterns are for.
/* eslint-disable no-control-regex */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;
/* eslint-enable no-control-regex */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `value` breaks the character policy, or undefined when it does not. `singleLine` also
 * refuses tabs and line breaks; `visible` requires something a person can see.
 */
export function textProblem(
  value: string,
  { singleLine, visible }: { singleLine: boolean; visible: boolean },
): string | undefined {
  const control = (singleLine ? CONTROL_IN_LINE : CONTROL_IN_TEXT).exec(value);
  if (control) {
    const what = singleLine ? 'a single line without control characters' : 'text without control characters';
    return `must be ${what} or bidirectional overrides; ${codePoint(control[0])} found at position ${control.index}`;
  }
  const surrogate = UNPAIRED_SURROGATE.exec(value);
  if (surrogate) return `must be valid Unicode; an unpaired surrogate found at position ${surrogate.index}`;
  if (visible && value !== '' && !VISIBLE.test(value))
    return 'must contain a visible character, not only spaces or invisible ones';
  return undefined;
}

interface TextOptions {
  /** Default 1: text must not be empty (after trimming, for single-line text). */
  min?: number;
}

function policed(max: number, { min = 1 }: TextOptions, singleLine: boolean): z.ZodString {
  let schema = z.string().max(max, { abort: true });
  // Single-line values are trimmed: a trailing space in a name is a typo, not data.
  if (singleLine) schema = schema.trim();
  if (min > 0) schema = schema.min(min, { abort: true });
  return schema.check((ctx) => {
    const problem = textProblem(ctx.value, { singleLine, visible: min > 0 });
    // `continue`: a finding, not an abort, so a union (a custom field's value) still names it.
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value, continue: true });
  });
}

/** A name, status, id or parameter: one trimmed line of at most `max` characters, at least `min` (1). */
export const singleLine = (max: number, options: TextOptions = {}): z.ZodString => policed(max, options, true);

/** A body, description or note: lines of text, at most `max` characters, at least `min` (1). */
export const multiLine = (max: number, options: TextOptions = {}): z.ZodString => policed(max, options, false);

/** A string checked against a pattern only once it is known to be at most `max` characters long. */
export const matching = (max: number, pattern: RegExp, message: string): z.ZodString =>
  z.string().max(max, { abort: true }).regex(pattern, message);

/** Template names as WhatsApp takes them; every schema and check that names a template uses this rule. */
export const TEMPLATE_NAME_PATTERN = /^[a-z0-9_]{1,512}$/;
export const TEMPLATE_NAME_RULE = 'template names are 1 to 512 lowercase letters, digits and underscores';
export const TemplateName = matching(512, TEMPLATE_NAME_PATTERN, TEMPLATE_NAME_RULE);

/** A template language code: `en`, `pt_BR`. */
export const LANGUAGE_CODE_PATTERN = /^[a-z]{2,3}(_[A-Z]{2})?$/;
export const LanguageCode = matching(8, LANGUAGE_CODE_PATTERN, 'a language code such as en or en_US');

/** E.164 as WhatsApp buttons and provider settings take it: `+919876543210`. */
export const E164 = matching(16, /^\+[1-9]\d{6,14}$/, 'E.164, e.g. +919876543210');

// ---------------------------------------------------------------------------------------------
// Responses.

/** Every error the API answers with: a stable code, a message, the field issues of a 400, and any details. */
export const ErrorBody = z
  .object({
    error: z.looseObject({
      code: z.string(),
      message: z.string(),
      issues: z
        .array(z.object({ location: z.enum(['body', 'query', 'params']), path: z.string(), message: z.string() }))
        .optional(),
    }),
  })
  .meta({ id: 'Error' });

/** A timestamp as the API writes it (Date.prototype.toISOString). */
export const Timestamp = z.iso.datetime().meta({ id: 'Timestamp', description: 'An ISO 8601 time in UTC' });

/**
 * The JSON a table row becomes in a response: its columns as drizzle describes them, timestamps
 * as ISO strings, nothing else (a field added to a response must be added to its schema).
 * `overrides` replaces columns the API shapes (JSON text parsed into objects, derived fields).
 */
export function rowJson<T extends SQLiteTable, O extends z.ZodRawShape = Record<never, never>>(
  table: T,
  overrides?: O,
) {
  const select = createSelectSchema(table) as unknown as z.ZodObject;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, column] of Object.entries(select.shape)) shape[key] = timestampsAsText(column as z.ZodType);
  return z.strictObject({ ...shape, ...overrides });
}

function timestampsAsText(schema: z.ZodType): z.ZodType {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType };
  if (def.type === 'date') return Timestamp;
  if (def.type === 'nullable' && def.innerType) return timestampsAsText(def.innerType).nullable();
  return schema;
}

/** One page of a list: `items`, the `total` that match, and the page asked for. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), total: z.number().int(), page: z.number().int(), pageSize: z.number().int() });
