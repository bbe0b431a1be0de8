/**
 * Campaigns: one template to a segment or a list of leads. The list shows each campaign's status and
 * progress; a campaign's page polls its progress (sent / total, rate, expected finish) while it
 * runs, holds its controls inline, and its report drills down from every number to the recipients.
 * Agents may run campaigns, so nothing here is admin-only.
 */
import { api, must, type Schemas } from '../api';
import type { paths } from '../api/schema';
import {
  action,
  badge,
  confirmDialog,
  empty,
  field,
  fmtPercent,
  fmtTime,
  h,
  input,
  onSubmit,
  replace,
  s,
  section,
  select,
  table,
} from '../dom';
import { href, navigate, type Page, type PageContext } from '../router';
import { pager } from './audit';
import { variableMapper } from './drips';

type Campaign = Schemas['Campaign'];
type Progress = Schemas['CampaignProgress'];
type CreateBody = paths['/campaigns']['post']['requestBody']['content']['application/json'];
type Outcome = NonNullable<paths['/campaigns/{id}/recipients']['get']['parameters']['query']>['outcome'];

const STATUSES = ['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled', 'failed'];
const LIVE = ['scheduled', 'running', 'paused'];
const FINISHED = ['completed', 'cancelled'];
const RETARGET_OUTCOMES: [string, string][] = [
  ['not_delivered', 'Sent, never delivered'],
  ['delivered_not_read', 'Delivered, not read'],
  ['read_not_replied', 'Read, no reply'],
  ['failed', 'Failed'],
];
const RECIPIENT_FILTERS: [string, string][] = [
  ['', 'All recipients'],
  ...['pending', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped'].map((o): [string, string] => [o, o]),
  ...RETARGET_OUTCOMES,
];
/** How often a live campaign's page asks for its progress. */
const POLL_MS = 2000;

/** sent / total as a bar, with the rate and the expected finish while it runs. */
export function progressBar(progress: Progress, status: string): HTMLElement {
  const settled = progress.sent + progress.failed + progress.skipped;
  const label = `${settled} of ${progress.total} settled`;
  return h(
    'div',
    { class: 'progress-block' },
    h('progress', { max: Math.max(1, progress.total), value: settled, 'aria-label': label }),
    h(
      'small',
      { class: 'muted' },
      `${label}: ${progress.sent} sent, ${progress.failed} failed, ${progress.skipped} skipped, ${progress.pending} queued`,
      status === 'running' && progress.ratePerMinute !== null ? ` · ${Math.round(progress.ratePerMinute)}/min` : '',
      status === 'running' && progress.expectedFinishAt
        ? ` · expected finish ${fmtTime(progress.expectedFinishAt)}`
        : '',
    ),
  );
}

export const campaignsPage: Page = {
  path: '/campaigns',
  title: 'Campaigns',
  async render(context) {
    const { main, query } = context;
    const page = Math.max(1, Number(query.get('page')) || 1);
    const status = select(
      'status',
      [['', 'Any status'], ...STATUSES.map((v): [string, string] => [v, v])],
      query.get('status') ?? '',
    );
    const filters = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter campaigns' },
      field('Status', status),
      h('button', { type: 'submit' }, 'Filter'),
    );
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      context.setQuery({ status: status.value, page: undefined });
    });
    const list = h('div');
    main.append(
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Campaigns'),
        h('a', { href: href('/campaigns/new'), class: 'button primary' }, 'New campaign'),
      ),
      filters,
      list,
    );
    await section(list, async () => {
      const campaigns = await must(
        api.GET('/campaigns', {
          params: {
            query: { page, pageSize: 50, status: (query.get('status') || undefined) as 'draft' | undefined },
          },
        }),
      );
      if (campaigns.items.length === 0) return empty('No campaigns yet. Create one to message a segment or a list.');
      const rows = await Promise.all(
        campaigns.items.map(async (campaign) => {
          const detail = await must(api.GET('/campaigns/{id}', { params: { path: { id: campaign.id } } }));
          return [
            h('a', { href: href(`/campaigns/${campaign.id}`) }, campaign.name),
            badge(campaign.status),
            campaign.templateName,
            progressBar(detail.progress, campaign.status),
            fmtTime(campaign.createdAt),
          ];
        }),
      );
      return [
        table(['Campaign', 'Status', 'Template', 'Progress', 'Created'], rows),
        pager(page, campaigns.total, 50, (p) => href('/campaigns', { ...Object.fromEntries(query), page: p })),
      ];
    });
  },
};

