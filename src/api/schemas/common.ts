import { z } from 'zod';

export const IdParams = z.object({ id: z.coerce.number().int().positive() });

export const Paging = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});
