/**
 * Bulk lead import from CSV, streamed through csv-parse. The whole file is read and checked before
 * anything is written: a row that breaks a rule is reported with its line and reason and left out;
 * a file that is not CSV (an unclosed quote, an unknown column, too many rows) is refused whole.
 * Phones are normalised to E.164 like every lead's; rows with the same phone merge (later cells
 * win), and a phone that is already a lead updates it. The writes are one transaction, so a
 * failure leaves nothing half-imported.
 */
import type { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import type { Db } from '../db/client';
import { upsertLeadsByPhone, type LeadUpsert } from '../db/queries';
import { CodedError } from '../errors';
import { normalizePhone } from '../providers/phone';
import { CUSTOM_FIELD_KEY } from '../shared';
import { singleLine } from '../api/schemas';
import { customFieldFromText, loadCustomFieldRules, type CustomFieldValue } from '../segments/custom-fields';
import { LeadStatus, TimeZone } from './schemas';

export const MAX_IMPORT_ROWS = 100_000;
/** 100,000 rows of a few hundred bytes each, with room to spare. */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
/** Rejected rows listed in the answer; all are counted. */
export const MAX_LISTED_REJECTIONS = 1_000;
const MAX_FIELD_CHARS = 2_000;

export type ImportErrorCode = 'malformed_csv' | 'unknown_column' | 'missing_column' | 'too_many_rows' | 'too_large';

export class CsvImportError extends CodedError<ImportErrorCode> {
  constructor(
    code: ImportErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(code, message);
  }
}

export interface ImportReport {
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  /** Rows merged into an earlier row of the file with the same phone. */
  mergedDuplicates: number;
  rejected: number;
  rejections: { line: number; reason: string }[];
}

const LEAD_COLUMNS = [
  'name',
  'phone',
  'firstName',
  'lastName',
  'email',
  'status',
  'stage',
  'source',
  'timeZone',
  'optedOut',
] as const;
type LeadColumn = (typeof LEAD_COLUMNS)[number];

const CELL_RULES: Record<Exclude<LeadColumn, 'phone' | 'optedOut'>, z.ZodType<string>> = {
  name: singleLine(200),
  firstName: singleLine(100),
  lastName: singleLine(100),
  email: z.email().max(254),
  status: LeadStatus,
  stage: LeadStatus,
  source: singleLine(50),
  timeZone: TimeZone,
};

type ImportedLead = LeadUpsert & { line: number; customFields: Record<string, CustomFieldValue> };

/** Reads, checks and (unless `dryRun`) writes the CSV in `input`. */
export async function importLeadsCsv(
  db: Db,
  input: Readable,
  options: { defaultCountry: CountryCode; dryRun?: boolean },
): Promise<ImportReport> {
  const rules = await loadCustomFieldRules(db);
  const byPhone = new Map<string, ImportedLead>();
  const rejections: { line: number; reason: string }[] = [];
  let rejected = 0;
  let rows = 0;
  let mergedDuplicates = 0;
  let bytes = 0;
  let header: string[] | undefined;

  const reject = (line: number, reason: string) => {
    rejected += 1;
    if (rejections.length < MAX_LISTED_REJECTIONS) rejections.push({ line, reason });
  };

  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    max_record_size: 64 * 1024,
    info: true,
  });
  input.on('data', (data: Buffer) => {
    bytes += data.length;
    if (bytes > MAX_IMPORT_BYTES) {
      input.unpipe(parser);
      parser.destroy(new CsvImportError('too_large', `the file is larger than ${MAX_IMPORT_BYTES} bytes`));
    }
  });
  input.pipe(parser);

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!header) {
        header = readHeader(record, line);
        continue;
      }
      rows += 1;
      if (rows > MAX_IMPORT_ROWS) throw new CsvImportError('too_many_rows', `more than ${MAX_IMPORT_ROWS} rows`, line);
      if (record.length !== header.length) {
        reject(line, `expected ${header.length} fields, found ${record.length}`);
        continue;
      }
      const parsed = readRow(header, record, line, rules, options.defaultCountry);
      if ('reason' in parsed) {
        reject(line, parsed.reason);
        continue;
      }
      const earlier = byPhone.get(parsed.phone);
      if (earlier) {
        mergedDuplicates += 1;
        byPhone.set(parsed.phone, {
          line: earlier.line,
          phone: parsed.phone,
          fields: { ...earlier.fields, ...parsed.fields },
          optedOut: parsed.optedOut ?? earlier.optedOut,
          customFields: { ...earlier.customFields, ...parsed.customFields },
        } as ImportedLead);
      } else {
        byPhone.set(parsed.phone, parsed);
      }
    }
  } catch (error) {
    if (error instanceof CsvImportError) throw error;
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new CsvImportError(
        'malformed_csv',
        `not valid CSV${line ? ` at line ${line}` : ''}: ${error.message}`,
        line,
      );
    }
    throw error;
  }
  if (!header)
    throw new CsvImportError('missing_column', 'the file is empty: a header row with at least phone is needed');

  const leads = [...byPhone.values()];
  const { created, updated, missingName } = await upsertLeadsByPhone(db, leads, { dryRun: options.dryRun ?? false });
  for (const lead of missingName) reject(lead.line, 'name is required for a new lead');
  return {
    dryRun: options.dryRun ?? false,
    rows,
    created,
    updated,
    mergedDuplicates,
    rejected,
    rejections: rejections.sort((a, b) => a.line - b.line),
  };
}

