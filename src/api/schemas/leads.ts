import { z } from 'zod';
import { CUSTOM_FIELD_KEY, type CustomFieldFilter } from '../../db/queries/leads';
import { Paging } from './common';

const CustomFields = z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]));

export const CreateLeadBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    phone: z.string().trim().min(3).max(32),
    firstName: z.string().trim().max(100).optional(),
    lastName: z.string().trim().max(100).optional(),
    email: z.email().max(254).optional(),
    status: z.string().trim().min(1).max(50).optional(),
    stage: z.string().trim().min(1).max(50).optional(),
    timeZone: z.string().max(64).optional(),
    optedOut: z.boolean().optional(),
    customFields: CustomFields.optional(),
  })
  .strict();

export const UpdateLeadBody = CreateLeadBody.partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

const QueryValues = z.union([z.string(), z.array(z.string())]);
const CUSTOM_FIELD_KEY_MESSAGE = 'custom field names are 1 to 64 letters, digits and underscores';

/**
 * Custom fields are searched as `field.<key>=<value>` or `customField=<key>:<value>` (both
 * repeatable; all must match). The values compare with the field's value as text.
 */
export const ListLeadsQuery = Paging.extend({
  search: z.string().trim().min(1).max(100).optional(),
  status: z.string().trim().min(1).max(50).optional(),
  customField: QueryValues.optional(),
})
  .catchall(z.unknown())
  .transform(({ page, pageSize, search, status, customField, ...rest }, ctx) => {
    const customFields: CustomFieldFilter[] = [];
    const add = (key: string, value: unknown, path: string) => {
      if (!CUSTOM_FIELD_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [path], message: CUSTOM_FIELD_KEY_MESSAGE });
      else if (typeof value !== 'string' || value.length > 1000) ctx.addIssue({ code: 'custom', path: [path], message: 'expected a value of at most 1000 characters' });
      else customFields.push({ key, value });
    };
    for (const [name, values] of Object.entries(rest)) {
      if (!name.startsWith('field.')) continue;
      for (const value of [values].flat()) add(name.slice('field.'.length), value, name);
    }
    for (const entry of [customField ?? []].flat()) {
      const colon = entry.indexOf(':');
      if (colon < 1) ctx.addIssue({ code: 'custom', path: ['customField'], message: 'expected <key>:<value>' });
      else add(entry.slice(0, colon), entry.slice(colon + 1), 'customField');
    }
    return { page, pageSize, search, status, customFields };
  });
