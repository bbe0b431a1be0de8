import { api, ApiError, must, type Schemas } from '../api';
import { action, badge, empty, field, fmtTime, h, input, onSubmit, section, select, table } from '../dom';
import { href, navigate, type Page } from '../router';

function counts(run: Schemas['InfobipSyncRun']): string {
  return `fetched ${run.fetched} · matched ${run.matched} · created ${run.created} · updated ${run.updated} · skipped ${run.skipped} · invalid ${run.invalid} · errors ${run.errorCount}`;
}

function syncNowForm(isAdmin: boolean): HTMLElement {
  if (!isAdmin) return h('p', { class: 'muted' }, 'Starting a sync needs the admin role.');
  const source = select(
    'source',
    [
      ['both', 'People and SMS logs'],
      ['people', 'People'],
      ['logs', 'SMS logs'],
    ],
    'both',
  );
  const mode = select(
    'mode',
    [
      ['create_update', 'Create and update leads'],
      ['update_only', 'Update existing leads only'],
    ],
    'create_update',
  );
  const dryRun = input('dryRun', { type: 'checkbox', checked: true });
  const since = input('since', { type: 'datetime-local' });
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Sync now' },
    h('h2', {}, 'Sync now'),
    field('Source', source),
    field('Mode', mode),
    field('Dry run (change nothing, show a preview)', dryRun),
    field('Since', since, 'Empty: from the last successful run'),
    h('button', { type: 'submit', class: 'primary' }, 'Start sync'),
  );
  onSubmit(form, async () => {
    const started = await must(
      api.POST('/sync/infobip/runs', {
        body: {
          source: source.value as 'both',
          mode: mode.value as 'create_update',
          dryRun: dryRun.checked,
          ...(since.value && { since: new Date(since.value).toISOString() }),
        },
      }),
    );
    navigate(href(`/infobip/runs/${started.runId}`));
  });
  return form;
}

export const infobipPage: Page = {
  path: '/infobip',
  title: 'Infobip sync',
  async render(context) {
    const { main, session } = context;
    const isAdmin = session.role === 'admin';
    const last = h('div');
    const schedule = h('div');
    const runs = h('div');
    main.append(
      h('h1', {}, 'Infobip sync'),
      last,
      h('h2', {}, 'Schedule'),
      schedule,
      syncNowForm(isAdmin),
      h('h2', {}, 'Runs'),
      runs,
    );
    void section(last, async () => {
      const success = await must(api.GET('/sync/infobip/last-success'));
      return h(
        'p',
        {},
        `Last success: ${fmtTime(success.lastSuccessAt)} · last scheduled success: ${fmtTime(success.lastScheduledSuccessAt)}`,
      );
    });
    const drawSchedule = (): Promise<void> =>
      section(schedule, async () => {
        const { data, error, response } = await api.GET('/sync/infobip/schedule');
        if (response.status === 404) {
          return [
            empty('No schedule.'),
            isAdmin
              ? action('Sync hourly', async () => {
                  await must(api.POST('/sync/infobip/schedule', { body: { every: 'hourly' } }));
                  await drawSchedule();
                })
              : null,
          ];
        }
        if (!data) throw new ApiError(response.status, error as never);
        const cadence = data.cadence ? ('every' in data.cadence ? data.cadence.every : data.cadence.cron) : 'unknown';
        return [
          h('p', {}, `Runs ${cadence} `, badge(data.paused ? 'paused' : 'active'), data.note ? ` — ${data.note}` : ''),
          h('p', {}, `Next: ${data.nextRunTimes.slice(0, 3).map(fmtTime).join(', ') || '—'}`),
          isAdmin
            ? h(
                'div',
                { class: 'row' },
                data.paused
                  ? action('Resume schedule', async () => {
                      await must(api.POST('/sync/infobip/schedule/resume', { body: {} }));
                      await drawSchedule();
                    })
                  : action('Pause schedule', async () => {
                      await must(api.POST('/sync/infobip/schedule/pause', { body: {} }));
                      await drawSchedule();
                    }),
                action('Trigger now', async () => {
                  await must(api.POST('/sync/infobip/schedule/trigger'));
                  await drawRuns();
                }),
              )
            : null,
        ];
      });
    const drawRuns = (): Promise<void> =>
      section(runs, async () => {
        const page = await must(api.GET('/sync/infobip/runs', { params: { query: { pageSize: 20 } } }));
        if (!page.items.length) return empty('No sync has run yet.');
        return table(
          ['Run', 'Started', 'Trigger', 'Status', 'Counts'],
          page.items.map((run) => [
            h('a', { href: href(`/infobip/runs/${run.id}`) }, `#${run.id}${run.dryRun ? ' (dry run)' : ''}`),
            fmtTime(run.startedAt),
            run.trigger,
            badge(run.status),
            counts(run),
          ]),
        );
      });
    void drawSchedule();
    void drawRuns();
    const timer = setInterval(() => void drawRuns(), 5000);
    context.onLeave(() => clearInterval(timer));
  },
};

export const infobipRunPage: Page = {
  path: '/infobip/runs/:id',
  title: 'Infobip sync run',
  async render(context) {
    const id = Number(context.params.id);
    const holder = h('div');
    context.main.append(holder);
    let timer: ReturnType<typeof setTimeout> | undefined;
    context.onLeave(() => clearTimeout(timer));
    const draw = async (): Promise<void> => {
      await section(holder, async () => {
        const run = await must(api.GET('/sync/infobip/runs/{id}', { params: { path: { id } } }));
        // Live progress: the run asks itself again every second until it ends.
        if (run.status === 'running') timer = setTimeout(() => void draw(), 1000);
        const progress = run.progress;
        return [
          h('h1', {}, `Sync run #${run.id} `, badge(run.status), run.dryRun ? badge('dry run', 'pending') : null),
          h(
            'p',
            {},
            `Window ${fmtTime(run.windowFrom)} → ${fmtTime(run.windowTo)} · started ${fmtTime(run.startedAt)} · finished ${fmtTime(run.finishedAt)}`,
          ),
          progress && run.status === 'running'
            ? h(
                'div',
                {},
                h('progress', {
                  'aria-label': 'Pages done',
                  max: Math.max(progress.pagesDone + 1, 1),
                  value: progress.pagesDone,
                }),
                h('p', { role: 'status' }, `${progress.pagesDone} pages · fetched ${progress.counts.fetched}`),
              )
            : null,
          h('p', { class: 'counts' }, counts(run)),
          run.failure ? h('p', { class: 'error' }, run.failure) : null,
          run.preview
            ? [
                h('h2', {}, `Dry-run preview (${run.preview.length} changes)`),
                table(
                  ['Action', 'Lead', 'Phone', 'Changes'],
                  run.preview
                    .slice(0, 200)
                    .map((p) => [
                      badge(p.action),
                      p.leadId ? h('a', { href: href(`/leads/${p.leadId}`) }, `#${p.leadId}`) : 'new',
                      p.phone,
                      Object.keys(p.changes).join(', '),
                    ]),
                ),
              ]
            : null,
          run.errors.length
            ? [
                h('h2', {}, 'Errors'),
                table(
                  ['Record', 'Message'],
                  run.errors.map((e) => [e.record, e.message]),
                ),
              ]
            : null,
          h('p', {}, h('a', { href: href('/infobip') }, '← All runs')),
        ];
      });
    };
    await draw();
  },
};
