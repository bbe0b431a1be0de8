/**
 * Infobip's WhatsApp templates (providers.md §2.4): each registered sender's list,
 * `GET /whatsapp/2/senders/{sender}/templates`, which has no paging. A sync reads one sender after
 * another; the cursor is the index of the next sender.
 */
import { infobipGet, type InfobipClientOptions } from './infobip';
import { normaliseApprovalStatus } from './approval-status';
import { e164Digits } from './phone';
import {
  describe,
  isRecord,
  limit,
  optionalId,
  optionalText,
  parseButtons,
  requiredText,
  RowError,
  rowFailure,
  type ParsedTemplate,
  type SyncedTemplate,
  type TemplateSource,
  parseTemplateHeader,
  type ParsedHeader,
} from './templates';

export interface InfobipTemplateSourceOptions extends Pick<
  InfobipClientOptions,
  'baseUrl' | 'getApiKey' | 'timeoutMs' | 'fetch'
> {
  /** The account's WhatsApp senders, international format; their templates are listed in this order. */
  senders: string[];
}

/** Every sender's templates as a sync reads them: one page per sender. */
export function createInfobipTemplateSource(options: InfobipTemplateSourceOptions): TemplateSource {
  const senders = options.senders.map((sender) => e164Digits(sender.trim()));
  return {
    provider: 'infobip',
    async *pages(from?: unknown) {
      const start = isRecord(from) && Number.isInteger(from.sender) ? Number(from.sender) : 0;
      for (let index = start; index < senders.length; index++) {
        const sender = senders[index]!;
        const body = await infobipGet(options, `/whatsapp/2/senders/${encodeURIComponent(sender)}/templates`);
        const rows = isRecord(body) && Array.isArray(body.templates) ? body.templates : [];
        yield {
          rows,
          next: index + 1 < senders.length ? { sender: index + 1 } : null,
          describeRow: (row) => `sender ${sender}, row ${row}`,
        };
      }
    },
    parse: parseInfobipTemplate,
  };
}

/**
 * One template of a sender's list (§2.4): `name`, `language`, `status` (Infobip's enum, with Meta's
 * two pause stages apart), `category`, `structure` with `header` (`format`, `text` or an example
 * URL), `body.text`, `footer.text`, `buttons`, and `quality`. The same template under several
 * senders (of one WhatsApp Business Account) is one Message Master row.
 */
export function parseInfobipTemplate(raw: unknown): ParsedTemplate {
  let key: { name: string; language: string } | undefined;
  try {
    if (!isRecord(raw)) throw new RowError(`template is ${describe(raw)}, not an object`);
    const name = requiredText(raw, 'name');
    const language = requiredText(raw, 'language');
    key = { name, language };
    limit('name', name);
    limit('language', language);
    const approvalStatus = limit('approvalStatus', normaliseApprovalStatus(requiredText(raw, 'status')));
    const structure = isRecord(raw.structure) ? raw.structure : {};
    const body = isRecord(structure.body) ? optionalText(structure.body, 'text') : null;
    if (body === null) throw new RowError('structure.body has no text');
    const footer = isRecord(structure.footer) ? optionalText(structure.footer, 'text') : null;
    const template: SyncedTemplate = {
      name,
      language,
      category: limit('category', optionalText(raw, 'category')),
      approvalStatus,
      rejectionReason: null,
      ...parseHeader(isRecord(structure.header) ? structure.header : undefined),
      body,
      footer: limit('footer', footer),
      buttons: parseButtons(structure.buttons ?? []),
      providerTemplateId: limit('providerTemplateId', optionalId(raw.id)),
      qualityScore: optionalText(raw, 'quality'),
    };
    return { ok: true, template };
  } catch (error) {
    return rowFailure(error, key);
  }
}

function parseHeader(header: Record<string, unknown> | undefined): ParsedHeader {
  return parseTemplateHeader(
    {
      format: header ? optionalText(header, 'format') : null,
      text: header ? optionalText(header, 'text') : null,
      mediaSample: header ? optionalText(header, 'example') : null,
    },
    { format: 'structure.header.format', text: 'structure.header.text' },
  );
}
