/**
 * Interakt's template list (providers.md §1.5): a paged HTTP client and a defensive parser for its
 * rows. Interakt's rows are loosely encoded (buttons as a JSON string, sometimes encoded twice;
 * header fields that depend on `header_format`; categories from older API versions), so the parser
 * never throws: a row it cannot use comes back as `{ ok: false, reason }` and the sync counts it.
 */
import { callProvider } from './transport';
import {
  describe,
  isRecord,
  limit,
  optionalId,
  optionalText,
  parseButtons,
  parseJsonObject,
  parseRejectionReason,
  requiredText,
  RowError,
  rowFailure,
  type ParsedTemplate,
  type SyncedTemplate,
  type TemplateSource,
  parseTemplateHeader,
  type ParsedHeader,
} from './templates';
import { normaliseApprovalStatus } from './approval-status';
import { ProviderError } from './errors';
import {
  classifyInteraktResponse,
  readInteraktApiKey,
  type InteraktApiResponse,
  type InteraktProviderOptions,
} from './interakt';

export type InteraktTemplateClientOptions = InteraktProviderOptions;

/**
 * The approval statuses the sync asks for, one list each. Interakt's template list always takes
 * an `approval_status` (without one it lists approved templates only, and a literal `all` is
 * refused), so a sync that is to see pending, rejected and paused templates asks for each. Meta's
 * statuses (§3.2); which of them Interakt passes through is UNCONFIRMED. A template in a status not
 * listed here is not seen, and a completed sync marks it removed: it could not be sent anyway.
 */
export const INTERAKT_TEMPLATE_STATUSES = [
  'APPROVED',
  'PENDING',
  'REJECTED',
  'PAUSED',
  'DISABLED',
  'IN_APPEAL',
  'FLAGGED',
  'PENDING_DELETION',
  'LIMIT_EXCEEDED',
] as const;
export type InteraktTemplateStatus = (typeof INTERAKT_TEMPLATE_STATUSES)[number];

/** Where a pass over the template lists is: which status's list, and the offset in it. */
export interface InteraktTemplateCursor {
  /** Index into INTERAKT_TEMPLATE_STATUSES. */
  status: number;
  offset: number;
}

export interface InteraktTemplatePage {
  /** The status list this page is from. */
  approvalStatus: InteraktTemplateStatus;
  /** The offset this page was requested with. */
  offset: number;
  /** Where the page after this one starts; null after the last page of the last status. */
  next: InteraktTemplateCursor | null;
  /** Raw rows, unparsed: a malformed row must not cost the rest of the page. */
  rows: unknown[];
  hasNext: boolean;
  /** Interakt's `count` (total matching rows), when it sent a number. */
  count: number | null;
}

export interface InteraktTemplateClient {
  listTemplatesPage(approvalStatus: InteraktTemplateStatus, offset: number): Promise<InteraktTemplatePage>;
  /**
   * Every page of every status's list from `from` (default: the first status, offset 0): each list
   * advancing by the rows each page returned until `has_next` is false or a page is empty. Throws a
   * permanent `ProviderError` if Interakt serves a page made only of rows already seen (it ignored
   * the offset), rather than looping forever.
   */
  pages(from?: InteraktTemplateCursor): AsyncGenerator<InteraktTemplatePage, void, undefined>;
}

/** 100 rows a page would be 100,000 templates: far beyond any WhatsApp account's limit. */
const MAX_PAGES = 1_000;