function readHeader(record: string[], line: number): string[] {
  const header = record.map((cell) => cell.trim());
  const seen = new Set<string>();
  for (const column of header) {
    const known = (LEAD_COLUMNS as readonly string[]).includes(column);
    const custom = column.startsWith('custom.') && CUSTOM_FIELD_KEY.test(column.slice('custom.'.length));
    if (!known && !custom) {
      throw new CsvImportError(
        'unknown_column',
        `unknown column ${JSON.stringify(column.slice(0, 80))}: columns are ${LEAD_COLUMNS.join(', ')} and custom.<key>`,
        line,
      );
    }
    if (seen.has(column)) throw new CsvImportError('malformed_csv', `column ${column} appears twice`, line);
    seen.add(column);
  }
  if (!seen.has('phone')) throw new CsvImportError('missing_column', 'the header has no phone column', line);
  return header;
}

function readRow(
  header: string[],
  record: string[],
  line: number,
  rules: Awaited<ReturnType<typeof loadCustomFieldRules>>,
  defaultCountry: CountryCode,
): ImportedLead | { reason: string } {
  const lead: ImportedLead = { line, phone: '', fields: {}, customFields: {} };
  for (const [index, column] of header.entries()) {
    const cell = record[index] ?? '';
    if (cell.length > MAX_FIELD_CHARS) return { reason: `${column} is longer than ${MAX_FIELD_CHARS} characters` };
    if (column === 'phone') {
      const phone = normalizePhone(cell, defaultCountry);
      if (!phone.ok) return { reason: `phone: ${phone.reason.replace(/"[^"]*"/, '(value withheld)')}` };
      lead.phone = phone.e164;
    } else if (column === 'optedOut') {
      const lower = cell.trim().toLowerCase();
      if (lower === '') continue;
      if (!['true', 'false', 'yes', 'no', '1', '0'].includes(lower))
        return { reason: 'optedOut: expected true or false' };
      lead.optedOut = ['true', 'yes', '1'].includes(lower);
    } else if (column.startsWith('custom.')) {
      if (cell === '') continue;
      const key = column.slice('custom.'.length);
      const value = customFieldFromText(rules, key, cell);
      if (!value.ok) return { reason: `custom.${value.reason}` };
      lead.customFields[key] = value.value;
    } else {
      if (cell.trim() === '') continue;
      const parsed = CELL_RULES[column as keyof typeof CELL_RULES].safeParse(cell);
      if (!parsed.success) return { reason: `${column}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
      lead.fields[column as keyof typeof CELL_RULES] = parsed.data;
    }
  }
  return lead;
}
