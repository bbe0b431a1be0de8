import { api, must } from '../api';
import {
  action,
  badge,
  copyText,
  empty,
  field,
  fmtPercent,
  fmtTime,
  h,
  input,
  onSubmit,
  replace,
  section,
  select,
  table,
} from '../dom';
import { href, type Page } from '../router';

const PERIODS: [string, string][] = [
  ['1', 'Today'],
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
];

function templateBuilder(): HTMLElement {
  const name = input('name', { required: true, placeholder: 'project_update_template' });
  const body = h('textarea', { name: 'body.text', rows: 4, required: true }, 'Hi {{1}}, any interest in {{2}}?');
  const examples = input('body.examples', { placeholder: 'Asha, Palm Grove', value: 'Asha, Palm Grove' });
  const footer = input('footer', { placeholder: 'optional' });
  const buttons = h(
    'textarea',
    { name: 'buttons', rows: 2 },
    'Interested ✅ | https://example.com/track/{{1}}\nNot interested ❌ | https://example.com/track/{{1}}',
  );
  const output = h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Template JSON' });
  const copy = h('div');
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Template JSON builder' },
    h('h2', {}, 'Template JSON builder'),
    field('Name', name),
    field('Body', body),
    field('Examples for the variables', examples, 'Comma-separated, one per {{n}}'),
    field('Footer', footer),
    field('URL buttons', buttons, 'One per line: text | URL'),
    h('button', { type: 'submit', class: 'primary' }, 'Build JSON'),
    output,
    copy,
  );
  onSubmit(form, async () => {
    const json = await must(
      api.POST('/cta/template-json', {
        body: {
          name: name.value,
          body: { text: body.value, examples: examples.value ? examples.value.split(',').map((e) => e.trim()) : [] },
          ...(footer.value && { footer: footer.value }),
          buttons: buttons.value
            .split('\n')
            .filter((line) => line.trim())
            .map((line) => {
              const [text = '', url = ''] = line.split('|').map((part) => part.trim());
              return { type: 'URL' as const, text, url, example: url.replace(/\{\{1\}\}/, '1?token=example') };
            }),
        },
      }),
    );
    const text = JSON.stringify(json, null, 2);
    output.textContent = text;
    replace(
      copy,
      action('Copy JSON', () => copyText(text)),
    );
  });
  return form;
}

export const interactivePage: Page = {
  path: '/interactive',
  title: 'WhatsApp interactive',
  async render(context) {
    const { main, query } = context;
    const days = query.get('days') ?? '30';
    const flowId = query.get('flowId') ?? '';
    const flows = await must(api.GET('/cta/flows'));
    const period = select('days', PERIODS, days);
    const flow = select(
      'flowId',
      [['', 'All flows'], ...flows.items.map((f): [string, string] => [String(f.id), f.name])],
      flowId,
    );
    period.addEventListener('change', () => context.setQuery({ days: period.value }));
    flow.addEventListener('change', () => context.setQuery({ flowId: flow.value }));
    const cards = h('div');
    const calls = h('div');
    const recent = h('div');
    main.append(
      h('h1', {}, 'WhatsApp interactive'),
      h('form', { class: 'filters', 'aria-label': 'Period and flow' }, field('Period', period), field('Flow', flow)),
      cards,
      h('h2', {}, 'Unprocessed IVR calls'),
      calls,
      h('h2', {}, 'Recent interactions'),
      recent,
      templateBuilder(),
    );
    const from = new Date(Date.now() - Number(days) * 86_400_000).toISOString();
    const drawAnalytics = () =>
      section(cards, async () => {
        const analytics = await must(
          api.GET('/cta/analytics', {
            params: { query: { from, flowId: flowId ? Number(flowId) : undefined, recent: 20 } },
          }),
        );
        replace(
          recent,
          analytics.recentInteractions.length
            ? table(
                ['When', 'Lead', 'Answer', 'Result'],
                analytics.recentInteractions.map((i) => [
                  fmtTime(i.clickedAt),
                  h('a', { href: href(`/leads/${i.leadId}`) }, i.leadName ?? `#${i.leadId}`),
                  badge(i.action),
                  i.result,
                ]),
              )
            : empty('No interactions in this period.'),
        );
        if (!analytics.flows.length) return empty('No CTA messages sent in this period.');
        return h(
          'div',
          { class: 'cards' },
          analytics.flows.map((f) =>
            h(
              'div',
              { class: 'card' },
              h('h3', {}, f.flowName),
              h(
                'p',
                {},
                `Sent ${f.sent} · interested ${f.interested} · not interested ${f.notInterested} · no response ${f.noResponse}`,
              ),
              h('p', {}, `Engagement ${fmtPercent(f.engagementRate)} · conversion ${fmtPercent(f.conversionRate)}`),
            ),
          ),
        );
      });
    const drawCalls = (): Promise<void> =>
      section(calls, async () => {
        const page = await must(api.GET('/ivr/calls', { params: { query: { status: 'received', pageSize: 50 } } }));
        const limit = input('limit', {
          type: 'number',
          min: 1,
          max: 100,
          value: Math.max(1, Math.min(page.total, 100)),
        });
        return [
          page.items.length
            ? table(
                ['Call', 'Caller', 'Called', 'When', 'Lead'],
                page.items.map((c) => [
                  c.callId,
                  `${c.callerPhone.slice(0, 3)}••••${c.callerPhone.slice(-4)}`,
                  c.calledNumber,
                  fmtTime(c.calledAt),
                  h('a', { href: href(`/leads/${c.leadId}`) }, `#${c.leadId}`),
                ]),
              )
            : empty('No unprocessed calls.'),
          page.items.length
            ? h(
                'div',
                { class: 'row' },
                field('How many', limit),
                action(
                  'Process',
                  async () => {
                    const answer = await must(api.POST('/ivr/calls/process', { body: { limit: Number(limit.value) } }));
                    result.textContent = `Processed ${answer.processed}, skipped ${answer.skipped}, failed ${answer.failed}.`;
                    await drawCalls();
                    await drawAnalytics();
                  },
                  { class: 'primary' },
                ),
              )
            : null,
        ];
      });
    // Outside the redrawn list, so the outcome stays once the list shows what is left.
    const result = h('p', { role: 'status' });
    calls.after(result);
    void drawAnalytics();
    void drawCalls();
  },
};
