/**
 * Meta's WhatsApp Business Account templates (providers.md §3.2): the `message_templates` edge,
 * listed a page at a time by cursor, a template created for review, and one template read back by
 * id while its review is tracked. Errors are classified as for sends (meta.ts).
 */
import { ProviderError } from './errors';
import { META_GRAPH_BASE_URL, classifyMetaResponse, parseMetaJson, type MetaGraphError } from './meta';
import { normaliseApprovalStatus } from './approval-status';
import {
  describe,
  isRecord,
  limit,
  optionalId,
  optionalText,
  parseButtons,
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
import { callProvider, readCredential } from './transport';

export interface MetaTemplateClientOptions {
  graphBaseUrl?: string;
  apiVersion: string;
  /** The WhatsApp Business Account whose templates these are. */
  wabaId: string;
  getAccessToken: () => Promise<string> | string;
  timeoutMs: number;
  /** Rows a page (Graph's `limit`); default 100. */
  pageSize?: number;
  fetch?: typeof fetch;
}

/** The fields a sync reads of each template. */
export const META_TEMPLATE_FIELDS = 'id,name,language,status,category,components,rejected_reason,quality_score';

export interface MetaTemplatePage {
  rows: unknown[];
  /** `paging.cursors.after` when Graph says there is a next page (`paging.next`), else null. */
  after: string | null;
}

/** A template as `POST /<WABA_ID>/message_templates` takes it (the template JSON builder's output). */
export interface MetaTemplateDefinition {
  name: string;
  language: string;
  category: string;
  components: unknown[];
  parameter_format?: string;
}

export interface MetaTemplateStatus {
  id: string;
  name: string | null;
  language: string | null;
  status: string;
  rejectedReason: string | null;
}

export interface MetaTemplateClient {
  listTemplatesPage(after: string | null): Promise<MetaTemplatePage>;
  /** Submits a template for review: Meta answers with its id and status (usually PENDING). */
  createTemplate(definition: MetaTemplateDefinition): Promise<MetaTemplateStatus>;
  /** One template's review status, by id (`GET /<template-id>`). */
  getTemplate(id: string): Promise<MetaTemplateStatus>;
  /** The templates of one name (every language), to find a submission whose answer was lost. */
  findTemplatesByName(name: string): Promise<MetaTemplateStatus[]>;
}

/** A WABA holds at most a few thousand templates (its limit is 6,000 on the largest tier). */
const MAX_PAGES = 1_000;

export function createMetaTemplateClient(options: MetaTemplateClientOptions): MetaTemplateClient {
  const base = `${(options.graphBaseUrl ?? META_GRAPH_BASE_URL).replace(/\/+$/, '')}/${options.apiVersion.replace(/^\/+|\/+$/g, '')}`;
  const edge = `${base}/${encodeURIComponent(options.wabaId)}/message_templates`;

  async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<Record<string, unknown>> {
    const token = await readCredential(options.getAccessToken, 'Meta access token', 'access_token');
    const redact = (text: string): string => text.split(token).join('[redacted]');
    let answer: { response: Response; text: string };
    try {
      answer = await callProvider({
        provider: 'Meta',
        method,
        url,
        authorization: `Bearer ${token}`,
        body,
        timeoutMs: options.timeoutMs,
        redact,
        fetch: options.fetch,
      });
    } catch (error) {
      // A read changes nothing: a lost answer is simply asked again.
      if (method === 'GET' && error instanceof ProviderError && error.kind === 'ambiguous')
        throw new ProviderError('retryable', error.code, error.message, error.details);
      throw error;
    }
    const parsed = parseMetaJson(answer.text) as (Record<string, unknown> & { error?: MetaGraphError }) | undefined;
    if (answer.response.ok && parsed && !parsed.error) return parsed;
    const error = classifyMetaResponse(answer.response, parsed, answer.text, redact);
    // classifyMetaResponse speaks of sends; a read that got an unreadable 2xx may simply be asked again.
    if (method === 'GET' && error.kind === 'ambiguous')
      throw new ProviderError('retryable', error.code, error.message, error.details);
    throw error;
  }

  const statusOf = (raw: Record<string, unknown>, fallbackId?: string): MetaTemplateStatus => {
    const id = optionalId(raw.id) ?? fallbackId;
    const status = typeof raw.status === 'string' ? raw.status : null;
    if (!id || !status) {
      throw new ProviderError(
        'retryable',
        'unexpected_response',
        `Meta answered without a template id or status: ${JSON.stringify(raw).slice(0, 200)}`,
      );
    }
    return {
      id,
      name: typeof raw.name === 'string' ? raw.name : null,
      language: typeof raw.language === 'string' ? raw.language : null,
      status,
      rejectedReason: parseRejectionReason(raw.rejected_reason),
    };
  };

  return {
    async listTemplatesPage(after) {
      const query = new URLSearchParams({ fields: META_TEMPLATE_FIELDS, limit: String(options.pageSize ?? 100) });
      if (after) query.set('after', after);
      const body = await call('GET', `${edge}?${query.toString()}`);
      if (!Array.isArray(body.data)) {
        throw new ProviderError('retryable', 'unexpected_response', 'Meta template list has no data array');
      }
      const paging = isRecord(body.paging) ? body.paging : {};
      const cursors = isRecord(paging.cursors) ? paging.cursors : {};
      const next = typeof paging.next === 'string' && typeof cursors.after === 'string' ? cursors.after : null;
      return { rows: body.data, after: next };
    },

    async createTemplate(definition) {
      const body = await call('POST', edge, definition);
      return statusOf({ ...body, name: definition.name, language: definition.language });
    },

    async getTemplate(id) {
      const body = await call(
        'GET',
        `${base}/${encodeURIComponent(id)}?fields=id,name,language,status,rejected_reason`,
      );
      return statusOf(body, id);
    },

    async findTemplatesByName(name) {
      const query = new URLSearchParams({ fields: 'id,name,language,status,rejected_reason', name });
      const body = await call('GET', `${edge}?${query.toString()}`);
      const rows = Array.isArray(body.data) ? body.data.filter(isRecord) : [];
      return rows.filter((row) => row.name === name).map((row) => statusOf(row));
    },
  };
}

/** The WABA's template list as a sync reads it: pages by Graph cursor. */
export function createMetaTemplateSource(options: MetaTemplateClientOptions): TemplateSource {
  const client = createMetaTemplateClient(options);
  return {
    provider: 'meta',
    async *pages(from?: unknown) {
      let after = isRecord(from) && typeof from.after === 'string' ? from.after : null;
      const seen = new Set<string>();
      for (let page = 0; page < MAX_PAGES; page++) {
        const { rows, after: next } = await client.listTemplatesPage(after);
        if (next !== null && seen.has(next))
          throw new ProviderError('permanent', 'repeated_page', 'Meta returned a template page cursor it gave before');
        if (next !== null) seen.add(next);
        const start = after;
        yield {
          rows,
          next: next === null ? null : { after: next },
          describeRow: (index) => `page after ${start ?? 'the start'}, row ${index}`,
        };
        if (next === null) return;
        after = next;
      }
      throw new ProviderError(
        'permanent',
        'too_many_pages',
        `Meta's template list did not end within ${MAX_PAGES} pages`,
      );
    },
    parse: parseMetaTemplate,
  };
}

/**
 * One `message_templates` row (§3.2): name, language and status required; components HEADER
 * (TEXT with its text, or media with an example handle), BODY, FOOTER and BUTTONS; the quality
 * rating's score when listed.
 */
export function parseMetaTemplate(raw: unknown): ParsedTemplate {
  let key: { name: string; language: string } | undefined;
  try {
    if (!isRecord(raw)) throw new RowError(`template row is ${describe(raw)}, not an object`);
    const name = requiredText(raw, 'name');
    const language = requiredText(raw, 'language');
    key = { name, language };
    limit('name', name);
    limit('language', language);
    const approvalStatus = limit('approvalStatus', normaliseApprovalStatus(requiredText(raw, 'status')));
    const components = Array.isArray(raw.components) ? raw.components.filter(isRecord) : [];
    const component = (type: string) =>
      components.find((candidate) => typeof candidate.type === 'string' && candidate.type.toUpperCase() === type);
    const body = component('BODY');
    const bodyText = body ? optionalText(body, 'text') : null;
    if (bodyText === null) throw new RowError('has no BODY component with text');
    const footer = component('FOOTER');
    const buttons = component('BUTTONS');
    const quality = isRecord(raw.quality_score) ? optionalText(raw.quality_score, 'score') : null;
    const template: SyncedTemplate = {
      name,
      language,
      category: limit('category', optionalText(raw, 'category')),
      approvalStatus,
      rejectionReason: parseRejectionReason(raw.rejected_reason),
      ...parseHeader(component('HEADER')),
      body: bodyText,
      footer: limit('footer', footer ? optionalText(footer, 'text') : null),
      buttons: parseButtons(buttons?.buttons ?? []),
      providerTemplateId: limit('providerTemplateId', optionalId(raw.id)),
      qualityScore: quality,
    };
    return { ok: true, template };
  } catch (error) {
    return rowFailure(error, key);
  }
}

function parseHeader(header: Record<string, unknown> | undefined): ParsedHeader {
  // Meta's header component has no format when it is text; its media sample is a handle URL.
  const handles = header && isRecord(header.example) ? header.example.header_handle : undefined;
  return parseTemplateHeader(
    {
      format: header ? (optionalText(header, 'format') ?? 'TEXT') : null,
      text: header ? optionalText(header, 'text') : null,
      mediaSample: Array.isArray(handles) ? handles.find((value) => typeof value === 'string') : undefined,
    },
    { format: 'the HEADER component', text: 'its text' },
  );
}
