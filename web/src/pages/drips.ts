import { api, must, type Schemas } from '../api';
import type { paths } from '../api/schema';
import {
  action,
  badge,
  confirmDialog,
  empty,
  errorBox,
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
import { href, navigate, type Page, type PageContext } from '../router';
import { segmentMemberIds } from './segments';
import { variablesOf } from './templates';

type Sequence = Schemas['SequenceWithSteps'];
type Assignment = Schemas['Assignment'];
type Source = { field: string } | { value: string };
type StepInput = paths['/sequences']['post']['requestBody']['content']['application/json']['steps'][number];

const LEAD_FIELDS = ['name', 'firstName', 'lastName', 'phone', 'email', 'status', 'stage'];
export const UNITS: [string, string][] = [
  ['60', 'minutes'],
  ['3600', 'hours'],
  ['86400', 'days'],
];
const ASSIGNMENT_STATUSES: [string, string][] = [
  ['', 'Any status'],
  ['pending', 'Pending'],
  ['active', 'Active'],
  ['paused', 'Paused'],
  ['completed', 'Completed'],
  ['cancelled', 'Cancelled'],
  ['failed', 'Failed'],
];

/** The Temporal UI of the dev server (`npm start`): same host, port 8233. */
export const temporalRunUrl = (workflowId: string) =>
  `${location.protocol}//${location.hostname}:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;

const countOf = async (sequenceId: number, status: 'active' | 'paused' | 'completed') =>
  (await must(api.GET('/assignments', { params: { query: { sequenceId, status, pageSize: 1 } } }))).total;

export const dripsPage: Page = {
  path: '/drips',
  title: 'Drips',
  async render({ main, query }) {
    const list = h('div');
    const archived = query.get('archived') === '1';
    main.append(
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Drip sequences'),
        h('a', { href: href('/drips/new'), class: 'button primary' }, 'New sequence'),
      ),
      h(
        'p',
        {},
        h(
          'a',
          { href: href('/drips', { archived: archived ? undefined : '1' }) },
          archived ? 'Hide archived' : 'Show archived',
        ),
      ),
      list,
    );
    await section(list, async () => {
      const page = await must(
        api.GET('/sequences', { params: { query: { pageSize: 100, includeArchived: archived ? 'true' : undefined } } }),
      );
      if (page.items.length === 0) return empty('No sequences yet. Create one to start a drip.');
      const rows = await Promise.all(
        page.items.map(async (sequence) => {
          const [live, paused, done] = await Promise.all([
            countOf(sequence.id, 'active'),
            countOf(sequence.id, 'paused'),
            countOf(sequence.id, 'completed'),
          ]);
          return [
            h('a', { href: href(`/drips/${sequence.id}`) }, sequence.name),
            sequence.archivedAt ? badge('archived') : `v${sequence.version}`,
            sequence.stopOnReply ? 'yes' : 'no',
            h('a', { href: href(`/drips/${sequence.id}`, { status: 'active' }) }, String(live)),
            h('a', { href: href(`/drips/${sequence.id}`, { status: 'paused' }) }, String(paused)),
            h('a', { href: href(`/drips/${sequence.id}`, { status: 'completed' }) }, String(done)),
          ];
        }),
      );
      return table(['Sequence', 'Version', 'Stops on reply', 'Live', 'Paused', 'Done'], rows);
    });
  },
};

export function splitDelay(seconds: number): [number, string] {
  if (seconds > 0 && seconds % 86400 === 0) return [seconds / 86400, '86400'];
  if (seconds > 0 && seconds % 3600 === 0) return [seconds / 3600, '3600'];
  return [Math.round(seconds / 60), '60'];
}

/**
 * A source for each {{n}} of the chosen template (a lead field, a custom field or fixed text) and
 * the template's body as a preview; drip steps and campaigns map their variables with it.
 */
export function variableMapper(
  prefix: string,
  templates: Schemas['Template'][],
  template: HTMLSelectElement,
  existing: readonly unknown[],
): { element: HTMLElement; preview: HTMLElement; read(): Source[] } {
  const variables = h('div', { class: 'variables' });
  const preview = h('p', { class: 'muted bubble-inline' });
  const drawVariables = () => {
    const chosen = templates.find((t) => t.name === template.value);
    replace(preview, chosen ? chosen.body : '');
    const numbers = chosen ? variablesOf(chosen.body) : [];
    replace(
      variables,
      numbers.map((n, i) => {
        const source = existing[i] as Source | undefined;
        const kind = select(
          `${prefix ? `${prefix}.` : ''}variables.body.${i}`,
          [
            ...LEAD_FIELDS.map((f): [string, string] => [`field:${f}`, `lead ${f}`]),
            ['value', 'fixed text'],
            ['custom', 'custom field'],
          ],
          source && 'value' in source
            ? 'value'
            : source && source.field.startsWith('custom.')
              ? 'custom'
              : `field:${source?.field ?? 'name'}`,
        );
        const text = input(`${prefix ? `${prefix}.` : ''}variables.body.${i}.text`, {
          value:
            source && 'value' in source
              ? source.value
              : source?.field.startsWith('custom.')
                ? source.field.slice(7)
                : '',
          placeholder: 'text or custom field name',
          'aria-label': `{{${n}}} text or custom field`,
        });
        const sync = () => (text.hidden = !(kind.value === 'value' || kind.value === 'custom'));
        kind.addEventListener('change', sync);
        sync();
        return h('div', { class: 'row' }, field(`{{${n}}} from`, kind), text);
      }),
    );
  };
  template.addEventListener('change', drawVariables);
  drawVariables();
  const read = (): Source[] =>
    [...variables.querySelectorAll<HTMLSelectElement>('select')].map((kind) => {
      const text = (kind.closest('.row')!.querySelector('input') as HTMLInputElement).value;
      if (kind.value === 'value') return { value: text };
      if (kind.value === 'custom') return { field: `custom.${text}` };
      return { field: kind.value.slice('field:'.length) };
    });
  return { element: variables, preview, read };
}

/** One step: template picker with preview, delay with its unit, a source for each {{n}}. */
function stepEditor(
  index: number,
  templates: Schemas['Template'][],
  step: Partial<StepInput> | undefined,
  onRemove: () => void,
) {
  const prefix = `steps.${index}`;
  const template = select(
    `${prefix}.templateName`,
    [['', 'Choose a template'], ...templates.map((t): [string, string] => [t.name, `${t.name} (${t.language})`])],
    step?.templateName ?? '',
    { required: true },
  );
  const [amount, unit] = splitDelay(step?.delaySeconds ?? 0);
  const delay = input(`${prefix}.delaySeconds`, { type: 'number', min: 0, step: 1, value: amount, required: true });
  const delayUnit = select(`${prefix}.delayUnit`, UNITS, unit, { 'aria-label': `Step ${index + 1} delay unit` });
  const mapper = variableMapper(prefix, templates, template, step?.variables?.body ?? []);

  const element = h(
    'fieldset',
    { class: 'step card', 'data-step': index },
    h('legend', {}, `Step ${index + 1}`),
    field('Template', template),
    mapper.preview,
    h(
      'div',
      { class: 'row' },
      field(index === 0 ? 'Delay after enrolment' : 'Delay after the previous step', delay),
      field('Unit', delayUnit),
    ),
    mapper.element,
    h('button', { type: 'button', onclick: onRemove, class: 'link' }, `Remove step ${index + 1}`),
  );
  const read = (): StepInput => {
    const body = mapper.read();
    return {
      templateName: template.value,
      delaySeconds: Number(delay.value) * Number(delayUnit.value),
      ...(body.length && { variables: { body: body as never } }),
    };
  };
  return { element, read };
}

async function sequenceForm(context: PageContext, existing: Sequence | undefined): Promise<HTMLElement> {
  const templates = (
    await must(api.GET('/templates', { params: { query: { approvalStatus: 'Approved', pageSize: 500 } } }))
  ).items;
  const name = input('name', { value: existing?.name ?? '', required: true, maxlength: 200 });
  const description = h('textarea', { name: 'description', rows: 2 }, existing?.description ?? '');
  const stopOnReply = input('stopOnReply', { type: 'checkbox', checked: existing?.stopOnReply ?? true });
  const stepsHolder = h('div');
  let steps: Partial<StepInput>[] = existing?.steps.map((s) => ({
    templateName: s.templateName,
    delaySeconds: s.delaySeconds,
    variables: s.variables as never,
  })) ?? [{ delaySeconds: 0 }];
  let editors: ReturnType<typeof stepEditor>[] = [];
  const draw = () => {
    editors = steps.map((step, i) =>
      stepEditor(i, templates, step, () => {
        steps = editors.map((e) => e.read()).filter((_s, j) => j !== i);
        draw();
      }),
    );
    replace(
      stepsHolder,
      editors.map((e) => e.element),
    );
  };
  draw();
  const addStep = h('button', { type: 'button' }, 'Add step');
  addStep.addEventListener('click', () => {
    steps = [...editors.map((e) => e.read()), { delaySeconds: 86400 }];
    draw();
  });
  const form = h(
    'form',
    { class: 'form', 'aria-label': existing ? 'Edit sequence' : 'New sequence' },
    field('Name', name),
    field('Description', description),
    field('Stop when the lead replies', stopOnReply),
    h('h2', {}, 'Steps'),
    stepsHolder,
    addStep,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, existing ? 'Save as new version' : 'Create sequence'),
    ),
  );
  onSubmit(form, async () => {
    const body = {
      name: name.value,
      description: description.value || undefined,
      stopOnReply: stopOnReply.checked,
      steps: editors.map((e) => e.read()),
    };
    const saved = existing
      ? await must(api.PATCH('/sequences/{id}', { params: { path: { id: existing.id } }, body }))
      : await must(api.POST('/sequences', { body }));
    navigate(href(`/drips/${saved.id}`));
  });
  void context;
  return form;
}

export const sequenceEditorPage: Page = {
  path: '/drips/new',
  title: 'New sequence',
  async render(context) {
    const holder = h('div');
    context.main.append(h('h1', {}, 'New sequence'), holder);
    await section(holder, () => sequenceForm(context, undefined));
  },
};

function assignForm(sequence: Sequence, onDone: () => void): HTMLElement {
  const leads = input('leadIds', { placeholder: 'e.g. 12, 15, 31', inputmode: 'numeric' });
  const segment = select('segmentId', [['', 'No segment: the lead ids above']], '');
  // The assign route takes lead ids: a segment's members are read and assigned as they are now.
  void api
    .GET('/segments', { params: { query: { pageSize: 100 } } })
    .then(({ data }) => segment.append(...(data?.items ?? []).map((sg) => h('option', { value: sg.id }, sg.name))));
  const result = h('div', { role: 'status' });
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Assign to leads' },
    h('h2', {}, 'Assign to leads'),
    field('Lead ids', leads, 'Comma-separated; find ids on the Leads page. Up to 10,000.'),
    field(
      'Or a segment',
      segment,
      'Its members as they are now (up to 10,000); leads who join later are not enrolled.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Assign'),
    result,
  );
  onSubmit(form, async () => {
    replace(result);
    const leadIds = segment.value
      ? (await segmentMemberIds(Number(segment.value))).ids
      : leads.value
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number);
    const answer = await must(
      api.POST('/sequences/{id}/assignments', { params: { path: { id: sequence.id } }, body: { leadIds } }),
    );
    replace(
      result,
      h('p', {}, `Started ${answer.started}, skipped ${answer.skipped}.`),
      answer.skippedLeads.length
        ? table(
            ['Lead', 'Skipped because'],
            answer.skippedLeads.map((s) => [
              h('a', { href: href(`/leads/${s.leadId}`) }, `#${s.leadId}`),
              s.reason.replace(/_/g, ' '),
            ]),
          )
        : null,
    );
    onDone();
  });
  return form;
}

