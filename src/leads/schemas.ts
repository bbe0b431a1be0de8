import { z } from 'zod';
import type { CustomFieldFilter } from '../db/queries/leads';
import { CUSTOM_FIELD_KEY } from '../shared';
import { matching, multiLine, pageOf, Paging, rowJson, singleLine } from '../api/schemas';
import { clients, leadNotes, leadTasks } from '../db/schema/sqlite';

const CUSTOM_FIELD_KEY_MESSAGE =
  'custom field names are 1 to 64 letters, digits and underscores (not __proto__, constructor or prototype)';
export const MAX_CUSTOM_FIELDS = 100;

export const CustomFieldKey = matching(64, CUSTOM_FIELD_KEY, CUSTOM_FIELD_KEY_MESSAGE);

const CustomFields = z
  .record(CustomFieldKey, z.union([multiLine(1000, { min: 0 }), z.number(), z.boolean(), z.null()]))
  .refine((fields) => Object.keys(fields).length <= MAX_CUSTOM_FIELDS, `at most ${MAX_CUSTOM_FIELDS} custom fields`);

/** An IANA time zone the runtime knows (`Asia/Kolkata`, `America/New_York`, `UTC`). */
export const TimeZone = matching(64, /^[A-Za-z0-9_+\-/]{1,64}$/, 'an IANA time zone such as Asia/Kolkata').refine(
  isKnownTimeZone,
  'an IANA time zone such as Asia/Kolkata',
);

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Lead statuses and stages are the CRM's own words; one line each. */
export const LeadStatus = singleLine(50);

export const CreateLeadBody = z
  .object({
    name: singleLine(200),
    phone: singleLine(32).min(3),
    firstName: singleLine(100, { min: 0 }).optional(),
    lastName: singleLine(100, { min: 0 }).optional(),
    email: z.email().max(254).optional(),
    status: LeadStatus.optional(),
    stage: LeadStatus.optional(),
    timeZone: TimeZone.optional(),
    optedOut: z.boolean().optional(),
    customFields: CustomFields.optional(),
  })
  .strict();

export const UpdateLeadBody = CreateLeadBody.partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

const QueryValues = z.union([z.string(), z.array(z.string()).max(20)]);

/**
 * Filters per search: each is one more JSON comparison in the statement, and SQLite refuses an
 * expression past a depth of 1,000; no person filters on more than a handful.
 */
export const MAX_CUSTOM_FIELD_FILTERS = 20;

/**
 * Custom fields are searched as `field.<key>=<value>` or `customField=<key>:<value>` (both
 * repeatable; all must match). The values compare with the field's value as text.
 */
export const ListLeadsQuery = Paging.extend({
  search: singleLine(100).optional(),
  status: LeadStatus.optional(),
  customField: QueryValues.optional(),
})
  .catchall(z.unknown())
  .transform(({ page, pageSize, search, status, customField, ...rest }, ctx) => {
    const customFields: CustomFieldFilter[] = [];
    const add = (key: string, value: unknown, path: string) => {
      if (!CUSTOM_FIELD_KEY.test(key))
        ctx.addIssue({ code: 'custom', path: [path], message: CUSTOM_FIELD_KEY_MESSAGE });
      else if (typeof value !== 'string' || value.length > 1000)
        ctx.addIssue({ code: 'custom', path: [path], message: 'expected a value of at most 1000 characters' });
      else customFields.push({ key, value });
    };
    const filterCount =
      Object.entries(rest).reduce(
        (n, [name, values]) => n + (name.startsWith('field.') ? [values].flat().length : 0),
        0,
      ) + [customField ?? []].flat().length;
    if (filterCount > MAX_CUSTOM_FIELD_FILTERS) {
      ctx.addIssue({
        code: 'custom',
        path: ['customField'],
        message: `at most ${MAX_CUSTOM_FIELD_FILTERS} custom field filters (field.<key> and customField together); ${filterCount} given`,
      });
      return z.NEVER;
    }
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

// ---------------------------------------------------------------------------------------------
// Responses.

/** A lead as the API shows it: the Clients row, custom fields as an object. */
export const LeadResponse = rowJson(clients, {
  customFields: z.record(z.string(), z.unknown()),
}).meta({ id: 'Lead' });

export const WelcomeStartResponse = z.strictObject({
  workflowId: z.string(),
  status: z.enum(['started', 'already_started', 'start_failed']),
});

/** A created lead, with the welcome it started when the settings ask for one. */
export const CreatedLeadResponse = LeadResponse.extend({ welcome: WelcomeStartResponse.optional() });

export const LeadPageResponse = pageOf(LeadResponse);

export const LeadTimelineResponse = z.strictObject({
  notes: z.array(rowJson(leadNotes)),
  tasks: z.array(rowJson(leadTasks)),
});

export const SearchLeadsQuery = z
  .object({
    email: z.email().max(254).optional(),
    phone: singleLine(32).optional(),
  })
  .refine((query) => query.email !== undefined || query.phone !== undefined, 'give email or phone');

export const LeadListResponse = z.strictObject({ items: z.array(LeadResponse) });

export const ImportLeadsQuery = z.object({
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export const ImportReportResponse = z
  .strictObject({
    dryRun: z.boolean(),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    mergedDuplicates: z.number().int(),
    rejected: z.number().int(),
    rejections: z.array(z.strictObject({ line: z.number().int(), reason: z.string() })),
  })
  .meta({ id: 'LeadImportReport' });