async function campaignForm(context: PageContext): Promise<HTMLElement> {
  const [templates, segments] = await Promise.all([
    must(api.GET('/templates', { params: { query: { pageSize: 200 } } })),
    must(api.GET('/segments', { params: { query: { pageSize: 100 } } })),
  ]);
  const name = input('name', { required: true, maxlength: 200 });
  const template = select(
    'templateName',
    [['', 'Choose a template'], ...templates.items.map((t): [string, string] => [t.name, `${t.name} (${t.language})`])],
    '',
    { required: true },
  );
  const mapper = variableMapper('', templates.items, template, []);
  const audienceKind = select(
    'audienceKind',
    [
      ['segment', 'A segment (its members when the campaign starts)'],
      ['list', 'A list of lead ids'],
    ],
    context.query.get('leadIds') ? 'list' : 'segment',
  );
  const segment = select(
    'audience.segmentId',
    [['', 'Choose a segment'], ...segments.items.map((sg): [string, string] => [String(sg.id), sg.name])],
    context.query.get('segmentId') ?? '',
  );
  const leadIds = h('textarea', { name: 'audience.leadIds', rows: 3, placeholder: '12, 13, 20' });
  leadIds.value = context.query.get('leadIds') ?? '';
  const segmentField = field('Segment', segment);
  const listField = field('Lead ids', leadIds, 'Separated by commas, spaces or lines; up to 100,000.');
  const syncAudience = () => {
    segmentField.hidden = audienceKind.value !== 'segment';
    listField.hidden = audienceKind.value !== 'list';
  };
  audienceKind.addEventListener('change', syncAudience);
  syncAudience();
  const when = select('when', [
    ['draft', 'Save as a draft'],
    ['now', 'Start now'],
    ['later', 'Schedule'],
  ]);
  const scheduledAt = input('scheduledAt', { type: 'datetime-local' });
  const scheduledField = field('Start at', scheduledAt, 'In your time zone.');
  const syncWhen = () => (scheduledField.hidden = when.value !== 'later');
  when.addEventListener('change', syncWhen);
  syncWhen();

  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'New campaign' },
    field('Name', name),
    field('Template', template),
    mapper.preview,
    mapper.element,
    field('Audience', audienceKind),
    segmentField,
    listField,
    field('When', when),
    scheduledField,
    h('button', { type: 'submit', class: 'primary' }, 'Create campaign'),
  );
  onSubmit(form, async () => {
    const body = mapper.read();
    const ids = leadIds.value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    const request: CreateBody = {
      name: name.value,
      templateName: template.value,
      ...(body.length && { variables: { body: body as never } }),
      audience: audienceKind.value === 'segment' ? { segmentId: Number(segment.value) } : { leadIds: ids },
      start: when.value !== 'draft',
      ...(when.value === 'later' && scheduledAt.value && { scheduledAt: new Date(scheduledAt.value).toISOString() }),
    } as CreateBody;
    const created = await must(api.POST('/campaigns', { body: request }));
    navigate(href(`/campaigns/${created.id}`));
  });
  return form;
}

export const campaignEditorPage: Page = {
  path: '/campaigns/new',
  title: 'New campaign',
  async render(context) {
    const body = h('div');
    context.main.append(h('h1', {}, 'New campaign'), body);
    await section(body, () => campaignForm(context));
  },
};

