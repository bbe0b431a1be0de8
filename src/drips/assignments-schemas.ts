import { z } from 'zod';
import { IdFromText, Paging, singleLine } from '../api/schemas';

export const ASSIGNMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'cancelled', 'failed'] as const;

export const ListAssignmentsQuery = Paging.extend({
  sequenceId: IdFromText.optional(),
  leadId: IdFromText.optional(),
  status: z.enum(ASSIGNMENT_STATUSES).optional(),
});

export const AssignmentActionParams = z.object({
  id: IdFromText,
  action: z.enum(['pause', 'resume', 'cancel']),
});

export const CancelBody = z.object({ reason: singleLine(200).default('admin') }).strict();