/** Pause, resume and cancel (after a confirmation) one assignment; `after` redraws. */
export function assignmentActions(assignment: Assignment, after: () => void): HTMLElement {
  const act = (verb: 'pause' | 'resume' | 'cancel') =>
    must(
      api.POST('/assignments/{id}/{action}', { params: { path: { id: assignment.id, action: verb } }, body: {} }),
    ).then(after);
  const live = ['pending', 'active', 'paused'].includes(assignment.status);
  return h(
    'div',
    { class: 'row actions' },
    assignment.status === 'active'
      ? action('Pause', () => act('pause'), { 'aria-label': `Pause assignment ${assignment.id}` })
      : null,
    assignment.status === 'paused'
      ? action('Resume', () => act('resume'), { 'aria-label': `Resume assignment ${assignment.id}` })
      : null,
    live
      ? action(
          'Cancel',
          async () => {
            if (
              await confirmDialog(
                `Cancel assignment #${assignment.id}? Its remaining steps will not be sent.`,
                'Cancel the drip',
              )
            )
              await act('cancel');
          },
          { class: 'danger', 'aria-label': `Cancel assignment ${assignment.id}` },
        )
      : null,
    assignment.workflowId
      ? h('a', { href: temporalRunUrl(assignment.workflowId), target: '_blank', rel: 'noopener' }, 'Temporal run')
      : null,
  );
}

