import type { CountryCode } from 'libphonenumber-js';
import type { Db } from '../db/client';
import { secretsUnavailable, type SecretBox } from './secret-box';
import {
  defaultCountryOf,
  maskSecret,
  readInteraktOptions,
  readInteraktSettings,
  writeInteraktSettings,
  type InteraktSettings,
} from './provider-settings';
import { checkSequenceSteps } from '../templates/check';
import { AppError, InvalidInputError } from '../errors';
import { UpdateInteraktSettingsBody } from './schemas';
import { ApiRouter } from '../api/route';
import { InteraktSettingsResponse } from './schemas';

export interface SettingsDeps {
  db: Db;
  secretBox: SecretBox;
  defaultCountry: CountryCode;
  /** The environment's values, in force while MasterData holds none. */
  interaktApiKey?: string | undefined;
  interaktWebhookSecret?: string | undefined;
  checkResponses: boolean;
}

/** `/settings/interakt`: secrets go in, and come out only masked. */
export function settingsRouter(deps: SettingsDeps): ApiRouter {
  const routes = new ApiRouter({ tag: 'Settings', checkResponses: deps.checkResponses, writeRole: 'admin' });
  const fallback = { apiKey: deps.interaktApiKey, webhookSecret: deps.interaktWebhookSecret };
  const current = () => readInteraktSettings(deps.db, deps.secretBox, fallback).catch(secretsUnavailable);

  routes.get(
    '/interakt',
    {
      role: 'admin',
      summary: 'The Interakt settings (secrets masked)',
      responses: {
        200: InteraktSettingsResponse,
        503: { description: 'DRIPLINE_SECRET_KEY is not set: stored secrets cannot be read' },
      },
    },
    async (_input, res) => {
      res.json(publicSettings(await current(), deps.defaultCountry));
    },
  );

  routes.put(
    '/interakt',
    {
      summary: 'Change the Interakt settings',
      description:
        'Secrets are write-only and encrypted; null removes a value. A welcome template is checked against Message Master.',
      body: UpdateInteraktSettingsBody,
      responses: {
        200: InteraktSettingsResponse,
        503: { description: 'DRIPLINE_SECRET_KEY is not set: secrets cannot be stored' },
      },
    },
    async ({ body }, res) => {
      const merged = { ...(await readInteraktOptions(deps.db)), ...body };
      if (merged.welcomeOnCreate && !merged.welcomeTemplateName) {
        throw new InvalidInputError([
          { location: 'body', path: 'welcomeTemplateName', message: 'is required while welcomeOnCreate is on' },
        ]);
      }
      if (merged.welcomeOnCreate && merged.welcomeTemplateName) {
        // The welcome's use of its template, checked now as a sequence's steps are: {{1}} = the
        // lead's name, and the configured document (else the template's default media).
        const issues = await checkSequenceSteps(deps.db, [
          {
            templateName: merged.welcomeTemplateName,
            templateLanguage: merged.welcomeTemplateLanguage,
            variables: {
              body: [{ field: 'name' }],
              ...(merged.welcomeHeaderMediaUrl && { header: [{ value: merged.welcomeHeaderMediaUrl }] }),
            },
          },
        ]);
        if (issues.length > 0) {
          throw new InvalidInputError(
            issues.map((issue) => ({ location: 'body', path: 'welcomeTemplateName', message: issue.message })),
          );
        }
      }
      if ((body.apiKey || body.webhookSecret) && !deps.secretBox.available) {
        throw new AppError(
          'unavailable',
          'secret_key_missing',
          'secrets cannot be stored: DRIPLINE_SECRET_KEY is not set',
        );
      }
      await writeInteraktSettings(deps.db, deps.secretBox, body).catch(secretsUnavailable);
      res.json(publicSettings(await current(), deps.defaultCountry));
    },
  );

  return routes;
}

function publicSettings(settings: InteraktSettings, fallbackCountry: CountryCode) {
  const { apiKey, webhookSecret, ...rest } = settings;
  return {
    ...rest,
    /** The ISO country phones typed without a country code are read as. */
    defaultCountry: defaultCountryOf(settings, fallbackCountry),
    apiKey: apiKey === null ? null : maskSecret(apiKey),
    apiKeySet: apiKey !== null,
    webhookSecret: webhookSecret === null ? null : maskSecret(webhookSecret),
    webhookSecretSet: webhookSecret !== null,
  };
}
