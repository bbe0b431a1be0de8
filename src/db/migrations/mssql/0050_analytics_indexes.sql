-- Analytics over the message log (src/db/queries/analytics.ts): each index serves one access path
-- of the funnel, KPI and conversation queries, so they stay fast on a log of millions of rows.
-- Key columns only (no INCLUDE), as in SQLite, so the two schemas stay comparable.
-- A lead's messages of one direction in time order: replies after a send, the next answer after an
-- inbound message.
CREATE INDEX [IX_WhatsAppMessages_Direction_Lead_CreatedAt] ON [WhatsAppMessages] ([Direction], [LeadId], [CreatedAt]);
-- The sends (or inbound messages) of a period, with every column an outcome count reads.
CREATE INDEX [IX_WhatsAppMessages_Direction_CreatedAt_Outcome] ON [WhatsAppMessages] ([Direction], [CreatedAt], [LeadId], [SentAt], [DeliveredAt], [ReadAt], [Status]);
-- The sends of one reference (a drip assignment, a campaign), by step, with the same columns.
CREATE INDEX [IX_WhatsAppMessages_Reference_Outcome] ON [WhatsAppMessages] ([ReferenceType], [ReferenceId], [StepIndex], [LeadId], [SentAt], [DeliveredAt], [ReadAt], [Status]);
GO
-- Contacts by creation time: the total at a date, new contacts per month.
CREATE INDEX [IX_Clients_CreatedAt] ON [Clients] ([CreatedAt]);
GO
-- CTA runs still open.
CREATE INDEX [IX_CtaFlowRuns_Status] ON [CtaFlowRuns] ([Status]);
GO
