import { api, must, type Schemas } from '../api';
import { action, badge, empty, field, fmtTime, h, input, onSubmit, replace, section, select, table } from '../dom';
import { href, type Page } from '../router';
import { pager } from './audit';
import { assignmentActions } from './drips';

type Message = Schemas['Message'];

export const leadsPage: Page = {
  path: '/leads',
  title: 'Leads',
  async render(context) {
    const { main, query } = context;
    const page = Math.max(1, Number(query.get('page')) || 1);
    const customFilters = [...query.entries()].filter(([key]) => key.startsWith('field.'));
    const search = input('search', { type: 'search', value: query.get('search') ?? '' });
    const status = input('status', { value: query.get('status') ?? '', placeholder: 'e.g. Interested' });
    const custom = input('custom', {
      value: customFilters.map(([k, v]) => `${k.slice(6)}=${v}`).join(', '),
      placeholder: 'city=Pune, budget=1cr',
    });
    const filters = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter leads' },
      field('Search name, phone or e-mail', search),
      field('Status', status),
      field('Custom fields', custom),
      h('button', { type: 'submit' }, 'Search'),
    );
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      const values: Record<string, string | undefined> = {
        search: search.value,
        status: status.value,
        page: undefined,
      };
      for (const [key] of customFilters) values[key] = undefined;
      for (const pair of custom.value.split(',')) {
        const [key, ...rest] = pair.split('=');
        if (key?.trim() && rest.length) values[`field.${key.trim()}`] = rest.join('=').trim();
      }
      context.setQuery(values);
    });
    const list = h('div');
    main.append(
      h('h1', {}, 'Leads'),
      filters,
      importForm(() => void loadList()),
      list,
    );
    const loadList = () =>
      section(list, async () => {
        const queryParams: Record<string, string | number> = { page, pageSize: 50 };
        if (query.get('search')) queryParams.search = query.get('search')!;
        if (query.get('status')) queryParams.status = query.get('status')!;
        for (const [key, value] of customFilters) queryParams[key] = value;
        const leads = await must(api.GET('/leads', { params: { query: queryParams as { page: number } } }));
        if (leads.items.length === 0) return empty('No leads match.');
        return [
          table(
            ['Lead', 'Phone', 'Status', 'Stage', 'Last contact', 'Opted out'],
            leads.items.map((lead) => [
              h('a', { href: href(`/leads/${lead.id}`) }, lead.name),
              maskPhone(lead.phone),
              lead.status,
              lead.stage,
              fmtTime(lead.lastContactedAt),
              lead.optedOut ? badge('opted out', 'failed') : '',
            ]),
          ),
          pager(page, leads.total, 50, (p) => href('/leads', { ...Object.fromEntries(query), page: p })),
        ];
      });
    await loadList();
  },
};

/**
 * CSV import: the file is sent as it is (the API streams and checks it); the report counts what was
 * created, updated and merged, and lists each rejected row by its line with the reason.
 */
function importForm(onImported: () => void): HTMLElement {
  const file = input('file', { type: 'file', accept: '.csv,text/csv', required: true });
  const dryRun = input('dryRun', { type: 'checkbox' });
  const report = h('div', { role: 'status' });
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Import leads from CSV' },
    h('h2', {}, 'Import leads'),
    field(
      'CSV file',
      file,
      'A header row with phone and any of name, firstName, lastName, email, status, stage, source, timeZone, optedOut, custom.<key>.',
    ),
    field('Check only, write nothing', dryRun),
    h('button', { type: 'submit', class: 'primary' }, 'Import'),
    report,
  );
  onSubmit(form, async () => {
    replace(report);
    const chosen = file.files?.[0];
    if (!chosen) return;
    const result = await must(
      api.POST('/leads/import', {
        params: { query: { dryRun: dryRun.checked ? 'true' : 'false' } },
        body: (await chosen.text()) as never,
        bodySerializer: (body: string) => body,
        headers: { 'content-type': 'text/csv' },
      }),
    );
    replace(
      report,
      h(
        'p',
        {},
        `${result.dryRun ? 'Checked' : 'Imported'} ${result.rows} rows: ${result.created} created, ${result.updated} updated, ${result.mergedDuplicates} merged duplicates, ${result.rejected} rejected.`,
      ),
      result.rejections.length
        ? table(
            ['Line', 'Rejected because'],
            result.rejections.map((r) => [r.line, r.reason]),
            'Rejected rows',
          )
        : null,
    );
    if (!result.dryRun && result.created + result.updated > 0) onImported();
  });
  return form;
}

/** Lists show a phone's last four digits; the lead's own page shows it whole. */
const maskPhone = (phone: string) => `${phone.slice(0, 3)}••••${phone.slice(-4)}`;

const TICKS: Record<Message['status'], string> = {
  pending: '🕓',
  sending: '🕓',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓ read',
  failed: '⚠ failed',
};

