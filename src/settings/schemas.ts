import { z } from 'zod';
import { countryForCallingCode } from './provider-settings';
import { LanguageCode, matching, singleLine, TemplateName } from '../api/schemas';
import { LeadFieldName } from '../drips/schemas';

/** An Interakt trait name: what the customer's Personal Details card shows. */
const TraitName = matching(
  64,
  /^[A-Za-z][A-Za-z0-9_ ]{0,63}$/,
  'a trait name: a letter, then letters, digits, spaces or _',
);

/** At most this many traits are mirrored: the mapping is sent with every lead change. */
export const MAX_TRACKED_TRAITS = 50;

/** Write-only: accepted here, never returned (responses show them masked). null removes the stored value. */
const Secret = z
  .string()
  .max(4096, { abort: true })
  .trim()
  .min(8, 'must be at least 8 characters')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .nullable();

export const UpdateInteraktSettingsBody = z
  .object({
    enabled: z.boolean(),
    apiKey: Secret,
    defaultCountryCode: matching(5, /^\+\d{1,4}$/, 'a calling code such as +91')
      .refine((code) => countryForCallingCode(code) !== undefined, 'no country uses this calling code')
      .nullable(),
    welcomeOnCreate: z.boolean(),
    welcomeTemplateName: TemplateName.nullable(),
    welcomeTemplateLanguage: LanguageCode,
    welcomeHeaderMediaUrl: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .max(2048)
      .nullable(),
    welcomeFileName: singleLine(240).nullable(),
    webhookSecret: Secret,
    trackingEnabled: z.boolean(),
    trackedTraits: z
      .record(TraitName, LeadFieldName)
      .refine((traits) => Object.keys(traits).length <= MAX_TRACKED_TRAITS, {
        message: `at most ${MAX_TRACKED_TRAITS} traits`,
      }),
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

// ---------------------------------------------------------------------------------------------
// Responses.

const SecretSource = z.enum(['settings', 'environment']).nullable();

/** The Interakt settings as the API shows them: secrets only masked, with where each comes from. */
export const InteraktSettingsResponse = z
  .strictObject({
    enabled: z.boolean(),
    defaultCountryCode: z.string().nullable(),
    /** The ISO country phones typed without a country code are read as. */
    defaultCountry: z.string(),
    welcomeOnCreate: z.boolean(),
    welcomeTemplateName: z.string().nullable(),
    welcomeTemplateLanguage: z.string(),
    welcomeHeaderMediaUrl: z.string().nullable(),
    welcomeFileName: z.string().nullable(),
    apiKey: z.string().nullable(),
    apiKeySet: z.boolean(),
    apiKeySource: SecretSource,
    webhookSecret: z.string().nullable(),
    webhookSecretSet: z.boolean(),
    webhookSecretSource: SecretSource,
    trackingEnabled: z.boolean(),
    trackedTraits: z.record(z.string(), z.string()),
  })
  .meta({ id: 'InteraktSettings' });
