-- The live log tails the message log by (UpdatedAt, Id).
CREATE INDEX [IX_WhatsAppMessages_UpdatedAt_Id] ON [WhatsAppMessages] ([UpdatedAt], [Id]);
GO
