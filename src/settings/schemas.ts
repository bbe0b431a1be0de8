import { z } from 'zod';
import { countryForCallingCode } from './provider-settings';
import { LanguageCode, matching, singleLine, TemplateName } from '../api/schemas';

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
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');
