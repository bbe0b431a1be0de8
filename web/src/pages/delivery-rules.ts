/**
 * The account's delivery rules on the settings page (`GET`/`PUT /settings/delivery`, admins only
 * like the page: agents can neither read nor change them). The form sends every field, so what is
 * saved is what is shown, and it leaves the checking to the API (`novalidate`): each issue of its
 * 400 appears beside the field it names.
 */
import { api, must, type Schemas } from '../api';
import { field, h, input, onSubmit, select } from '../dom';
import { splitDelay, UNITS } from './drips';

type Rules = Schemas['DeliverySettings'];
type Day = Schemas['SendWindow']['days'][number];
type ReplyTemplate = Schemas['KeywordReplyTemplate'];

/** ISO weekdays, as the API numbers them: 1 = Monday … 7 = Sunday. */
const DAYS: [Day, string][] = [
  [1, 'Mon'],
  [2, 'Tue'],
  [3, 'Wed'],
  [4, 'Thu'],
  [5, 'Fri'],
  [6, 'Sat'],
  [7, 'Sun'],
];

/** Comma- or line-separated text as a list, empty entries dropped. */
const listOf = (text: string): string[] =>
  text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean);

/** A template picker whose value is `language:name` (a language code has no colon), '' for none. */
function replyPicker(name: string, templates: Schemas['Template'][], current: ReplyTemplate | null) {
  const options: [string, string][] = templates.map((t) => [`${t.language}:${t.name}`, `${t.name} (${t.language})`]);
  const value = current ? `${current.templateLanguage}:${current.templateName}` : '';
  if (current && !options.some(([v]) => v === value))
    options.push([value, `${current.templateName} (${current.templateLanguage}, not approved now)`]);
  const picker = select(name, [['', 'None'], ...options], value);
  const read = (): ReplyTemplate | null => {
    if (!picker.value) return null;
    const colon = picker.value.indexOf(':');
    return { templateLanguage: picker.value.slice(0, colon), templateName: picker.value.slice(colon + 1) };
  };
  return { picker, read };
}

