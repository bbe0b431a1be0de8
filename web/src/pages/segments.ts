/**
 * Segments: a saved filter over leads. The builder's filter lives in the URL (deep links) and is
 * counted and previewed by the API as it changes (POST /segments/preview); a saved segment's page
 * lists its members and assigns a drip to them. The assign route takes lead ids, not a segment, so
 * the console reads the segment's members (up to the route's 10,000) and assigns those ids.
 */
import { api, must, type Schemas } from '../api';
import {
  action,
  clearErrors,
  confirmDialog,
  empty,
  field,
  h,
  input,
  onSubmit,
  replace,
  section,
  select,
  showErrors,
  table,
} from '../dom';
import { href, navigate, type Page } from '../router';
import { pager } from './audit';

type Filter = Schemas['SegmentFilter'];
/** The assign route's own ceiling (MAX_LEADS_PER_ASSIGNMENT). */
const MAX_ASSIGN = 10_000;
const MEMBER_PAGE = 500;
/** How long the builder waits after the last keystroke before it asks for a count. */
const COUNT_DEBOUNCE_MS = 300;

const list = (text: string | null) =>
  (text ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** The filter the URL holds: statuses, stages and sources as comma lists, dates, flags. */
function filterOf(query: URLSearchParams): Filter {
  const filter: Filter = {};
  if (list(query.get('statuses')).length) filter.statuses = list(query.get('statuses'));
  if (list(query.get('stages')).length) filter.stages = list(query.get('stages'));
  if (list(query.get('sources')).length) filter.sources = list(query.get('sources'));
  if (query.get('createdFrom')) filter.createdFrom = query.get('createdFrom')!;
  if (query.get('createdTo')) filter.createdTo = query.get('createdTo')!;
  if (query.get('neverContacted') === '1') filter.neverContacted = true;
  if (query.get('includeOptedOut') === '1') filter.includeOptedOut = true;
  return filter;
}

const membersTable = (leads: Schemas['Lead'][]) =>
  table(
    ['Lead', 'Status', 'Stage', 'Source'],
    leads.map((lead) => [
      h('a', { href: href(`/leads/${lead.id}`) }, lead.name),
      lead.status,
      lead.stage,
      lead.source ?? '',
    ]),
  );

export const segmentsPage: Page = {
  path: '/segments',
  title: 'Segments',
  async render(context) {
    const { main, query } = context;
    const controls = {
      statuses: input('filter.statuses', { value: query.get('statuses') ?? '', placeholder: 'New, Interested' }),
      stages: input('filter.stages', { value: query.get('stages') ?? '' }),
      sources: input('filter.sources', { value: query.get('sources') ?? '', placeholder: 'import, website' }),
      createdFrom: input('filter.createdFrom', { type: 'date', value: (query.get('createdFrom') ?? '').slice(0, 10) }),
      createdTo: input('filter.createdTo', { type: 'date', value: (query.get('createdTo') ?? '').slice(0, 10) }),
      neverContacted: input('filter.neverContacted', {
        type: 'checkbox',
        checked: query.get('neverContacted') === '1',
      }),
      includeOptedOut: input('filter.includeOptedOut', {
        type: 'checkbox',
        checked: query.get('includeOptedOut') === '1',
      }),
    };
    const name = input('name', { maxlength: 200, required: true });
    const count = h('p', { role: 'status', class: 'stat-inline' });
    const preview = h('div');
    const builder = h(
      'form',
      { class: 'card form', 'aria-label': 'Segment filter' },
      h('h2', {}, 'New segment'),
      h(
        'div',
        { class: 'filters' },
        field('Statuses', controls.statuses, 'Comma-separated; any of them.'),
        field('Stages', controls.stages),
        field('Sources', controls.sources),
        field('Created from', controls.createdFrom),
        field('Created to', controls.createdTo),
        field('Never contacted', controls.neverContacted),
        field('Include opted-out leads', controls.includeOptedOut),
      ),
      count,
      preview,
      field('Segment name', name),
      h('button', { type: 'submit', class: 'primary' }, 'Save segment'),
    );

    const day = (value: string, end = false) =>
      value ? new Date(`${value}T${end ? '23:59:59' : '00:00:00'}Z`).toISOString() : undefined;
    const toQuery = () => ({
      statuses: controls.statuses.value,
      stages: controls.stages.value,
      sources: controls.sources.value,
      createdFrom: day(controls.createdFrom.value),
      createdTo: day(controls.createdTo.value, true),
      neverContacted: controls.neverContacted.checked ? '1' : undefined,
      includeOptedOut: controls.includeOptedOut.checked ? '1' : undefined,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let asked = 0;
    const recount = async () => {
      const values = toQuery();
      // The URL follows the builder without re-rendering it (typing keeps its focus).
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(values)) if (value) search.set(key, value);
      history.replaceState(null, '', href('/segments') + (search.toString() ? `?${search}` : ''));
      const ask = ++asked;
      clearErrors(builder);
      try {
        const answer = await must(
          api.POST('/segments/preview', {
            params: { query: { pageSize: 10 } },
            body: { filter: filterOf(search) },
          }),
        );
        if (ask !== asked) return;
        replace(
          count,
          `${answer.count.members} leads match`,
          answer.count.excludedOptedOut ? ` (${answer.count.excludedOptedOut} opted out left out)` : '',
        );
        replace(
          preview,
          answer.members.items.length ? membersTable(answer.members.items) : empty('No lead matches this filter.'),
        );
      } catch (error) {
        if (ask === asked) showErrors(builder, error);
      }
    };
    builder.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void recount(), COUNT_DEBOUNCE_MS);
    });
    context.onLeave(() => clearTimeout(timer));
    onSubmit(builder, async () => {
      const saved = await must(
        api.POST('/segments', {
          body: { name: name.value, filter: filterOf(new URLSearchParams(location.search)) },
        }),
      );
      navigate(href(`/segments/${saved.id}`));
    });

    const saved = h('div');
    main.append(h('h1', {}, 'Segments'), saved, builder);
    void recount();
    await section(saved, async () => {
      const segments = await must(api.GET('/segments', { params: { query: { pageSize: 100 } } }));
      if (segments.items.length === 0) return empty('No segments yet. Build a filter below and save it.');
      return table(
        ['Segment', 'Description', 'Created'],
        segments.items.map((segment) => [
          h('a', { href: href(`/segments/${segment.id}`) }, segment.name),
          segment.description ?? '',
          new Date(segment.createdAt).toLocaleDateString(),
        ]),
      );
    });
  },
};