function bubble(message: Message): HTMLElement {
  const content = message.messageContent as { text?: string; body?: string };
  return h(
    'li',
    { class: `msg msg-${message.direction}`, 'data-message-id': message.id, 'data-status': message.status },
    h(
      'div',
      { class: 'msg-text' },
      message.templateName ? `Template ${message.templateName}` : (content.text ?? content.body ?? '(message)'),
    ),
    h(
      'small',
      { class: 'msg-meta' },
      fmtTime(message.createdAt),
      ' ',
      message.direction === 'outgoing'
        ? h(
            'span',
            { class: `ticks ticks-${message.status}`, 'aria-label': `status ${message.status}` },
            TICKS[message.status],
          )
        : null,
    ),
    message.errorMessage ? h('small', { class: 'error' }, `${message.errorCode ?? ''} ${message.errorMessage}`) : null,
  );
}

export const leadPage: Page = {
  path: '/leads/:id',
  title: 'Lead',
  async render(context) {
    const id = Number(context.params.id);
    const head = h('div');
    const conversation = h('ol', { class: 'conversation', 'aria-label': 'Conversation' });
    const live = h('p', { class: 'muted', role: 'status' }, 'Connecting to the live log…');
    const drips = h('div');
    const runs = h('div');
    const timeline = h('div');
    context.main.append(
      head,
      h(
        'div',
        { class: 'split' },
        h('section', {}, h('h2', {}, 'Conversation'), live, conversation),
        h(
          'section',
          {},
          h('h2', {}, 'Drips'),
          drips,
          h('h2', {}, 'CTA runs'),
          runs,
          h('h2', {}, 'Notes and tasks'),
          timeline,
        ),
      ),
    );

    const drawHead = (): Promise<void> =>
      section(head, async () => {
        const lead = await must(api.GET('/leads/{id}', { params: { path: { id } } }));
        const toggle = action(
          lead.optedOut ? 'Opt back in' : 'Opt out',
          async () => {
            await must(api.PATCH('/leads/{id}', { params: { path: { id } }, body: { optedOut: !lead.optedOut } }));
            await drawHead();
          },
          { class: lead.optedOut ? '' : 'danger' },
        );
        return [
          h('h1', {}, lead.name, ' ', badge(lead.status), lead.optedOut ? badge('opted out', 'failed') : null),
          h(
            'p',
            {},
            `${lead.phone} · ${lead.email ?? 'no e-mail'} · stage ${lead.stage} · source ${lead.source} · last contact ${fmtTime(lead.lastContactedAt)}`,
          ),
          Object.keys(lead.customFields).length
            ? h(
                'dl',
                { class: 'custom' },
                Object.entries(lead.customFields).map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
              )
            : null,
          toggle,
        ];
      });
    void drawHead();

    // The conversation, then the live log (server-sent events) updating each message's ticks.
    const byId = new Map<number, HTMLElement>();
    const show = (message: Message) => {
      const next = bubble(message);
      const current = byId.get(message.id);
      if (current) current.replaceWith(next);
      else conversation.append(next);
      byId.set(message.id, next);
    };
    try {
      const history = await must(
        api.GET('/messages', { params: { query: { leadId: id, order: 'asc', pageSize: 200 } } }),
      );
      history.items.forEach(show);
    } catch (error) {
      conversation.append(h('li', { class: 'error' }, String(error)));
    }
    const stream = new EventSource(`/messages/stream?leadId=${id}`);
    stream.addEventListener('open', () => (live.textContent = 'Live: updates appear as they happen.'));
    stream.addEventListener('error', () => (live.textContent = 'Live log reconnecting…'));
    stream.addEventListener('message', (event) => show(JSON.parse((event as MessageEvent<string>).data) as Message));
    context.onLeave(() => stream.close());

    const drawSide = () => {
      void section(drips, async () => {
        const page = await must(api.GET('/assignments', { params: { query: { leadId: id, pageSize: 50 } } }));
        if (!page.items.length) return empty('No drips.');
        return table(
          ['Assignment', 'Sequence', 'Status', 'Next send', ''],
          page.items.map((a) => [
            h('a', { href: href(`/assignments/${a.id}`) }, `#${a.id}`),
            h('a', { href: href(`/drips/${a.sequenceId}`) }, `#${a.sequenceId}`),
            badge(a.status),
            fmtTime(a.nextSendAt),
            assignmentActions(a, drawSide),
          ]),
        );
      });
      void section(runs, async () => {
        const page = await must(api.GET('/cta/runs', { params: { query: { leadId: id, pageSize: 50 } } }));
        if (!page.items.length) return empty('No CTA runs.');
        return table(
          ['Run', 'Flow', 'Status', 'Decision', 'Decided'],
          page.items.map((r) => [
            `#${r.id}`,
            `#${r.flowId}`,
            badge(r.status),
            r.decision ? badge(r.decision) : '—',
            fmtTime(r.decidedAt),
          ]),
        );
      });
      void section(timeline, async () => {
        const t = await must(api.GET('/leads/{id}/timeline', { params: { path: { id } } }));
        if (!t.notes.length && !t.tasks.length) return empty('No notes or tasks.');
        return h(
          'ul',
          {},
          t.notes.map((n) => h('li', {}, `${fmtTime(n.createdAt)} — ${n.body}`)),
          t.tasks.map((k) => h('li', {}, `${fmtTime(k.dueAt)} — task: ${k.title} (${k.status})`)),
        );
      });
    };
    drawSide();
    const timer = setInterval(drawSide, 5000);
    context.onLeave(() => clearInterval(timer));
    void select;
    void replace;
  },
};
