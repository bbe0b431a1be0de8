import { api, must } from '../api';
import { badge, empty, field, fmtTime, h, input, section, select, table } from '../dom';
import { href, type Page } from '../router';
import { pager } from './audit';

const STATUSES: [string, string][] = [
  ['', 'Any status'],
  ...['pending', 'sending', 'sent', 'delivered', 'read', 'failed'].map((s): [string, string] => [s, s]),
];

export const messagesPage: Page = {
  path: '/messages',
  title: 'Message log',
  async render(context) {
    const { main, query } = context;
    const failedTab = query.get('tab') === 'failed';
    const page = Math.max(1, Number(query.get('page')) || 1);
    const controls = {
      status: select('status', STATUSES, query.get('status') ?? ''),
      direction: select(
        'direction',
        [
          ['', 'Both directions'],
          ['outgoing', 'outgoing'],
          ['incoming', 'incoming'],
        ],
        query.get('direction') ?? '',
      ),
      templateName: input('templateName', { value: query.get('templateName') ?? '' }),
      leadId: input('leadId', { type: 'number', min: 1, value: query.get('leadId') ?? '' }),
      from: input('from', { type: 'datetime-local', value: (query.get('from') ?? '').slice(0, 16) }),
    };
    const filters = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter messages' },
      failedTab ? null : field('Status', controls.status),
      field('Direction', controls.direction),
      field('Template', controls.templateName),
      field('Lead id', controls.leadId),
      field('Created from', controls.from),
      h('button', { type: 'submit' }, 'Filter'),
    );
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      context.setQuery({
        status: failedTab ? undefined : controls.status.value,
        direction: controls.direction.value,
        templateName: controls.templateName.value,
        leadId: controls.leadId.value,
        from: controls.from.value ? new Date(controls.from.value).toISOString() : undefined,
        page: undefined,
      });
    });
    const tabs = h(
      'nav',
      { class: 'tabs', 'aria-label': 'Message log tabs' },
      h('a', { href: href('/messages'), 'aria-current': failedTab ? undefined : 'page' }, 'All'),
      h('a', { href: href('/messages', { tab: 'failed' }), 'aria-current': failedTab ? 'page' : undefined }, 'Failed'),
    );
    const list = h('div');
    main.append(h('h1', {}, 'Message log'), tabs, filters, list);
    await section(list, async () => {
      const log = await must(
        api.GET('/messages', {
          params: {
            query: {
              page,
              pageSize: 50,
              order: 'desc',
              status: (failedTab ? 'failed' : query.get('status') || undefined) as 'failed' | undefined,
              direction: (query.get('direction') || undefined) as 'outgoing' | undefined,
              templateName: query.get('templateName') || undefined,
              leadId: query.get('leadId') ? Number(query.get('leadId')) : undefined,
              from: query.get('from') || undefined,
            },
          },
        }),
      );
      if (log.items.length === 0) return empty(failedTab ? 'No failed messages.' : 'No messages match.');
      const headers = failedTab
        ? ['Created', 'Lead', 'Template', 'Error code', 'Reason', 'Attempts']
        : ['Created', 'Lead', 'Direction', 'Template', 'Status', 'Sent', 'Read'];
      return [
        table(
          headers,
          log.items.map((m) => {
            const lead = m.leadId ? h('a', { href: href(`/leads/${m.leadId}`) }, `#${m.leadId}`) : '—';
            return failedTab
              ? [fmtTime(m.createdAt), lead, m.templateName ?? '', m.errorCode ?? '', m.errorMessage ?? '', m.attempts]
              : [
                  fmtTime(m.createdAt),
                  lead,
                  m.direction,
                  m.templateName ?? '',
                  badge(m.status),
                  fmtTime(m.sentAt),
                  fmtTime(m.readAt),
                ];
          }),
        ),
        pager(page, log.total, 50, (p) => href('/messages', { ...Object.fromEntries(query), page: p })),
      ];
    });
  },
};