export function createInteraktTemplateClient(options: InteraktTemplateClientOptions): InteraktTemplateClient {
  const listUrl = `${options.baseUrl.replace(/\/+$/, '')}/track/organization/templates`;

  async function listTemplatesPage(
    approvalStatus: InteraktTemplateStatus,
    offset: number,
  ): Promise<InteraktTemplatePage> {
    if (!Number.isInteger(offset) || offset < 0)
      throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    const apiKey = await readInteraktApiKey(options.getApiKey);
    const redact = (text: string): string => text.split(apiKey).join('[redacted]');
    const query = new URLSearchParams({ offset: String(offset), approval_status: approvalStatus, language: 'all' });
    const url = `${listUrl}?${query.toString()}`;

    const { response, text } = await callProvider({
      provider: 'Interakt',
      method: 'GET',
      url,
      authorization: `Basic ${apiKey}`,
      timeoutMs: options.timeoutMs,
      redact,
      fetch: options.fetch,
    });

    const parsed = parseJsonObject(text);
    if (!response.ok || parsed?.result === false) {
      throw classifyInteraktResponse(response, parsed as InteraktApiResponse | undefined, text, redact);
    }
    const results = parsed?.results;
    const rows = isRecord(results) ? results.templates : undefined;
    if (!Array.isArray(rows)) {
      // A 2xx without the list is a proxy or an API change; a later attempt may get the real answer.
      throw new ProviderError(
        'retryable',
        'unexpected_response',
        `Interakt's template list (HTTP ${response.status}) has no results.templates array: ${redact(text.replace(/\s+/g, ' ').slice(0, 200))}`,
        { httpStatus: response.status },
      );
    }
    const hasNext = parsed?.has_next === true || parsed?.has_next === 'true';
    return {
      approvalStatus,
      offset,
      next: null,
      rows,
      hasNext,
      count: typeof parsed?.count === 'number' ? parsed.count : null,
    };
  }

  async function* pages(
    from: InteraktTemplateCursor = { status: 0, offset: 0 },
  ): AsyncGenerator<InteraktTemplatePage, void, undefined> {
    let pageNumber = 0;
    for (let status = from.status; status < INTERAKT_TEMPLATE_STATUSES.length; status++) {
      const approvalStatus = INTERAKT_TEMPLATE_STATUSES[status]!;
      const nextStatus = status + 1 < INTERAKT_TEMPLATE_STATUSES.length ? { status: status + 1, offset: 0 } : null;
      let offset = status === from.status ? from.offset : 0;
      const seenRows = new Set<string>();
      for (let pageInList = 0; ; pageInList++) {
        if (++pageNumber > MAX_PAGES) {
          throw new ProviderError(
            'permanent',
            'too_many_pages',
            `Interakt's template lists did not end within ${MAX_PAGES} pages`,
          );
        }
        const page = await listTemplatesPage(approvalStatus, offset);
        const fingerprints = page.rows.map(rowFingerprint);
        if (pageInList > 0 && page.rows.length > 0 && fingerprints.every((fingerprint) => seenRows.has(fingerprint))) {
          throw new ProviderError(
            'permanent',
            'repeated_page',
            `Interakt returned the same ${approvalStatus} templates again at offset ${offset}; it seems to ignore the offset parameter`,
          );
        }
        for (const fingerprint of fingerprints) seenRows.add(fingerprint);
        const last = page.rows.length === 0 || !page.hasNext;
        offset += page.rows.length;
        // An empty page still says where the pass goes on, so a checkpoint can move past its list.
        yield { ...page, next: last ? nextStatus : { status, offset } };
        if (last) break;
      }
    }
  }

  return { listTemplatesPage, pages };
}

/** Interakt's template lists as a sync reads them: one list per approval status, paged by offset. */
export function createInteraktTemplateSource(options: InteraktTemplateClientOptions): TemplateSource {
  const client = createInteraktTemplateClient(options);
  return {
    provider: 'interakt',
    async *pages(from?: unknown) {
      for await (const page of client.pages(isCursor(from) ? from : undefined)) {
        yield {
          rows: page.rows,
          next: page.next,
          describeRow: (index) => `${page.approvalStatus} list, row ${page.offset + index}`,
        };
      }
    },
    parse: parseInteraktTemplate,
  };
}

const isCursor = (value: unknown): value is InteraktTemplateCursor =>
  isRecord(value) && Number.isInteger(value.status) && Number.isInteger(value.offset);

/** What identifies a row across pages: Interakt's id, else name + language, else the row itself. */
function rowFingerprint(row: unknown): string {
  if (!isRecord(row)) return `raw:${JSON.stringify(row)}`;
  if (typeof row.id === 'string' || typeof row.id === 'number') return `id:${row.id}`;
  return `key:${JSON.stringify([row.name, row.language, row.wa_template_id])}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing one row

export type { SyncedHeaderType, SyncedTemplate, SyncedTemplateButton } from './templates';
export type ParsedInteraktTemplate = ParsedTemplate;
export { parseButtons } from './templates';

export function parseInteraktTemplate(raw: unknown): ParsedTemplate {
  let key: { name: string; language: string } | undefined;
  try {
    if (!isRecord(raw)) throw new RowError(`template row is ${describe(raw)}, not an object`);
    const name = requiredText(raw, 'name');
    const language = requiredText(raw, 'language');
    key = { name, language };
    limit('name', name);
    limit('language', language);

    // A row without a status is refused rather than guessed: guessing "Approved" would let it send.
    const approvalStatus = limit('approvalStatus', normaliseApprovalStatus(requiredText(raw, 'approval_status')));

    const body = optionalText(raw, 'body');
    if (body === null) throw new RowError('body is missing');

    const template: SyncedTemplate = {
      name,
      language,
      category: limit('category', optionalText(raw, 'category')),
      approvalStatus,
      rejectionReason: parseRejectionReason(raw.rejection_reason),
      ...parseHeader(raw),
      body,
      footer: limit('footer', optionalText(raw, 'footer')),
      buttons: parseButtons(raw.buttons),
      providerTemplateId: limit('providerTemplateId', optionalId(raw.wa_template_id) ?? optionalId(raw.id)),
    };
    return { ok: true, template };
  } catch (error) {
    return rowFailure(error, key);
  }
}

function parseHeader(raw: Record<string, unknown>): ParsedHeader {
  return parseTemplateHeader(
    {
      format: optionalText(raw, 'header_format'),
      text: optionalText(raw, 'header'),
      mediaSample: optionalText(raw, 'header_handle_file_url'),
    },
    { format: 'header_format', text: 'header' },
  );
}