/** Recipients → sent → delivered → read → replied as horizontal bars, each a link to its people. */
function funnelChart(report: Schemas['CampaignReport'], campaignId: number): SVGElement {
  const stages: [string, number][] = [
    ['recipients', report.totalRecipients],
    ['sent', report.sent],
    ['delivered', report.delivered],
    ['read', report.read],
    ['replied', report.replied],
  ];
  const width = 600;
  const rowHeight = 28;
  const max = Math.max(1, report.totalRecipients);
  return s(
    'svg',
    {
      viewBox: `0 0 ${width} ${stages.length * rowHeight + 4}`,
      role: 'img',
      'aria-label': stages.map(([label, value]) => `${label} ${value}`).join(', '),
      class: 'chart funnel',
    },
    ...stages.map(([label, value], i) => {
      const bar = s('rect', {
        x: 110,
        y: i * rowHeight + 4,
        height: rowHeight - 8,
        width: Math.max(1, (value / max) * (width - 200)),
        class: `funnel-bar series-${label}`,
      });
      const link = s('a', { href: href(`/campaigns/${campaignId}`, { outcome: label === 'recipients' ? '' : label }) });
      link.append(
        s('text', { x: 0, y: i * rowHeight + 20, class: 'tick' }, label),
        bar,
        s('text', { x: 116 + (value / max) * (width - 200), y: i * rowHeight + 20, class: 'tick' }, String(value)),
      );
      return link;
    }),
  );
}

function controls(campaign: Campaign, refresh: () => void): HTMLElement {
  const id = campaign.id;
  const path = { params: { path: { id } } };
  const buttons: HTMLElement[] = [];
  if (campaign.status === 'draft') {
    buttons.push(
      action('Start now', async () => {
        await must(api.POST('/campaigns/{id}/start', { ...path, body: {} }));
        refresh();
      }),
    );
  }
  if (campaign.status === 'running' || campaign.status === 'scheduled') {
    buttons.push(
      action('Pause', async () => {
        await must(api.POST('/campaigns/{id}/pause', { ...path, body: {} }));
        refresh();
      }),
    );
  }
  if (campaign.status === 'paused') {
    buttons.push(
      action('Resume', async () => {
        await must(api.POST('/campaigns/{id}/resume', { ...path, body: {} }));
        refresh();
      }),
    );
  }
  if (LIVE.includes(campaign.status)) {
    buttons.push(
      action(
        'Cancel',
        async () => {
          if (!(await confirmDialog(`Cancel “${campaign.name}”? Sends still queued are taken back.`, 'Cancel it')))
            return;
          await must(api.POST('/campaigns/{id}/cancel', { ...path, body: {} }));
          refresh();
        },
        { class: 'danger' },
      ),
    );
  }
  if (FINISHED.includes(campaign.status)) {
    buttons.push(
      action('Retry failed', async () => {
        const result = await must(api.POST('/campaigns/{id}/retry', path));
        buttons[0]?.parentElement?.append(h('span', { role: 'status' }, ` ${result.requeued} requeued`));
        refresh();
      }),
    );
  }
  buttons.push(
    action('Clone', async () => {
      const clone = await must(api.POST('/campaigns/{id}/clone', { ...path, body: {} }));
      navigate(href(`/campaigns/${clone.id}`));
    }),
  );
  const row = h('div', { class: 'row actions' }, buttons);
  if (FINISHED.includes(campaign.status)) {
    const outcome = select('outcome', RETARGET_OUTCOMES, 'not_delivered');
    const retarget = h(
      'form',
      { class: 'row', 'aria-label': 'Retarget' },
      field('Retarget recipients who were', outcome),
      h('button', { type: 'submit' }, 'Create retarget draft'),
    );
    onSubmit(retarget, async () => {
      const draft = await must(
        api.POST('/campaigns/{id}/retarget', { ...path, body: { outcome: outcome.value as 'failed' } }),
      );
      navigate(href(`/campaigns/${draft.id}`));
    });
    return h('div', {}, row, retarget);
  }
  return row;
}

