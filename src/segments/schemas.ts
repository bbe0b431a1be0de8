import { z } from 'zod';
import { Id, multiLine, pageOf, Paging, rowJson, singleLine, Timestamp } from '../api/schemas';
import { customFieldDefinitions, segments } from '../db/schema/sqlite';
import { CUSTOM_FIELD_TYPES } from '../db/schema/values';
import { CustomFieldKey, LeadResponse, LeadStatus } from '../leads/schemas';

/** Lists in a filter: each value is one more comparison, and nobody filters on more. */
const MAX_FILTER_VALUES = 50;
/** Custom-field criteria and values per criterion: SQLite refuses an expression deeper than 1,000. */
const MAX_CUSTOM_FIELD_CRITERIA = 10;
const MAX_CUSTOM_FIELD_VALUES = 20;
/** An explicit list of ids in a segment; larger audiences are better described by a filter. */
export const MAX_SEGMENT_LEAD_IDS = 10_000;

const Values = (item: z.ZodType<string>) => z.array(item).min(1).max(MAX_FILTER_VALUES);

export const SegmentFilterSchema = z
  .strictObject({
    statuses: Values(LeadStatus).optional(),
    stages: Values(LeadStatus).optional(),
    sources: Values(singleLine(50)).optional(),
    customFields: z
      .array(
        z.strictObject({
          key: CustomFieldKey,
          values: z
            .array(singleLine(1000, { min: 0 }))
            .min(1)
            .max(MAX_CUSTOM_FIELD_VALUES),
        }),
      )
      .max(MAX_CUSTOM_FIELD_CRITERIA)
      .optional(),
    createdFrom: Timestamp.optional(),
    createdTo: Timestamp.optional(),
    lastContactedFrom: Timestamp.optional(),
    lastContactedTo: Timestamp.optional(),
    neverContacted: z.boolean().optional(),
    leadIds: z.array(Id).min(1).max(MAX_SEGMENT_LEAD_IDS).optional(),
    includeOptedOut: z.boolean().optional(),
    includeSuppressed: z.boolean().optional(),
  })
  .superRefine((filter, ctx) => {
    const ranges = [
      ['createdFrom', 'createdTo'],
      ['lastContactedFrom', 'lastContactedTo'],
    ] as const;
    for (const [from, to] of ranges) {
      const a = filter[from];
      const b = filter[to];
      if (a && b && Date.parse(a) > Date.parse(b))
        ctx.addIssue({ code: 'custom', path: [to], message: `must not be before ${from}` });
    }
    if (filter.neverContacted && (filter.lastContactedFrom || filter.lastContactedTo))
      ctx.addIssue({
        code: 'custom',
        path: ['neverContacted'],
        message: 'cannot be combined with a last-contacted range',
      });
  })
  .meta({ id: 'SegmentFilter' });

export const CreateSegmentBody = z.strictObject({
  name: singleLine(200),
  description: multiLine(1000, { min: 0 }).optional(),
  filter: SegmentFilterSchema,
});

export const UpdateSegmentBody = CreateSegmentBody.partial().refine(
  (body) => Object.keys(body).length > 0,
  'nothing to update',
);

export const PreviewSegmentBody = z.strictObject({ filter: SegmentFilterSchema });

export const SegmentCountResponse = z.strictObject({
  members: z.number().int(),
  excludedOptedOut: z.number().int(),
  excludedSuppressed: z.number().int(),
});

export const SegmentResponse = rowJson(segments, { filter: z.record(z.string(), z.unknown()) }).meta({ id: 'Segment' });
export const SegmentWithCountResponse = SegmentResponse.extend({ count: SegmentCountResponse });
export const SegmentPageResponse = pageOf(SegmentResponse);
export const SegmentMembersResponse = pageOf(LeadResponse);
export const SegmentPreviewResponse = z.strictObject({ count: SegmentCountResponse, members: pageOf(LeadResponse) });
export const SegmentPaging = Paging;

// ---------------------------------------------------------------------------------------------
// Custom-field definitions.

const MAX_ALLOWED_VALUES = 200;

export const CreateCustomFieldBody = z
  .strictObject({
    name: CustomFieldKey,
    type: z.enum(CUSTOM_FIELD_TYPES),
    allowedValues: z.array(singleLine(200)).min(1).max(MAX_ALLOWED_VALUES).optional(),
    description: multiLine(500, { min: 0 }).optional(),
  })
  .superRefine((body, ctx) => checkAllowedValues(body, ctx));

export const UpdateCustomFieldBody = z
  .strictObject({
    type: z.enum(CUSTOM_FIELD_TYPES).optional(),
    allowedValues: z.array(singleLine(200)).min(1).max(MAX_ALLOWED_VALUES).optional(),
    description: multiLine(500, { min: 0 }).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

function checkAllowedValues(
  body: { type?: string | undefined; allowedValues?: string[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (body.type === 'enum' && !body.allowedValues)
    ctx.addIssue({ code: 'custom', path: ['allowedValues'], message: 'an enum field needs its allowed values' });
  if (body.type !== undefined && body.type !== 'enum' && body.allowedValues)
    ctx.addIssue({ code: 'custom', path: ['allowedValues'], message: 'only an enum field has allowed values' });
  if (body.allowedValues && new Set(body.allowedValues).size !== body.allowedValues.length)
    ctx.addIssue({ code: 'custom', path: ['allowedValues'], message: 'allowed values must be distinct' });
}

export const CustomFieldResponse = rowJson(customFieldDefinitions, { allowedValues: z.array(z.string()) }).meta({
  id: 'CustomFieldDefinition',
});
export const CustomFieldListResponse = z.strictObject({ items: z.array(CustomFieldResponse) });