/** The member ids of a segment, page by page, up to what one assign call takes. */
export async function segmentMemberIds(id: number): Promise<{ ids: number[]; total: number }> {
  const ids: number[] = [];
  let total = 0;
  for (let page = 1; ids.length < MAX_ASSIGN; page++) {
    const members = await must(
      api.GET('/segments/{id}/members', { params: { path: { id }, query: { page, pageSize: MEMBER_PAGE } } }),
    );
    total = members.total;
    ids.push(...members.items.map((lead) => lead.id));
    if (members.items.length < MEMBER_PAGE) break;
  }
  return { ids: ids.slice(0, MAX_ASSIGN), total };
}

export const segmentPage: Page = {
  path: '/segments/:id',
  title: 'Segment',
  async render(context) {
    const { main, params, query } = context;
    const id = Number(params.id);
    const page = Math.max(1, Number(query.get('page')) || 1);
    const head = h('div');
    const assign = h('div');
    const members = h('div');
    main.append(head, assign, h('h2', {}, 'Members'), members);
    await Promise.all([
      section(head, async () => {
        const segment = await must(api.GET('/segments/{id}', { params: { path: { id } } }));
        return [
          h(
            'div',
            { class: 'page-head' },
            h('h1', {}, segment.name),
            h('a', { href: href('/campaigns/new', { segmentId: id }), class: 'button primary' }, 'New campaign'),
          ),
          h(
            'p',
            { class: 'muted' },
            `${segment.count.members} members now. `,
            h('a', { href: href('/segments') }, '← All segments'),
          ),
          // Agents may delete segments too (the API's rule); one a campaign uses is refused with 409.
          action(
            'Delete segment',
            async () => {
              if (!(await confirmDialog(`Delete the segment “${segment.name}”?`, 'Delete it'))) return;
              await must(api.DELETE('/segments/{id}', { params: { path: { id } } }));
              navigate(href('/segments'));
            },
            { class: 'danger' },
          ),
        ];
      }),
      section(assign, async () => {
        const sequences = await must(api.GET('/sequences', { params: { query: { pageSize: 100 } } }));
        const sequence = select(
          'sequenceId',
          [['', 'Choose a sequence'], ...sequences.items.map((sq): [string, string] => [String(sq.id), sq.name])],
          '',
          { required: true },
        );
        const result = h('div', { role: 'status' });
        const form = h(
          'form',
          { class: 'card form', 'aria-label': 'Assign a drip to this segment' },
          h('h2', {}, 'Assign a drip'),
          field(
            'Drip sequence',
            sequence,
            `Assigns the segment's members as they are now (up to ${MAX_ASSIGN.toLocaleString()}); leads who join later are not enrolled.`,
          ),
          h('button', { type: 'submit', class: 'primary' }, 'Assign to members'),
          result,
        );
        onSubmit(form, async () => {
          replace(result);
          const { ids, total } = await segmentMemberIds(id);
          if (ids.length === 0) {
            replace(result, empty('The segment has no members to assign.'));
            return;
          }
          const answer = await must(
            api.POST('/sequences/{id}/assignments', {
              params: { path: { id: Number(sequence.value) } },
              body: { leadIds: ids },
            }),
          );
          replace(
            result,
            h(
              'p',
              {},
              `Started ${answer.started}, skipped ${answer.skipped}`,
              total > ids.length ? ` (the first ${ids.length} of ${total} members).` : '.',
            ),
          );
        });
        return form;
      }),
      section(members, async () => {
        const answer = await must(
          api.GET('/segments/{id}/members', { params: { path: { id }, query: { page, pageSize: 50 } } }),
        );
        if (answer.items.length === 0) return empty('No lead matches this segment now.');
        return [membersTable(answer.items), pager(page, answer.total, 50, (p) => href(`/segments/${id}`, { page: p }))];
      }),
    ]);
  },
};