export const campaignPage: Page = {
  path: '/campaigns/:id',
  title: 'Campaign',
  async render(context) {
    const { main, params, query } = context;
    const id = Number(params.id);
    const outcome = query.get('outcome') ?? '';
    const page = Math.max(1, Number(query.get('page')) || 1);
    const head = h('div');
    const report = h('div');
    const recipients = h('div');
    main.append(head, h('h2', {}, 'Report'), report, h('h2', {}, 'Recipients'), recipients);

    let timer: ReturnType<typeof setTimeout> | undefined;
    context.onLeave(() => clearTimeout(timer));
    const headOf = (campaign: Campaign & { progress: Progress }) => [
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, campaign.name, ' ', badge(campaign.status)),
        h('a', { href: href('/campaigns') }, '← All campaigns'),
      ),
      h(
        'p',
        { class: 'muted' },
        `Template ${campaign.templateName} (${campaign.templateLanguage}) · `,
        campaign.segmentId ? `segment #${campaign.segmentId}` : `${campaign.leadIds?.length ?? 0} listed leads`,
        campaign.scheduledAt ? ` · scheduled ${fmtTime(campaign.scheduledAt)}` : '',
      ),
      progressBar(campaign.progress, campaign.status),
      controls(campaign, () => void refresh()),
    ];
    const refresh = async (): Promise<void> => {
      clearTimeout(timer);
      let campaign: Campaign | undefined;
      await section(head, async () => {
        const current = await must(api.GET('/campaigns/{id}', { params: { path: { id } } }));
        campaign = current;
        return headOf(current);
      });
      await section(report, async () => {
        const counts = await must(api.GET('/campaigns/{id}/report', { params: { path: { id }, query: {} } }));
        return [
          funnelChart(counts, id),
          h(
            'p',
            {},
            `Delivery ${fmtPercent(counts.deliveryRate)} · read ${fmtPercent(counts.readRate)} · reply ${fmtPercent(counts.replyRate)} (within ${counts.replyWindowHours} h)`,
          ),
          counts.failedBy.length
            ? table(
                ['Failed: error code', 'Reason', 'Recipients'],
                counts.failedBy.map((f) => [f.errorCode ?? '—', f.reason ?? '—', f.count]),
              )
            : null,
          counts.skippedBy.length
            ? table(
                ['Skipped: reason', 'Recipients'],
                counts.skippedBy.map((f) => [f.reason ?? '—', f.count]),
              )
            : null,
          h(
            'a',
            {
              href: `/campaigns/${id}/recipients.csv${outcome ? `?outcome=${encodeURIComponent(outcome)}` : ''}`,
              download: `campaign-${id}-recipients.csv`,
            },
            'Export recipients (CSV)',
          ),
        ];
      });
      if (campaign && LIVE.includes(campaign.status)) timer = setTimeout(() => void refresh(), POLL_MS);
    };

    const filter = select('outcome', RECIPIENT_FILTERS, outcome);
    filter.addEventListener('change', () => context.setQuery({ outcome: filter.value, page: undefined }));
    const list = h('div');
    replace(recipients, field('Show', filter), list);
    await Promise.all([
      refresh(),
      section(list, async () => {
        const rows = await must(
          api.GET('/campaigns/{id}/recipients', {
            params: { path: { id }, query: { page, pageSize: 50, outcome: (outcome || undefined) as Outcome } },
          }),
        );
        if (rows.items.length === 0) return empty('No recipient has this outcome.');
        return [
          table(
            ['Lead', 'Status', 'Reason', 'Message', 'Sent', 'Read', 'Replied'],
            rows.items.map((r) => [
              h('a', { href: href(`/leads/${r.leadId}`) }, `#${r.leadId}`),
              badge(r.status),
              r.reason ?? r.messageErrorMessage ?? '',
              r.messageStatus ?? '—',
              fmtTime(r.sentAt),
              fmtTime(r.readAt),
              r.replied ? 'yes' : 'no',
            ]),
          ),
          pager(page, rows.total, 50, (p) => href(`/campaigns/${id}`, { ...Object.fromEntries(query), page: p })),
        ];
      }),
    ]);
  },
};
