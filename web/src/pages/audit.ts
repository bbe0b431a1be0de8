import { api, must } from '../api';
import { empty, fmtTime, h, section, table } from '../dom';
import { href, type Page } from '../router';

export const auditPage: Page = {
  path: '/audit',
  title: 'Audit log',
  adminOnly: true,
  async render({ main, query }) {
    const page = Math.max(1, Number(query.get('page')) || 1);
    const body = h('div');
    main.append(
      h('h1', {}, 'Audit log'),
      h('p', { class: 'muted' }, 'Every change made with an API key or in this console.'),
      body,
    );
    await section(body, async () => {
      const log = await must(api.GET('/audit', { params: { query: { page, pageSize: 50 } } }));
      if (log.items.length === 0) return empty('Nothing has been changed yet.');
      return [
        table(
          ['When', 'Who', 'Role', 'Signed in with', 'What', 'Id', 'Status'],
          log.items.map((e) => [
            fmtTime(e.at),
            e.actorName,
            e.actorRole,
            e.via === 'session' ? 'console' : 'API key',
            `${e.method} ${e.route}`,
            e.targetId ?? '',
            e.status,
          ]),
        ),
        pager(page, log.total, 50, (p) => href('/audit', { page: p })),
      ];
    });
  },
};

export function pager(page: number, total: number, pageSize: number, link: (page: number) => string): HTMLElement {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    page > 1 ? h('a', { href: link(page - 1) }, '← Newer') : null,
    h('span', {}, ` Page ${page} of ${pages} (${total}) `),
    page < pages ? h('a', { href: link(page + 1) }, 'Older →') : null,
  );
}