function assignmentsTable(context: PageContext, sequenceId: number | undefined, leadId?: number): HTMLElement {
  const holder = h('div');
  const status = select('status', ASSIGNMENT_STATUSES, context.query.get('status') ?? '', {
    'aria-label': 'Assignment status',
  });
  status.addEventListener('change', () => context.setQuery({ status: status.value }));
  const draw = () =>
    section(holder, async () => {
      const page = await must(
        api.GET('/assignments', {
          params: {
            query: {
              sequenceId,
              leadId,
              pageSize: 100,
              status: (context.query.get('status') || undefined) as 'active' | undefined,
            },
          },
        }),
      );
      if (page.items.length === 0) return empty('No assignments match.');
      return table(
        ['Assignment', 'Lead', 'Status', 'Step', 'Next send', ''],
        page.items.map((a) => [
          h('a', { href: href(`/assignments/${a.id}`) }, `#${a.id}`),
          h('a', { href: href(`/leads/${a.leadId}`) }, `lead #${a.leadId}`),
          badge(a.status),
          `${Math.min(a.nextStep + 1, a.totalSteps)} of ${a.totalSteps}`,
          fmtTime(a.nextSendAt),
          assignmentActions(a, () => void draw()),
        ]),
      );
    });
  void draw();
  // Progress that updates itself while the page is open.
  const timer = setInterval(() => void draw(), 5000);
  context.onLeave(() => clearInterval(timer));
  return h(
    'section',
    {},
    h('div', { class: 'page-head' }, h('h2', {}, 'Assignments'), field('Status', status)),
    holder,
  );
}

