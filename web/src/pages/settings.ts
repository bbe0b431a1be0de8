import { api, must, type Schemas } from '../api';
import { action, copyText, empty, field, fmtTime, h, input, onSubmit, section, table } from '../dom';
import type { Page } from '../router';
import { loadDeliveryRulesForm } from './delivery-rules';

function providerForm(settings: Schemas['InteraktSettings']): HTMLElement {
  // Secrets are write-only: the field starts empty and shows the masked value as its placeholder.
  const apiKey = input('apiKey', {
    type: 'password',
    autocomplete: 'off',
    placeholder: settings.apiKeySet
      ? `${settings.apiKey ?? '••••'} (${settings.apiKeySource}) — type to replace`
      : 'not set',
  });
  const webhookSecret = input('webhookSecret', {
    type: 'password',
    autocomplete: 'off',
    placeholder: settings.webhookSecretSet ? `${settings.webhookSecret ?? '••••'} — type to replace` : 'not set',
  });
  const enabled = input('enabled', { type: 'checkbox', checked: settings.enabled });
  const country = input('defaultCountryCode', { value: settings.defaultCountryCode ?? '', placeholder: '+91' });
  const welcome = input('welcomeOnCreate', { type: 'checkbox', checked: settings.welcomeOnCreate });
  const welcomeTemplate = input('welcomeTemplateName', { value: settings.welcomeTemplateName ?? '' });
  const saved = h('p', { role: 'status' });
  const form = h(
    'form',
    { class: 'card form', 'aria-label': 'Interakt settings' },
    h('h2', {}, 'Interakt'),
    field('Enabled', enabled),
    field('API key', apiKey, 'Write-only: stored encrypted and never shown again.'),
    field('Webhook secret', webhookSecret),
    field('Default country code', country),
    field('Send a welcome when a lead is created', welcome),
    field('Welcome template', welcomeTemplate),
    h('button', { type: 'submit', class: 'primary' }, 'Save settings'),
    saved,
  );
  onSubmit(form, async () => {
    saved.textContent = '';
    await must(
      api.PUT('/settings/interakt', {
        body: {
          enabled: enabled.checked,
          ...(apiKey.value && { apiKey: apiKey.value }),
          ...(webhookSecret.value && { webhookSecret: webhookSecret.value }),
          defaultCountryCode: country.value || null,
          welcomeOnCreate: welcome.checked,
          welcomeTemplateName: welcomeTemplate.value || null,
        },
      }),
    );
    apiKey.value = '';
    webhookSecret.value = '';
    saved.textContent = 'Saved.';
  });
  return form;
}

function webhookUrls(): HTMLElement {
  const urls = [
    ['Interakt', `${location.origin}/webhooks/interakt`],
    ['Meta Cloud API', `${location.origin}/webhooks/meta`],
    ['Infobip', `${location.origin}/webhooks/infobip`],
  ] as const;
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Webhook URLs'),
    h(
      'ul',
      {},
      urls.map(([name, url]) =>
        h(
          'li',
          {},
          `${name}: `,
          h('code', {}, url),
          ' ',
          action('Copy', () => copyText(url), { 'aria-label': `Copy the ${name} webhook URL` }),
        ),
      ),
    ),
  );
}

export const settingsPage: Page = {
  path: '/settings',
  title: 'Settings',
  adminOnly: true,
  async render({ main }) {
    const provider = h('div');
    const delivery = h('div');
    const keys = h('div');
    main.append(h('h1', {}, 'Settings'), provider, delivery, webhookUrls(), h('h2', {}, 'CTA link signing keys'), keys);
    void section(provider, async () => providerForm(await must(api.GET('/settings/interakt'))));
    void section(delivery, loadDeliveryRulesForm);
    const drawKeys = () =>
      section(keys, async () => {
        const list = await must(api.GET('/settings/cta-signing-keys'));
        return [
          list.keys.length
            ? table(
                ['Key id', 'Created', 'Current'],
                list.keys.map((k) => [k.kid, fmtTime(k.createdAt), k.current ? 'current' : '']),
              )
            : empty('No signing key yet: one is made with the first CTA link.'),
          action('Rotate signing key', async () => {
            await must(api.POST('/settings/cta-signing-keys/rotate'));
            await drawKeys();
          }),
        ];
      });
    void drawKeys();
  },
};
