import { z } from 'zod';
import { IdFromText, pageOf, Paging, rowJson, singleLine, TemplateName } from '../api/schemas';
import { whatsAppMessages } from '../db/schema/sqlite';
import { REFERENCE_TYPES } from '../db/schema/values';

/** An ISO 8601 date-time with a zone (`2030-01-31T09:00:00Z`, `…+05:30`) or a date (`2030-01-31`, UTC midnight). */
const Instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((value) => new Date(value));

export const ListMessagesQuery = Paging.extend({
  leadId: IdFromText.optional(),
  status: z.enum(['pending', 'sending', 'sent', 'delivered', 'read', 'failed']).optional(),
  referenceType: z.enum(REFERENCE_TYPES).optional(),
  referenceId: singleLine(64).optional(),
  templateName: TemplateName.optional(),
  direction: z.enum(['outgoing', 'incoming']).optional(),
  /** CreatedAt at or after. */
  from: Instant.optional(),
  /** CreatedAt before (exclusive). */
  to: Instant.optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
}).refine((query) => !query.from || !query.to || query.from < query.to, {
  message: 'from must be before to',
  path: ['to'],
});

export const MessageStreamQuery = z.object({
  leadId: IdFromText.optional(),
});

// ---------------------------------------------------------------------------------------------
// Responses.

/** One row of the message log (outgoing sends and incoming messages), the values sent as an object. */
export const MessageResponse = rowJson(whatsAppMessages, {
  messageContent: z.record(z.string(), z.unknown()),
}).meta({ id: 'Message' });

export const MessagePageResponse = pageOf(MessageResponse);
