import { api, must, type Schemas } from '../api';
import { action, badge, empty, field, fmtTime, h, input, replace, section, select, table } from '../dom';
import type { Page, PageContext } from '../router';

type Template = Schemas['Template'];

const STATUSES: [string, string][] = [
  ['', 'Any status'],
  ['Approved', 'Approved'],
  ['Pending', 'Pending'],
  ['Rejected', 'Rejected'],
];
const CATEGORIES: [string, string][] = [
  ['', 'Any category'],
  ['UTILITY', 'Utility'],
  ['MARKETING', 'Marketing'],
  ['AUTHENTICATION', 'Authentication'],
];

export const variablesOf = (text: string): number[] =>
  [...new Set([...text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);

const fill = (text: string, samples: Record<number, string>) =>
  text.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => samples[Number(n)] || whole);

/** The template as a phone shows it: header, body with the sample values, footer, buttons. */
export function whatsappPreview(template: Template, samples: Record<number, string>): HTMLElement {
  return h(
    'div',
    { class: 'phone', 'aria-label': `Preview of ${template.name}` },
    h(
      'div',
      { class: 'bubble' },
      template.headerType === 'text' && template.headerText
        ? h('strong', { class: 'bubble-header' }, fill(template.headerText, samples))
        : template.headerType !== 'none'
          ? h('div', { class: 'bubble-media' }, `${template.headerType} header`)
          : null,
      h('p', { class: 'bubble-body' }, fill(template.body, samples)),
      template.footer ? h('small', { class: 'muted' }, template.footer) : null,
      h('span', { class: 'bubble-time' }, '12:00 ✓✓'),
    ),
    template.buttons.map((button) =>
      h('div', { class: 'bubble-button' }, button.text, button.type === 'URL' ? ' ↗' : ''),
    ),
  );
}

function previewPanel(template: Template): HTMLElement {
  const samples: Record<number, string> = {};
  const holder = h('div');
  const draw = () => replace(holder, whatsappPreview(template, samples));
  const inputs = variablesOf(`${template.headerText ?? ''} ${template.body}`).map((n) => {
    const control = input(`sample-${n}`, { placeholder: `{{${n}}}` });
    control.addEventListener('input', () => {
      samples[n] = control.value;
      draw();
    });
    return field(`Sample value for {{${n}}}`, control);
  });
  draw();
  return h(
    'section',
    { class: 'card preview-panel', 'aria-label': 'Preview' },
    h('h2', {}, template.name, ' ', badge(template.approvalStatus)),
    h('p', { class: 'muted' }, `${template.language} · ${template.category ?? 'no category'} · ${template.source}`),
    template.rejectionReason ? h('p', { class: 'error' }, template.rejectionReason) : null,
    inputs,
    holder,
  );
}

async function syncHistory(target: HTMLElement): Promise<void> {
  await section(target, async () => {
    const runs = await must(api.GET('/templates/sync-runs', { params: { query: { pageSize: 10 } } }));
    if (runs.items.length === 0) return empty('No template sync has run yet.');
    return table(
      ['Started', 'Status', 'Fetched', 'Created', 'Updated', 'Unchanged', 'Removed', 'Errors'],
      runs.items.map((run) => [
        fmtTime(run.startedAt),
        badge(run.status),
        run.fetched,
        run.created,
        run.updated,
        run.unchanged,
        run.removed,
        run.errors.length ? run.errors.map((e) => `${e.template ?? ''} ${e.message}`).join('; ') : run.errorCount,
      ]),
      'Sync history',
    );
  });
}

export const templatesPage: Page = {
  path: '/templates',
  title: 'Message Master',
  async render(context: PageContext) {
    const { main, query, session } = context;
    const filters = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter templates' },
      field('Search', input('search', { type: 'search', value: query.get('search') ?? '' })),
      field('Approval', select('approvalStatus', STATUSES, query.get('approvalStatus') ?? '')),
      field('Category', select('category', CATEGORIES, query.get('category') ?? '')),
      h('button', { type: 'submit' }, 'Filter'),
    );
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(filters);
      context.setQuery({
        search: String(data.get('search') ?? ''),
        approvalStatus: String(data.get('approvalStatus') ?? ''),
        category: String(data.get('category') ?? ''),
        id: undefined,
      });
    });
    filters
      .querySelectorAll('select')
      .forEach((control) => control.addEventListener('change', () => filters.requestSubmit()));

    const list = h('div');
    const preview = h('div');
    const history = h('div');
    const syncStatus = h('p', { role: 'status' });
    const syncButton =
      session.role === 'admin'
        ? action(
            'Sync templates',
            async () => {
              const started = await must(api.POST('/templates/sync'));
              syncStatus.textContent = started.alreadyRunning ? 'A sync is already running…' : 'Syncing…';
              // Progress that updates itself: the run's row until it finishes.
              for (let i = 0; i < 120; i++) {
                const run = await must(
                  api.GET('/templates/sync-runs/{id}', { params: { path: { id: started.runId } } }),
                );
                if (run.status !== 'running') {
                  syncStatus.textContent = `Sync ${run.status}: ${run.fetched} fetched, ${run.created} created, ${run.updated} updated.`;
                  break;
                }
                await new Promise((resolve) => setTimeout(resolve, 1000));
              }
              void syncHistory(history);
              void drawList();
            },
            { class: 'primary' },
          )
        : null;

    main.append(
      h('div', { class: 'page-head' }, h('h1', {}, 'Message Master'), syncButton),
      syncStatus,
      filters,
      h('div', { class: 'split' }, list, preview),
      h('h2', {}, 'Template syncs'),
      history,
    );

    const drawList = () =>
      section(list, async () => {
        const page = await must(
          api.GET('/templates', {
            params: {
              query: {
                pageSize: 200,
                search: query.get('search') || undefined,
                approvalStatus: query.get('approvalStatus') || undefined,
                category: (query.get('category') || undefined) as 'UTILITY' | undefined,
              },
            },
          }),
        );
        const selected = Number(query.get('id')) || undefined;
        const chosen = page.items.find((t) => t.id === selected);
        replace(preview, chosen ? previewPanel(chosen) : empty('Choose a template to preview it.'));
        if (page.items.length === 0)
          return empty('No templates match. Sync them from the provider, or change the filters.');
        return h(
          'ul',
          { class: 'template-list' },
          page.items.map((t) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: `/console/templates?${new URLSearchParams({ ...Object.fromEntries(query), id: String(t.id) })}`,
                  'aria-current': t.id === selected ? 'true' : undefined,
                },
                t.name,
              ),
              ' ',
              badge(t.approvalStatus),
              h('span', { class: 'muted' }, ` ${t.language} · ${t.category ?? ''}`),
            ),
          ),
        );
      });
    void drawList();
    void syncHistory(history);
  },
};
