import { api, must, type Schemas } from '../api';
import { badge, errorBox, fmtPercent, fmtTime, h, s, section } from '../dom';
import { href, type Page } from '../router';

const DAY_MS = 86_400_000;

function card(label: string, value: string | number, link?: string): HTMLElement {
  return h(
    'div',
    { class: 'card stat' },
    h('div', { class: 'stat-value' }, String(value)),
    link ? h('a', { href: link }, label) : h('div', { class: 'muted' }, label),
  );
}

async function total(call: Promise<{ data?: { total: number }; error?: unknown; response: Response }>) {
  return (await must(call)).total;
}

/** Sent / delivered / read per day, from the message log's newest 500 outgoing rows of the period. */
function dailyChart(messages: Schemas['Message'][], days: number): SVGElement {
  const start = Date.now() - days * DAY_MS;
  const series = {
    sent: new Array<number>(days).fill(0),
    delivered: new Array<number>(days).fill(0),
    read: new Array<number>(days).fill(0),
  };
  for (const message of messages) {
    const day = (at: string | null) => (at ? Math.floor((Date.parse(at) - start) / DAY_MS) : -1);
    const add = (list: number[], at: string | null) => {
      const i = day(at);
      if (i >= 0 && i < days) list[i] = (list[i] ?? 0) + 1;
    };
    add(series.sent, message.sentAt);
    add(series.delivered, message.deliveredAt);
    add(series.read, message.readAt);
  }
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...series.sent, ...series.delivered, ...series.read);
  const x = (i: number) => (i / (days - 1)) * (width - 40) + 30;
  const y = (v: number) => height - 20 - (v / max) * (height - 30);
  const line = (values: number[], className: string) =>
    s('polyline', { class: className, fill: 'none', points: values.map((v, i) => `${x(i)},${y(v)}`).join(' ') });
  return s(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `Sent, delivered and read per day over ${days} days`,
      class: 'chart',
    },
    s('line', { x1: 30, y1: height - 20, x2: width - 10, y2: height - 20, class: 'axis' }),
    s('text', { x: 0, y: y(max) + 4, class: 'tick' }, String(max)),
    s('text', { x: 0, y: height - 16, class: 'tick' }, '0'),
    line(series.sent, 'series-sent'),
    line(series.delivered, 'series-delivered'),
    line(series.read, 'series-read'),
  );
}

export const overviewPage: Page = {
  path: '/',
  title: 'Overview',
  async render({ main }) {
    const cards = h('div', { class: 'cards' });
    const health = h('div', { class: 'card' });
    const chart = h('div', { class: 'card' });
    main.append(h('h1', {}, 'Overview'), cards, h('h2', {}, 'Health'), health, h('h2', {}, 'Last 30 days'), chart);

    void section(cards, async () => {
      const since = new Date(Date.now() - 7 * DAY_MS).toISOString();
      const today = new Date(new Date().setHours(0, 0, 0, 0)).toISOString();
      const [active, paused, flows, analytics, sentToday, sentWeek, failedWeek] = await Promise.all([
        total(api.GET('/assignments', { params: { query: { status: 'active', pageSize: 1 } } })),
        total(api.GET('/assignments', { params: { query: { status: 'paused', pageSize: 1 } } })),
        must(api.GET('/cta/flows')),
        must(api.GET('/cta/analytics', { params: { query: { from: since } } })),
        total(api.GET('/messages', { params: { query: { direction: 'outgoing', from: today, pageSize: 1 } } })),
        total(api.GET('/messages', { params: { query: { direction: 'outgoing', from: since, pageSize: 1 } } })),
        total(api.GET('/messages', { params: { query: { status: 'failed', from: since, pageSize: 1 } } })),
      ]);
      return [
        card('running drips', active, href('/drips')),
        card('paused drips', paused, href('/drips')),
        card('CTA flows', flows.items.filter((f) => !f.archivedAt).length, href('/interactive')),
        card('sent today', sentToday, href('/messages', { from: today })),
        card('sent in 7 days', sentWeek, href('/messages', { from: since })),
        card('failed in 7 days', failedWeek, href('/messages', { tab: 'failed' })),
        card('CTA engagement (7 days)', fmtPercent(analytics.totals.engagementRate), href('/interactive')),
      ];
    });

    void section(health, async () => {
      const [status, syncs, infobip] = await Promise.all([
        api.GET('/health'),
        api.GET('/templates/sync-runs', { params: { query: { pageSize: 1 } } }),
        api.GET('/sync/infobip/last-success'),
      ]);
      const body = status.data ?? (status.error as Schemas['Error'] | undefined as never);
      const check = (name: string, result: { ok: boolean; error?: string } | undefined) =>
        h(
          'li',
          {},
          badge(result?.ok ? 'ok' : 'down', result?.ok ? 'ok' : 'failed'),
          ' ',
          name,
          result?.error ? ` — ${result.error}` : '',
        );
      const lastSync = syncs.data?.items[0];
      return h(
        'ul',
        { class: 'health' },
        check('Database', (body as { database?: { ok: boolean; error?: string } } | undefined)?.database),
        check('Temporal', (body as { temporal?: { ok: boolean; error?: string } } | undefined)?.temporal),
        h(
          'li',
          {},
          'Last template sync: ',
          lastSync ? [badge(lastSync.status), ' ', fmtTime(lastSync.startedAt)] : 'never',
        ),
        h('li', {}, 'Last Infobip sync success: ', fmtTime(infobip.data?.lastSuccessAt)),
      );
    });

    void section(chart, async () => {
      const from = new Date(Date.now() - 30 * DAY_MS).toISOString();
      const page = await must(
        api.GET('/messages', { params: { query: { direction: 'outgoing', from, pageSize: 500, order: 'desc' } } }),
      );
      return [
        dailyChart(page.items, 30),
        h(
          'p',
          { class: 'legend' },
          h('span', { class: 'key key-sent' }, 'sent'),
          h('span', { class: 'key key-delivered' }, 'delivered'),
          h('span', { class: 'key key-read' }, 'read'),
          page.total > page.items.length ? ` — the newest ${page.items.length} of ${page.total} messages` : '',
        ),
      ];
    });
    void errorBox;
  },
};