/** Per step: how many assignments reached it, and of those sends, delivered, read and replied, as bars. */
function funnelSection(sequenceId: number): HTMLElement {
  const holder = h('div', { class: 'card' });
  void section(holder, async () => {
    const funnel = await must(api.GET('/analytics/drips/{sequenceId}/funnel', { params: { path: { sequenceId } } }));
    const max = Math.max(1, funnel.outcomes.assignments, ...funnel.steps.map((step) => step.reached));
    const bar = (value: number, className: string) => {
      const cell = h('span', { class: `funnel-cell ${className}` }, String(value));
      // Through the CSSOM: the console's CSP refuses style attributes.
      cell.style.setProperty('--share', `${(value / max) * 100}%`);
      return cell;
    };
    return [
      h('h2', {}, 'Funnel'),
      funnel.steps.length === 0
        ? empty('No step has been sent yet.')
        : table(
            ['Step', 'Template', 'Reached', 'Delivered', 'Read', 'Replied', 'Failed', 'Reply rate'],
            funnel.steps.map((step) => [
              step.stepIndex + 1,
              step.templateName ?? '—',
              bar(step.reached, 'series-sent'),
              bar(step.delivered, 'series-delivered'),
              bar(step.read, 'series-read'),
              bar(step.replied, 'series-replied'),
              step.failed,
              fmtPercent(step.replyRate),
            ]),
            `Drip funnel: ${funnel.outcomes.assignments} assignments, ${funnel.outcomes.completed} completed, ${funnel.outcomes.cancelled} cancelled`,
          ),
    ];
  });
  return holder;
}

