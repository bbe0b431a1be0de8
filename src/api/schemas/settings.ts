import { z } from 'zod';
import { countryForCallingCode } from '../../settings/provider-settings';

/** Write-only: accepted here, never returned (responses show them masked). null removes the stored value. */
const Secret = z
  .string()
  .trim()
  .min(8, 'must be at least 8 characters')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .nullable();

export const UpdateInteraktSettingsBody = z
  .object({
    enabled: z.boolean(),
    apiKey: Secret,
    defaultCountryCode: z
      .string()
      .trim()
      .regex(/^\+\d{1,4}$/, 'a calling code such as +91')
      .refine((code) => countryForCallingCode(code) !== undefined, 'no country uses this calling code')
      .nullable(),
    welcomeOnCreate: z.boolean(),
    welcomeTemplateName: z.string().regex(/^[a-z0-9_]{1,512}$/, 'template names are lowercase letters, digits and underscores').nullable(),
    welcomeTemplateLanguage: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as en or en_US'),
    welcomeHeaderMediaUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).max(2048).nullable(),
    welcomeFileName: z.string().trim().min(1).max(240).nullable(),
    webhookSecret: Secret,
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');
