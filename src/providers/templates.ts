/**
 * Templates as a provider lists them, whatever the provider: the shape a sync stores in Message
 * Master, the `TemplateSource` every provider's template list is read through, and the defensive
 * helpers their row parsers share. A parser never throws: a row it cannot use comes back as
 * `{ ok: false, reason }` and the sync counts it.
 */
import type { ProviderName } from '../shared';

export type SyncedHeaderType = 'none' | 'text' | 'document' | 'image' | 'video';

/**
 * A button as Message Master stores it (JSON in `Buttons`, the shape of `TemplateButton` in
 * db/queries/templates.ts). `type` keeps Meta's names; one Message Master does not know (FLOW,
 * OTP, CATALOG…) is kept verbatim, because Interakt numbers button values by position among all
 * of a template's buttons.
 */
export interface SyncedTemplateButton {
  /** `QUICK_REPLY`, `URL`, `PHONE_NUMBER`, `COPY_CODE`, or whatever else Interakt sends. */
  type: string;
  text: string;
  /** For URL buttons; `{{1}}` at the end marks a dynamic suffix. */
  url?: string;
  /** For PHONE_NUMBER buttons. */
  phoneNumber?: string;
  /** Example value of a dynamic URL suffix or a copy code. */
  example?: string;
}

export interface SyncedTemplate {
  name: string;
  language: string;
  category: string | null;
  /** Normalised by templates/approval-status.ts (`APPROVED` → `Approved`); unknown values verbatim. */
  approvalStatus: string;
  rejectionReason: string | null;
  headerType: SyncedHeaderType;
  headerText: string | null;
  headerMediaUrl: string | null;
  body: string;
  footer: string | null;
  buttons: SyncedTemplateButton[];
  providerTemplateId: string | null;
  /** The provider's quality rating (`GREEN`, `YELLOW`, `RED`, `UNKNOWN`), when it lists one. */
  qualityScore?: string | null;
}

export type ParsedTemplate =
  | { ok: true; template: SyncedTemplate }
  /** `key` is set when the row named its template: it exists upstream even if it is unusable. */
  | { ok: false; reason: string; key?: { name: string; language: string } };

/** One page of a provider's template list, as a sync reads it. */
export interface TemplatePage {
  /** Raw rows, unparsed: a malformed row must not cost the rest of the page. */
  rows: unknown[];
  /** Where the page after this one starts (JSON, heartbeated); null after the last page. */
  next: unknown;
  /** Names row `index` of this page for a sync error, e.g. `APPROVED list, row 3`. */
  describeRow(index: number): string;
}

/**
 * A provider's template list: pages from a cursor (undefined: the first page), and a parser for
 * its rows. What a template sync reads, whatever the provider.
 */
export interface TemplateSource {
  readonly provider: ProviderName;
  pages(from?: unknown): AsyncGenerator<TemplatePage, void, undefined>;
  parse(raw: unknown): ParsedTemplate;
}

/** Column widths of MessageMaster on SQL Server: a longer value is refused here, not by the database. */
export const MAX_LENGTH = {
  name: 200,
  language: 20,
  category: 50,
  approvalStatus: 30,
  headerText: 1000,
  footer: 200,
  providerTemplateId: 200,
  headerMediaUrl: 2048,
  rejectionReason: 1000,
} as const;

export const MEDIA_HEADERS: Readonly<Record<string, SyncedHeaderType>> = {
  DOCUMENT: 'document',
  IMAGE: 'image',
  VIDEO: 'video',
};

/** Why a row cannot be used; caught by each parser and turned into `{ ok: false, reason }`. */
export class RowError extends Error {}

export type ParsedHeader = Pick<SyncedTemplate, 'headerType' | 'headerText' | 'headerMediaUrl'>;

const NO_HEADER: ParsedHeader = { headerType: 'none', headerText: null, headerMediaUrl: null };

/**
 * A template's header from what every provider keeps under its own names: the format (TEXT,
 * DOCUMENT, IMAGE, VIDEO; none or NONE for no header), the text of a TEXT header and the sample
 * media URL of a media header, the default media until a send gives one. `fields` names the
 * provider's fields in the reasons a row is refused.
 */