export function deliveryRulesForm(rules: Rules, templates: Schemas['Template'][]): HTMLElement {
  const timeZone = input('defaultTimeZone', {
    value: rules.defaultTimeZone,
    list: 'delivery-time-zones',
    autocomplete: 'off',
    spellcheck: false,
  });
  const zones = h(
    'datalist',
    { id: 'delivery-time-zones' },
    Intl.supportedValuesOf('timeZone').map((zone) => h('option', { value: zone })),
  );

  // With no window stored, the controls start on office hours for the admin to adjust.
  const windowOn = input('windowOn', { type: 'checkbox', checked: rules.window !== null });
  const dayBoxes = DAYS.map(([day, label]) => {
    const box = h('input', {
      type: 'checkbox',
      value: day,
      checked: (rules.window?.days ?? [1, 2, 3, 4, 5]).includes(day),
    });
    return { day, box, label: h('label', {}, box, label) };
  });
  const start = input('window.start', { type: 'time', value: rules.window?.start ?? '09:00' });
  const end = input('window.end', { type: 'time', value: rules.window?.end ?? '18:00' });
  const syncWindow = () => {
    for (const control of [start, end, ...dayBoxes.map((d) => d.box)]) control.disabled = !windowOn.checked;
  };
  windowOn.addEventListener('change', syncWindow);
  syncWindow();

  const capOn = input('capOn', { type: 'checkbox', checked: rules.frequencyCap !== null });
  const [periodAmount, periodUnit] = splitDelay(rules.frequencyCap?.periodSeconds ?? 86400);
  const capMax = input('frequencyCap.max', {
    type: 'number',
    min: 1,
    max: 50,
    step: 1,
    value: rules.frequencyCap?.max ?? 2,
  });
  const capPeriod = input('frequencyCap.periodSeconds', { type: 'number', min: 1, step: 1, value: periodAmount });
  const capUnit = select('frequencyCap.periodUnit', UNITS, periodUnit);
  const syncCap = () => {
    for (const control of [capMax, capPeriod, capUnit]) control.disabled = !capOn.checked;
  };
  capOn.addEventListener('change', syncCap);
  syncCap();

  const quietDates = h(
    'textarea',
    { name: 'quietDates', rows: 3, placeholder: '2026-12-25' },
    rules.quietDates.join('\n'),
  );
  const optOutKeywords = input('optOutKeywords', {
    value: rules.optOutKeywords.join(', '),
    placeholder: 'QUIT, CANCEL',
  });
  const optInKeywords = input('optInKeywords', { value: rules.optInKeywords.join(', '), placeholder: 'SUBSCRIBE' });
  const optOutReply = replyPicker('keywordReplies.optOut.templateName', templates, rules.keywordReplies.optOut);
  const optInReply = replyPicker('keywordReplies.optIn.templateName', templates, rules.keywordReplies.optIn);
  const retry = input('marketingLimitRetryMinutes', {
    type: 'number',
    min: 1,
    max: 1440,
    step: 1,
    value: rules.marketingLimitRetryMinutes ?? '',
  });

  const saved = h('p', { role: 'status' });
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Delivery rules', novalidate: true },
    h('h2', {}, 'Delivery rules'),
    h(
      'p',
      { class: 'muted' },
      'Every drip and campaign inherits these; a running drip reads them again before each step.',
    ),
    field('Default time zone', timeZone, 'For leads whose own zone is unknown: an IANA name such as Asia/Kolkata.'),
    zones,
    h(
      'fieldset',
      { class: 'group' },
      h('legend', {}, 'Send window'),
      field('Send only inside a window', windowOn),
      h(
        'fieldset',
        { class: 'plain', name: 'window.days', id: 'delivery-window-days' },
        h('legend', {}, 'Days'),
        dayBoxes.map((d) => d.label),
      ),
      // Named `window`: the API's "end must be after start" is an issue of the whole window.
      h(
        'fieldset',
        { class: 'plain', name: 'window', id: 'delivery-window-hours' },
        h('legend', {}, 'Hours'),
        field('From', start),
        field('To', end),
      ),
      h('small', { class: 'muted' }, "On each lead's clock; a message due outside waits for the next opening."),
    ),
    field('Quiet dates', quietDates, 'No marketing on these local dates: one YYYY-MM-DD per line.'),
    h(
      'fieldset',
      { class: 'group', name: 'frequencyCap', id: 'delivery-frequency-cap' },
      h('legend', {}, 'Frequency cap'),
      field('Cap marketing messages per lead', capOn),
      h('div', { class: 'row' }, field('At most', capMax), field('Messages per', capPeriod), field('Unit', capUnit)),
    ),
    field('Opt-out keywords', optOutKeywords, 'Comma-separated; STOP and UNSUBSCRIBE always opt a lead out.'),
    field('Opt-in keywords', optInKeywords, 'Comma-separated; START always opts a lead back in.'),
    field(
      'Opt-out confirmation',
      optOutReply.picker,
      "An approved template with no variable, or {{1}} = the lead's name; sent once per keyword message.",
    ),
    field('Opt-in confirmation', optInReply.picker),
    field(
      'Retry after the marketing limit (minutes)',
      retry,
      'How long a send Meta held back with 131049 waits before it is tried again (up to 1440). Empty: the step fails with meta_131049, for a retry by hand.',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Save delivery rules'),
    saved,
  );
  onSubmit(form, async () => {
    saved.textContent = '';
    await must(
      api.PUT('/settings/delivery', {
        body: {
          defaultTimeZone: timeZone.value.trim(),
          window: windowOn.checked
            ? { days: dayBoxes.filter((d) => d.box.checked).map((d) => d.day), start: start.value, end: end.value }
            : null,
          quietDates: listOf(quietDates.value),
          frequencyCap: capOn.checked
            ? { max: Number(capMax.value), periodSeconds: Number(capPeriod.value) * Number(capUnit.value) }
            : null,
          optOutKeywords: listOf(optOutKeywords.value),
          optInKeywords: listOf(optInKeywords.value),
          keywordReplies: { optOut: optOutReply.read(), optIn: optInReply.read() },
          marketingLimitRetryMinutes: retry.value === '' ? null : Number(retry.value),
        },
      }),
    );
    saved.textContent = 'Saved.';
  });
  return form;
}

export async function loadDeliveryRulesForm(): Promise<HTMLElement> {
  const [rules, templates] = await Promise.all([
    must(api.GET('/settings/delivery')),
    must(api.GET('/templates', { params: { query: { approvalStatus: 'Approved', pageSize: 500 } } })),
  ]);
  return deliveryRulesForm(rules, templates.items);
}