export const sequencePage: Page = {
  path: '/drips/:id',
  title: 'Sequence',
  async render(context) {
    const id = Number(context.params.id);
    const holder = h('div');
    context.main.append(holder);
    await section(holder, async () => {
      const sequence = await must(api.GET('/sequences/{id}', { params: { path: { id } } }));
      const editing = context.query.get('edit') === '1';
      return [
        h(
          'div',
          { class: 'page-head' },
          h('h1', {}, sequence.name, ' ', h('small', { class: 'muted' }, `v${sequence.version}`)),
          editing ? null : h('a', { href: href(`/drips/${id}`, { edit: '1' }), class: 'button' }, 'Edit steps'),
        ),
        editing
          ? await sequenceForm(context, sequence)
          : table(
              ['Step', 'Template', 'Delay', 'Variables'],
              sequence.steps.map((step, i) => {
                const [amount, unit] = splitDelay(step.delaySeconds);
                return [
                  i + 1,
                  step.templateName,
                  `${amount} ${UNITS.find(([u]) => u === unit)![1]}`,
                  (step.variables.body ?? []).map((s) => ('field' in s ? s.field : `"${s.value}"`)).join(', '),
                ];
              }),
            ),
        editing ? null : funnelSection(id),
        sequence.archivedAt
          ? errorBox(new Error('Archived: no new assignments.'))
          : assignForm(sequence, () => undefined),
        assignmentsTable(context, id),
      ];
    });
  },
};

export const assignmentPage: Page = {
  path: '/assignments/:id',
  title: 'Assignment',
  async render(context) {
    const id = Number(context.params.id);
    const holder = h('div');
    context.main.append(holder);
    const draw = (): Promise<void> =>
      section(holder, async () => {
        const a = await must(api.GET('/assignments/{id}', { params: { path: { id }, query: { live: 'true' } } }));
        return [
          h('h1', {}, `Assignment #${a.id} `, badge(a.status)),
          h(
            'p',
            {},
            h('a', { href: href(`/drips/${a.sequenceId}`) }, `Sequence #${a.sequenceId} v${a.sequenceVersion}`),
            ' · ',
            h('a', { href: href(`/leads/${a.leadId}`) }, `Lead #${a.leadId}`),
            ` · step ${Math.min(a.nextStep + 1, a.totalSteps)} of ${a.totalSteps} · next send ${fmtTime(a.nextSendAt)}`,
          ),
          a.lastError ? h('p', { class: 'error' }, a.lastError) : null,
          assignmentActions(a, () => void draw()),
          h('h2', {}, 'Events'),
          table(
            ['When', 'Event', 'Step', 'Detail'],
            a.events.map((e) => [fmtTime(e.at), e.event, e.stepIndex === null ? '' : e.stepIndex + 1, e.detail ?? '']),
          ),
          h('h2', {}, 'Messages'),
          a.messages.length
            ? table(
                ['Template', 'Status', 'Sent', 'Error'],
                a.messages.map((m) => [m.templateName ?? '', badge(m.status), fmtTime(m.sentAt), m.errorMessage ?? '']),
              )
            : empty('Nothing sent yet.'),
        ];
      });
    await draw();
    const timer = setInterval(() => void draw(), 5000);
    context.onLeave(() => clearInterval(timer));
  },
};
