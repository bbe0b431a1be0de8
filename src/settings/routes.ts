import { Router } from 'express';
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
import { handle } from '../api/validate';

export interface SettingsDeps {
  db: Db;
  secretBox: SecretBox;
  defaultCountry: CountryCode;
  /** The environment's values, in force while MasterData holds none. */
  interaktApiKey?: string | undefined;
  interaktWebhookSecret?: string | undefined;
}

/** `/settings/interakt`: secrets go in, and come out only masked. */
export function settingsRouter(deps: SettingsDeps): Router {
  const router = Router();
  const fallback = { apiKey: deps.interaktApiKey, webhookSecret: deps.interaktWebhookSecret };
  const current = () => readInteraktSettings(deps.db, deps.secretBox, fallback).catch(secretsUnavailable);

  router.get(
    '/interakt',
    handle({}, async (_input, res) => {
      res.json(publicSettings(await current(), deps.defaultCountry));
    }),
  );

  router.put(
    '/interakt',
    handle({ body: UpdateInteraktSettingsBody }, async ({ body }, res) => {
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
    }),
  );

  return router;
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
