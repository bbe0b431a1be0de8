-- The answered inbound messages in ResponseMs order, with every other column their percentile
-- query reads, so it covers (src/db/queries/analytics.ts, getResponseTimes): the value at a rank
-- of a long period is read by scanning this index from the nearer end and checking CreatedAt in
-- the index itself, instead of sorting every answered inbound message of the period. Filtered on
-- literals, which the query repeats.
CREATE INDEX [IX_WhatsAppMessages_Incoming_ResponseMs] ON [WhatsAppMessages] ([ResponseMs], [CreatedAt], [LeadId], [Direction])
  WHERE [Direction] = N'incoming' AND [ResponseMs] IS NOT NULL AND [LeadId] IS NOT NULL;
GO
