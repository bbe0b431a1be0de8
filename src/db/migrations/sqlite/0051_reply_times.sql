-- Replies and answers kept on the message log, so the analytics count them with a comparison
-- instead of an index seek per message (src/db/queries/analytics.ts; kept up to date by
-- src/db/queries/messages.ts in the statements that change what they depend on):
-- - FirstReplyAt, on an outgoing message: CreatedAt of the lead's first incoming message stored
--   after the send's sent time (SentAt, else DeliveredAt, else ReadAt); null until sent, or when
--   the lead has not written since.
-- - ResponseMs, on an incoming message: milliseconds from it to the lead's first outgoing message
--   stored after it (the response time); null until there is one.
ALTER TABLE WhatsAppMessages ADD COLUMN FirstReplyAt INTEGER;
ALTER TABLE WhatsAppMessages ADD COLUMN ResponseMs INTEGER;
UPDATE WhatsAppMessages
SET FirstReplyAt = (
  SELECT min(r.CreatedAt) FROM WhatsAppMessages r
  WHERE r.Direction = 'incoming' AND r.LeadId = WhatsAppMessages.LeadId
    AND r.CreatedAt > coalesce(WhatsAppMessages.SentAt, WhatsAppMessages.DeliveredAt, WhatsAppMessages.ReadAt))
WHERE Direction = 'outgoing' AND LeadId IS NOT NULL AND coalesce(SentAt, DeliveredAt, ReadAt) IS NOT NULL;
UPDATE WhatsAppMessages
SET ResponseMs = (
  SELECT min(o.CreatedAt) - WhatsAppMessages.CreatedAt FROM WhatsAppMessages o
  WHERE o.Direction = 'outgoing' AND o.LeadId = WhatsAppMessages.LeadId AND o.CreatedAt > WhatsAppMessages.CreatedAt)
WHERE Direction = 'incoming' AND LeadId IS NOT NULL;
-- The covering indexes of migration 0050 carry the new columns instead of the lead (the reply
-- test no longer seeks by lead from them).
DROP INDEX IX_WhatsAppMessages_Direction_CreatedAt_Outcome;
DROP INDEX IX_WhatsAppMessages_Reference_Outcome;
-- The sends (or inbound messages) of a period, with every column an outcome count or a response
-- time reads.
CREATE INDEX IX_WhatsAppMessages_Direction_CreatedAt_Replies ON WhatsAppMessages (Direction, CreatedAt, LeadId, SentAt, DeliveredAt, ReadAt, Status, FirstReplyAt, ResponseMs);
-- The sends of one reference (a drip assignment, a campaign), by step, with the same columns.
CREATE INDEX IX_WhatsAppMessages_Reference_Replies ON WhatsAppMessages (ReferenceType, ReferenceId, StepIndex, SentAt, DeliveredAt, ReadAt, Status, FirstReplyAt);
-- A funnel's assignments by status and stop reason, with the step counts it reads, from the index
-- alone instead of a row lookup per assignment.
CREATE INDEX IX_LeadDripAssignment_Sequence_Outcome ON LeadDripAssignment (SequenceId, Status, StopReason, TotalSteps);
-- The failed sends of one reference by step and code (a tenth of the sends, or fewer): the
-- failures of a funnel or report read these instead of every send's row. Filtered on a literal,
-- which the queries repeat.
CREATE INDEX IX_WhatsAppMessages_Reference_Failed ON WhatsAppMessages (ReferenceType, ReferenceId, StepIndex, ErrorCode) WHERE Status = 'failed';
