import { z } from 'zod';
import { Paging } from './common';

export const ListMessagesQuery = Paging.extend({
  leadId: z.coerce.number().int().positive().optional(),
  status: z.enum(['pending', 'sending', 'sent', 'delivered', 'read', 'failed']).optional(),
  referenceType: z.enum(['drip', 'welcome', 'cta', 'manual']).optional(),
  referenceId: z.string().max(64).optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
});
