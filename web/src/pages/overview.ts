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

type Day = { sent: number; delivered: number; read: number };

/** Sent / delivered / read per day: one /analytics/kpis call per day, a few at a time. */
async function dailyOutcomes(days: number): Promise<Day[]> {
  const today = new Date(new Date().setHours(0, 0, 0, 0)).getTime();
  const starts = Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY_MS);
  const result: Day[] = new Array<Day>(days);
  const CONCURRENT = 5;
  for (let i = 0; i < days; i += CONCURRENT) {
    await Promise.all(
      starts.slice(i, i + CONCURRENT).map(async (start, j) => {
        const kpis = await must(
          api.GET('/analytics/kpis', {
            params: { query: { from: new Date(start).toISOString(), to: new Date(start + DAY_MS).toISOString() } },
          }),
        );
        result[i + j] = kpis.messages;
      }),
    );
  }
  return result;
}

function dailyChart(daysData: Day[]): SVGElement {
  const days = daysData.length;
  const series = {
    sent: daysData.map((d) => d.sent),
    delivered: daysData.map((d) => d.delivered),
    read: daysData.map((d) => d.read),
  };
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
    const kpiCards = h('div', { class: 'cards' });
    main.append(
      h('h1', {}, 'Overview'),
      cards,
      h('h2', {}, 'Last 30 days'),
      kpiCards,
      chart,
      h('h2', {}, 'Health'),
      health,
    );

    void section(kpiCards, async () => {
      const from = new Date(Date.now() - 30 * DAY_MS).toISOString();
      const [kpis, everyone] = await Promise.all([
        must(api.GET('/analytics/kpis', { params: { query: { from } } })),
        // An empty filter counts every lead and says how many it left out for having opted out.
        must(api.POST('/segments/preview', { params: { query: { pageSize: 1 } }, body: { filter: {} } })),
      ]);
      const growth = kpis.contacts.totalAtStart > 0 ? kpis.contacts.newInPeriod / kpis.contacts.totalAtStart : null;
      return [
        card('reply rate', fmtPercent(kpis.messages.replyRate), href('/messages', { direction: 'incoming', from })),
        card('delivery rate', fmtPercent(kpis.messages.deliveryRate), href('/messages', { from })),
        card('read rate', fmtPercent(kpis.messages.readRate), href('/messages', { from })),
        card('opted out (all time)', everyone.count.excludedOptedOut, href('/segments', { includeOptedOut: '1' })),
        card('contacts', kpis.contacts.total, href('/leads')),
        card(
          `new contacts${growth === null ? '' : ` (+${fmtPercent(growth)})`}`,
          kpis.contacts.newInPeriod,
          href('/segments', { createdFrom: from }),
        ),
        card('running campaigns', kpis.running.campaigns ?? '—', href('/campaigns', { status: 'running' })),
      ];
    });

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
      return [
        dailyChart(await dailyOutcomes(30)),
        h(
          'p',
          { class: 'legend' },
          h('span', { class: 'key key-sent' }, 'sent'),
          h('span', { class: 'key key-delivered' }, 'delivered'),
          h('span', { class: 'key key-read' }, 'read'),
          ' — by the day each send was created, from /analytics/kpis',
        ),
      ];
    });
    void errorBox;
  },
};
