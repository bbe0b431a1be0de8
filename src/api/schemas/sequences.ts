import { z } from 'zod';
import type { LeadField } from '../../shared';
import { Paging } from './common';

const MAX_DELAY_SECONDS = 365 * 24 * 3600;

/** Where a template variable takes its value: a lead field, or a literal. */
export const VariableSourceSchema = z.union([
  z
    .object({
      field: z
        .string()
        .regex(
          /^(name|firstName|lastName|phone|email|status|stage|custom\.[A-Za-z0-9_]{1,64})$/,
          'must be name, firstName, lastName, phone, email, status, stage or custom.<key>',
        )
        .transform((field) => field as LeadField),
    })
    .strict(),
  z.object({ value: z.string().min(1).max(1024) }).strict(),
]);

export const TemplateVariablesSchema = z
  .object({
    header: z.array(VariableSourceSchema).max(1).optional(),
    body: z.array(VariableSourceSchema).max(20).optional(),
    buttons: z.record(z.string().regex(/^\d$/, 'button index must be 0-9'), z.array(VariableSourceSchema).length(1)).optional(),
    fileName: z.string().min(1).max(255).optional(),
  })
  .strict();

export const StepSchema = z
  .object({
    templateName: z
      .string()
      .regex(/^[a-z0-9_]{1,512}$/, 'template names are lowercase letters, digits and underscores'),
    templateLanguage: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as en or en_US').default('en'),
    delaySeconds: z.number().int().min(0).max(MAX_DELAY_SECONDS),
    variables: TemplateVariablesSchema.default({}),
  })
  .strict();

export const CreateSequenceBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    stopOnReply: z.boolean().default(false),
    steps: z.array(StepSchema).min(1).max(100),
  })
  .strict();

export const UpdateSequenceBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    stopOnReply: z.boolean().optional(),
    steps: z.array(StepSchema).min(1).max(100).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to update');

export const ListSequencesQuery = Paging.extend({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const MAX_LEADS_PER_ASSIGNMENT = 10_000;

export const AssignBody = z
  .object({
    leadIds: z.array(z.number().int().positive()).min(1).max(MAX_LEADS_PER_ASSIGNMENT),
  })
  .strict();
