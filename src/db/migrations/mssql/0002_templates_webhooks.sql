-- Message Master synced from providers, template sync runs, and the webhook event ledger.
ALTER TABLE [MessageMaster] ADD
  [HeaderMediaUrl] nvarchar(2048) NULL,
  [RejectionReason] nvarchar(1000) NULL,
  [Source] nvarchar(50) NOT NULL CONSTRAINT [DF_MessageMaster_Source] DEFAULT N'crm',
  [LastSyncedAt] datetime2(3) NULL,
  [RemovedUpstreamAt] datetime2(3) NULL;
GO

CREATE TABLE [TemplateSyncRuns] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_TemplateSyncRuns] PRIMARY KEY,
  [Provider] nvarchar(50) NOT NULL,
  [Trigger] nvarchar(20) NOT NULL,
  [Status] nvarchar(20) NOT NULL,
  [StartedAt] datetime2(3) NOT NULL,
  [FinishedAt] datetime2(3) NULL,
  [Fetched] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Fetched] DEFAULT 0,
  [Created] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Created] DEFAULT 0,
  [Updated] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Updated] DEFAULT 0,
  [Unchanged] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Unchanged] DEFAULT 0,
  [Removed] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Removed] DEFAULT 0,
  [ErrorCount] int NOT NULL CONSTRAINT [DF_TemplateSyncRuns_ErrorCount] DEFAULT 0,
  [Errors] nvarchar(max) NOT NULL CONSTRAINT [DF_TemplateSyncRuns_Errors] DEFAULT N'[]'
);
GO

CREATE TABLE [WebhookEvents] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_WebhookEvents] PRIMARY KEY,
  [Provider] nvarchar(50) NOT NULL,
  [DedupeKey] nvarchar(400) NOT NULL,
  [EventType] nvarchar(100) NOT NULL,
  [ProviderMessageId] nvarchar(200) NULL,
  [MessageId] int NULL,
  [Outcome] nvarchar(30) NOT NULL,
  [ReceivedAt] datetime2(3) NOT NULL,
  [Payload] nvarchar(max) NOT NULL
);
CREATE UNIQUE INDEX [UX_WebhookEvents_Provider_DedupeKey] ON [WebhookEvents] ([Provider], [DedupeKey]);
CREATE INDEX [IX_WebhookEvents_ProviderMessageId] ON [WebhookEvents] ([ProviderMessageId]);
GO
