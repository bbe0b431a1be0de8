-- Replies and answers kept on the message log, so the analytics count them with a comparison
-- instead of an index seek per message (src/db/queries/analytics.ts; kept up to date by
-- src/db/queries/messages.ts in the statements that change what they depend on):
-- - FirstReplyAt, on an outgoing message: CreatedAt of the lead's first incoming message stored
--   after the send's sent time (SentAt, else DeliveredAt, else ReadAt); null until sent, or when
--   the lead has not written since.
-- - ResponseMs, on an incoming message: milliseconds from it to the lead's first outgoing message
--   stored after it (the response time); null until there is one.
ALTER TABLE [WhatsAppMessages] ADD
  [FirstReplyAt] datetime2(3) NULL,
  [ResponseMs] bigint NULL;
GO
-- A batch of its own: the columns above exist only once their batch has run.
UPDATE [m]
SET [FirstReplyAt] = (
  SELECT min([r].[CreatedAt]) FROM [WhatsAppMessages] [r]
  WHERE [r].[Direction] = 'incoming' AND [r].[LeadId] = [m].[LeadId]
    AND [r].[CreatedAt] > coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]))
FROM [WhatsAppMessages] [m]
WHERE [m].[Direction] = 'outgoing' AND [m].[LeadId] IS NOT NULL AND coalesce([m].[SentAt], [m].[DeliveredAt], [m].[ReadAt]) IS NOT NULL;
UPDATE [m]
SET [ResponseMs] = (
  SELECT datediff_big(millisecond, [m].[CreatedAt], min([o].[CreatedAt])) FROM [WhatsAppMessages] [o]
  WHERE [o].[Direction] = 'outgoing' AND [o].[LeadId] = [m].[LeadId] AND [o].[CreatedAt] > [m].[CreatedAt])
FROM [WhatsAppMessages] [m]
WHERE [m].[Direction] = 'incoming' AND [m].[LeadId] IS NOT NULL;
GO
-- The covering indexes of migration 0050 carry the new columns instead of the lead (the reply
-- test no longer seeks by lead from them). Key columns only (no INCLUDE), as in SQLite.
DROP INDEX [IX_WhatsAppMessages_Direction_CreatedAt_Outcome] ON [WhatsAppMessages];
DROP INDEX [IX_WhatsAppMessages_Reference_Outcome] ON [WhatsAppMessages];
-- The sends (or inbound messages) of a period, with every column an outcome count or a response
-- time reads.
CREATE INDEX [IX_WhatsAppMessages_Direction_CreatedAt_Replies] ON [WhatsAppMessages] ([Direction], [CreatedAt], [LeadId], [SentAt], [DeliveredAt], [ReadAt], [Status], [FirstReplyAt], [ResponseMs]);
-- The sends of one reference (a drip assignment, a campaign), by step, with the same columns.
CREATE INDEX [IX_WhatsAppMessages_Reference_Replies] ON [WhatsAppMessages] ([ReferenceType], [ReferenceId], [StepIndex], [SentAt], [DeliveredAt], [ReadAt], [Status], [FirstReplyAt]);
GO
-- A funnel's assignments by status and stop reason, with the step counts it reads, from the index
-- alone instead of a row lookup per assignment.
CREATE INDEX [IX_LeadDripAssignment_Sequence_Outcome] ON [LeadDripAssignment] ([SequenceId], [Status], [StopReason], [TotalSteps]);
GO
-- The failed sends of one reference by step and code: the failures of a funnel or report read
-- these instead of every send's row. Filtered on a literal, which the queries repeat.
CREATE INDEX [IX_WhatsAppMessages_Reference_Failed] ON [WhatsAppMessages] ([ReferenceType], [ReferenceId], [StepIndex], [ErrorCode])
  WHERE [Status] = N'failed';
GO
