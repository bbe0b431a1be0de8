import { z } from 'zod';
import { ASSIGNMENT_STATUSES } from './contract';
import { IdFromText, Paging, singleLine } from '../api/schemas';

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