export function parseTemplateHeader(
  values: { format: string | null; text: string | null; mediaSample: unknown },
  fields: { format: string; text: string },
): ParsedHeader {
  const format = values.format?.toUpperCase() ?? null;
  if (format === null || format === 'NONE') return NO_HEADER;
  if (format === 'TEXT') {
    if (values.text === null) throw new RowError(`${fields.format} is TEXT but ${fields.text} has no text`);
    return { headerType: 'text', headerText: limit('headerText', values.text), headerMediaUrl: null };
  }
  const headerType = MEDIA_HEADERS[format];
  if (!headerType) throw new RowError(`${fields.format} ${format} is not supported (TEXT, DOCUMENT, IMAGE, VIDEO)`);
  const url =
    typeof values.mediaSample === 'string' && /^https?:\/\//i.test(values.mediaSample) ? values.mediaSample : null;
  return { headerType, headerText: null, headerMediaUrl: limit('headerMediaUrl', url) };
}

/** A parser's error as the reason a row is refused. */
export function rowFailure(error: unknown, key: { name: string; language: string } | undefined): ParsedTemplate {
  const reason =
    error instanceof RowError ? error.message : `unexpected ${error instanceof Error ? error.message : String(error)}`;
  return key ? { ok: false, reason, key } : { ok: false, reason };
}

/** Decoding stops after this many layers: one JSON string inside another is the worst seen. */
const MAX_BUTTON_DECODES = 3;

/** Buttons arrive as an array, a JSON string of one, or that string JSON-encoded again. */
export function parseButtons(value: unknown): SyncedTemplateButton[] {
  let decoded = value;
  for (let layer = 0; typeof decoded === 'string' && layer < MAX_BUTTON_DECODES; layer++) {
    const text = decoded.trim();
    if (text === '' || text === 'null') return [];
    try {
      decoded = JSON.parse(text);
    } catch {
      throw new RowError(`buttons is not valid JSON: ${text.slice(0, 80)}`);
    }
  }
  if (decoded === null || decoded === undefined) return [];
  // Some payloads wrap the list as {"buttons": [...]}.
  if (isRecord(decoded) && Array.isArray(decoded.buttons)) decoded = decoded.buttons;
  if (!Array.isArray(decoded)) throw new RowError(`buttons is ${describe(decoded)}, not a list`);
  return decoded.map((button, index) => parseButton(button, index));
}

export function parseButton(raw: unknown, index: number): SyncedTemplateButton {
  if (!isRecord(raw)) throw new RowError(`button ${index} is ${describe(raw)}, not an object`);
  const type = optionalText(raw, 'type')
    ?.toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (!type) throw new RowError(`button ${index} has no type`);
  const text = optionalText(raw, 'text');
  if (text === null) throw new RowError(`button ${index} (${type}) has no text`);
  const button: SyncedTemplateButton = { type, text };
  const url = optionalText(raw, 'url');
  if (url !== null) button.url = url;
  const phone = optionalText(raw, 'phone_number') ?? optionalText(raw, 'phoneNumber');
  if (phone !== null) button.phoneNumber = phone;
  const example = Array.isArray(raw.example) ? raw.example.find((value) => typeof value === 'string') : raw.example;
  if (typeof example === 'string' && example.trim() !== '') button.example = example.trim();
  if (type === 'URL' && button.url === undefined) throw new RowError(`button ${index} (URL) has no url`);
  if (type === 'PHONE_NUMBER' && button.phoneNumber === undefined)
    throw new RowError(`button ${index} (PHONE_NUMBER) has no phone number`);
  return button;
}

/** Meta writes `NONE` when nothing was rejected; a long reason is cut, not refused. */
export function parseRejectionReason(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const reason = value.trim();
  if (reason === '' || reason.toUpperCase() === 'NONE' || reason.toLowerCase() === 'null') return null;
  return reason.length > MAX_LENGTH.rejectionReason ? `${reason.slice(0, MAX_LENGTH.rejectionReason - 1)}…` : reason;
}

export function requiredText(raw: Record<string, unknown>, field: string): string {
  const value = optionalText(raw, field);
  if (value === null) throw new RowError(`${field} is missing`);
  return value;
}

/** A non-empty trimmed string, or null for missing / null / blank; numbers and booleans are refused. */
export function optionalText(raw: Record<string, unknown>, field: string): string | null {
  const value = raw[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new RowError(`${field} is ${describe(value)}, not text`);
  const text = value.trim();
  return text === '' ? null : text;
}

export function optionalId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return null;
}

export function limit<T extends string | null>(field: keyof typeof MAX_LENGTH, value: T): T {
  if (value !== null && value.length > MAX_LENGTH[field]) {
    throw new RowError(`${field} is ${value.length} characters; at most ${MAX_LENGTH[field]} fit`);
  }
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
