/** A few DOM helpers instead of a framework: the console is forms, tables and a little SVG. */
import { ApiError } from './api';

type Child = Node | string | number | null | undefined | false;
/** Anything h() takes as children: nodes, text, nothing, and lists of those, nested. */
export type Content = Child | readonly Content[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** `h('button', { type: 'button', onclick }, 'Save')`: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Content[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Content[]): void {
  for (const child of children.flat(Infinity as 1) as Child[]) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: Content[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export const svgNs = 'http://www.w3.org/2000/svg';
export function s(
  tag: string,
  attrs: Record<string, string | number> = {},
  ...children: (Node | string)[]
): SVGElement {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child);
  return element;
}

export const loading = (what = 'Loading…') => h('p', { class: 'muted', role: 'status' }, what);
export const empty = (what: string) => h('p', { class: 'empty' }, what);

export function errorBox(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError && error.code ? ` (${error.code})` : '';
  return h('p', { class: 'error', role: 'alert' }, message + code);
}

/**
 * Runs `load` into `target`: a loading line first (not when refreshing content already shown, so
 * polling never flickers), the error in place of the content on failure.
 */
export async function section(target: HTMLElement, load: () => Promise<Content>): Promise<void> {
  if (!target.hasChildNodes()) replace(target, loading());
  try {
    replace(target, await load());
  } catch (error) {
    replace(target, errorBox(error));
  }
}

export function badge(text: string, tone = text): HTMLElement {
  return h('span', { class: `badge badge-${tone.toLowerCase().replace(/[^a-z_]/g, '')}` }, text);
}

export function fmtTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function fmtPercent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      caption ? h('caption', {}, caption) : null,
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell) => h('td', {}, cell)),
          ),
        ),
      ),
    ),
  );
}

let fieldCounter = 0;
/** A labelled control; `name` is the API's field path, so its 400 issues land beside it. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f${++fieldCounter}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('small', { id: hintId, class: 'muted' }, hint) : null,
  );
}

export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { name, ...attrs });
}

export function select(name: string, options: [string, string][], value = '', attrs: Attrs = {}): HTMLSelectElement {
  const element = h(
    'select',
    { name, ...attrs },
    options.map(([v, text]) => h('option', { value: v }, text)),
  );
  element.value = value;
  return element;
}

/**
 * The control named by an issue's path, or else by its nearest parent path: an issue about one
 * entry of a list (`quietDates.2`) lands on the list's control, saying which entry.
 */
function controlFor(form: HTMLElement, path: string): { control: HTMLElement; rest: string } | undefined {
  const parts = path.split('.');
  for (let length = parts.length; length > 0; length--) {
    const control = form.querySelector<HTMLElement>(`[name="${CSS.escape(parts.slice(0, length).join('.'))}"]`);
    if (control) return { control, rest: parts.slice(length).join('.') };
  }
  return undefined;
}

/** `2` → `entry 3`, `1.name` → `entry 2, name`: what is left of the path once its control is found. */
function describeRest(rest: string): string {
  return rest
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? `entry ${Number(part) + 1}` : part))
    .join(', ');
}

/**
 * Shows a failed call on its form: each field issue next to the control whose `name` is the
 * issue's path (the API's 400 names it, src/api/errors.ts), the rest at the top of the form.
 */
export function showErrors(form: HTMLElement, error: unknown, pathPrefix = ''): void {
  clearErrors(form);
  const general: string[] = [];
  const issues = error instanceof ApiError ? error.issues : [];
  for (const issue of issues) {
    const path = pathPrefix && issue.path.startsWith(pathPrefix) ? issue.path.slice(pathPrefix.length) : issue.path;
    const found = controlFor(form, path);
    if (found) {
      const { control, rest } = found;
      control.setAttribute('aria-invalid', 'true');
      const text = rest ? `${describeRest(rest)}: ${issue.message}` : issue.message;
      const message = h('small', { class: 'field-error', id: `${control.id}-error`, role: 'alert' }, text);
      control.setAttribute('aria-errormessage', message.id);
      control.insertAdjacentElement('afterend', message);
    } else general.push(`${issue.path}: ${issue.message}`);
  }
  if (issues.length === 0) general.push(error instanceof Error ? error.message : String(error));
  if (general.length) form.prepend(h('div', { class: 'error form-error', role: 'alert' }, general.join('; ')));
}

/**
 * A form's submit, handled the console's one way: no page load, the last attempt's errors
 * cleared, then `submit`; whatever that throws (an API refusal from `must`, a failed read) is shown
 * on the form, next to the fields it names (`showErrors`).
 */
export function onSubmit(form: HTMLElement, submit: () => Promise<void>): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await submit();
    } catch (error) {
      showErrors(form, error);
    }
  });
}

export function clearErrors(form: HTMLElement): void {
  form.querySelectorAll('.field-error, .form-error').forEach((node) => node.remove());
  form.querySelectorAll('[aria-invalid]').forEach((node) => node.removeAttribute('aria-invalid'));
}

/** A modal question; resolves true only on the confirming button. */
export function confirmDialog(question: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-label': question },
      h('p', {}, question),
      h(
        'form',
        { method: 'dialog', class: 'row' },
        h('button', { value: 'cancel', type: 'submit' }, 'Keep it'),
        h('button', { value: 'confirm', type: 'submit', class: 'danger' }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A button that disables itself while its action runs and shows the failure after it. */
export function action(label: string, run: () => Promise<unknown>, attrs: Attrs = {}): HTMLButtonElement {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    if (button.nextElementSibling?.classList.contains('error')) button.nextElementSibling.remove();
    try {
      await run();
    } catch (error) {
      button.insertAdjacentElement('afterend', errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export async function copyText(text: string): Promise<void> {
  await navigator.clipboard.writeText(text);
}
