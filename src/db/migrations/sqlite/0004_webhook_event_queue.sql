-- Webhook status events are stored first (Outcome 'pending', with the parsed event) and applied
-- by the API's processor in batches; the partial index is its queue.
ALTER TABLE WebhookEvents ADD COLUMN StatusEvent text;
CREATE INDEX IX_WebhookEvents_Pending ON WebhookEvents (Id) WHERE Outcome = 'pending';
