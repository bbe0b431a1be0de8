-- Webhook status events are stored first (Outcome 'pending', with the parsed event) and applied
-- by the API's processor in batches; the filtered index is its queue.
ALTER TABLE [WebhookEvents] ADD
  [StatusEvent] nvarchar(max) NULL;
GO
CREATE INDEX [IX_WebhookEvents_Pending] ON [WebhookEvents] ([Id]) WHERE [Outcome] = N'pending';
GO
