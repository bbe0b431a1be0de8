import { z } from 'zod';
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

export const ListLeadsQuery = Paging.extend({
  search: z.string().trim().min(1).max(100).optional(),
  status: z.string().trim().min(1).max(50).optional(),
});
