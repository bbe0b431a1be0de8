/**
 * Every page and every filter is a URL under /console (deep links): the path picks the page, the
 * query string holds its filters, and a filter change replaces the URL so the back button and a
 * shared link show the same view. Pages register what to stop (polling, event streams) on leave.
 */
import type { Schemas } from './api';

export const BASE = '/console';

export interface PageContext {
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  session: Schemas['ConsoleSession'];
  /** Runs when the page is left. */
  onLeave(stop: () => void): void;
  /** Sets the page's filters in the URL (without a new history entry) and renders again. */
  setQuery(values: Record<string, string | undefined>): void;
}

export interface Page {
  path: string;
  title: string;
  /** Admin-only pages are hidden from agents (the API refuses them anyway). */
  adminOnly?: boolean;
  render(context: PageContext): void | Promise<void>;
}

interface CompiledPage extends Page {
  pattern: RegExp;
  keys: string[];
}

let pages: CompiledPage[] = [];
let stops: (() => void)[] = [];
let renderCurrent: () => void = () => undefined;

export function definePages(list: Page[], render: () => void): void {
  pages = list.map((page) => {
    const keys: string[] = [];
    const source = page.path.replace(/:([a-zA-Z]+)/g, (_m, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    return { ...page, pattern: new RegExp(`^${source}/?$`), keys };
  });
  renderCurrent = render;
  window.addEventListener('popstate', () => renderCurrent());
  document.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    const href = link.getAttribute('href');
    if (!href?.startsWith(`${BASE}/`) || link.target) return;
    event.preventDefault();
    navigate(href);
  });
}

export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return `${BASE}${path}${text ? `?${text}` : ''}`;
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  renderCurrent();
}

export function leavePage(): void {
  for (const stop of stops) stop();
  stops = [];
}

export function matchPage(): { page: CompiledPage; params: Record<string, string> } | undefined {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  for (const page of pages) {
    const match = page.pattern.exec(path);
    if (match) {
      const params: Record<string, string> = {};
      page.keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1] ?? '')));
      return { page, params };
    }
  }
  return undefined;
}

export function pageContext(
  main: HTMLElement,
  params: Record<string, string>,
  session: Schemas['ConsoleSession'],
): PageContext {
  return {
    main,
    params,
    query: new URLSearchParams(location.search),
    session,
    onLeave: (stop) => stops.push(stop),
    setQuery(values) {
      const query = new URLSearchParams(location.search);
      for (const [key, value] of Object.entries(values)) {
        if (value === undefined || value === '') query.delete(key);
        else query.set(key, value);
      }
      const text = query.toString();
      navigate(`${location.pathname}${text ? `?${text}` : ''}`, true);
    },
  };
}
