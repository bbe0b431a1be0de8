import { z } from 'zod';
import { Paging } from './common';

export const ASSIGNMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled', 'failed'] as const;

export const ListAssignmentsQuery = Paging.extend({
  sequenceId: z.coerce.number().int().positive().optional(),
  leadId: z.coerce.number().int().positive().optional(),
  status: z.enum(ASSIGNMENT_STATUSES).optional(),
});

export const AssignmentActionParams = z.object({
  id: z.coerce.number().int().positive(),
  action: z.enum(['pause', 'resume', 'cancel']),
});

export const CancelBody = z.object({ reason: z.string().trim().min(1).max(200).default('admin') }).strict();
