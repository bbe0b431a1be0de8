/**
 * The console: signed out, only the sign-in form (the API key is posted once, exchanged for an
 * HttpOnly session cookie, and never kept by the page); signed in, the navigation and the page the
 * URL names. Every page is a view over documented API routes (pages/).
 */
import './style.css';
import { api, ApiError, must, setCsrfToken, whenSignedOut, type Schemas } from './api';
import { field, h, input, replace, showErrors } from './dom';
import { NAV, PAGES } from './pages';
import { BASE, definePages, leavePage, matchPage, navigate, pageContext } from './router';

const app = document.getElementById('app')!;
let session: Schemas['ConsoleSession'] | undefined;

function signInView(message?: string): void {
  leavePage();
  document.title = 'Sign in · Dripline';
  const key = input('apiKey', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Dripline console'),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    field('API key', key, 'An admin or agent key (npm run apikey:create). It is exchanged for a session and not kept.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button')!;
    button.disabled = true;
    try {
      const signedIn = await must(api.POST('/session', { body: { apiKey: key.value } }));
      key.value = '';
      start(signedIn);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showErrors(form, new Error('That key was not accepted: it is not a valid API key, or it has been revoked.'));
      } else showErrors(form, error);
      key.focus();
    } finally {
      button.disabled = false;
    }
  });
  replace(app, h('main', { class: 'signin-page' }, form));
  key.focus();
}

async function signOut(): Promise<void> {
  await api.DELETE('/session');
  session = undefined;
  setCsrfToken('');
  history.pushState(null, '', `${BASE}/`);
  signInView('Signed out.');
}

function shell(current: Schemas['ConsoleSession']): { main: HTMLElement; nav: HTMLElement } {
  const nav = h('nav', { 'aria-label': 'Console' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  const menu = h(
    'button',
    { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav-list' },
    'Menu',
  );
  menu.addEventListener('click', () => {
    const open = menu.getAttribute('aria-expanded') !== 'true';
    menu.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
  replace(
    app,
    h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
    h(
      'header',
      { class: 'topbar' },
      h('a', { href: `${BASE}/`, class: 'brand' }, 'Dripline'),
      menu,
      h(
        'div',
        { class: 'who' },
        h('span', {}, current.name, ' · ', h('span', { class: 'badge' }, current.role)),
        h('button', { type: 'button', onclick: () => void signOut() }, 'Sign out'),
      ),
    ),
    h('div', { class: 'layout' }, nav, main),
  );
  return { main, nav };
}

function renderNav(nav: HTMLElement, current: Schemas['ConsoleSession']): void {
  const path = location.pathname.slice(BASE.length) || '/';
  replace(
    nav,
    h(
      'ul',
      { id: 'nav-list' },
      NAV.filter((item) => !item.adminOnly || current.role === 'admin').map((item) => {
        const active = item.path === '/' ? path === '/' : path.startsWith(item.path);
        return h(
          'li',
          {},
          h('a', { href: `${BASE}${item.path}`, 'aria-current': active ? 'page' : undefined }, item.label),
        );
      }),
    ),
  );
}

let layout: { main: HTMLElement; nav: HTMLElement } | undefined;

function render(): void {
  if (!session) return;
  leavePage();
  const found = matchPage();
  layout ??= shell(session);
  renderNav(layout.nav, session);
  layout.nav.classList.remove('open');
  const { main } = layout;
  if (!found) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No console page at this address.'));
    return;
  }
  const { page, params } = found;
  document.title = `${page.title} · Dripline`;
  if (page.adminOnly && session.role !== 'admin') {
    replace(
      main,
      h('h1', {}, page.title),
      h('p', { class: 'error', role: 'alert' }, 'This page needs the admin role; you are signed in as an agent.'),
    );
    return;
  }
  replace(main);
  void Promise.resolve(page.render(pageContext(main, params, session))).catch((error: unknown) =>
    main.append(h('p', { class: 'error', role: 'alert' }, String(error))),
  );
}

function start(signedIn: Schemas['ConsoleSession']): void {
  session = signedIn;
  setCsrfToken(signedIn.csrfToken);
  layout = undefined;
  render();
}

whenSignedOut(() => {
  if (!session) return;
  session = undefined;
  layout = undefined;
  signInView('Your session has ended. Sign in again.');
});

definePages(PAGES, render);
void (async () => {
  const { data } = await api.GET('/session');
  if (data) start(data);
  else signInView();
})();

export { navigate };
