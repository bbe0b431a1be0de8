-- Message Master synced from providers, template sync runs, and the webhook event ledger.
ALTER TABLE MessageMaster ADD COLUMN HeaderMediaUrl TEXT;
ALTER TABLE MessageMaster ADD COLUMN RejectionReason TEXT;
ALTER TABLE MessageMaster ADD COLUMN Source TEXT NOT NULL DEFAULT 'crm';
ALTER TABLE MessageMaster ADD COLUMN LastSyncedAt INTEGER;
ALTER TABLE MessageMaster ADD COLUMN RemovedUpstreamAt INTEGER;

CREATE TABLE TemplateSyncRuns (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Provider TEXT NOT NULL,
  Trigger TEXT NOT NULL,
  Status TEXT NOT NULL,
  StartedAt INTEGER NOT NULL,
  FinishedAt INTEGER,
  Fetched INTEGER NOT NULL DEFAULT 0,
  Created INTEGER NOT NULL DEFAULT 0,
  Updated INTEGER NOT NULL DEFAULT 0,
  Unchanged INTEGER NOT NULL DEFAULT 0,
  Removed INTEGER NOT NULL DEFAULT 0,
  ErrorCount INTEGER NOT NULL DEFAULT 0,
  Errors TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE WebhookEvents (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Provider TEXT NOT NULL,
  DedupeKey TEXT NOT NULL,
  EventType TEXT NOT NULL,
  ProviderMessageId TEXT,
  MessageId INTEGER,
  Outcome TEXT NOT NULL,
  ReceivedAt INTEGER NOT NULL,
  Payload TEXT NOT NULL
);
CREATE UNIQUE INDEX UX_WebhookEvents_Provider_DedupeKey ON WebhookEvents (Provider, DedupeKey);
CREATE INDEX IX_WebhookEvents_ProviderMessageId ON WebhookEvents (ProviderMessageId);
