-- Infobip sync runs: what each run was asked to do, and its pages (a page redone after a crash
-- replaces its row, so totals never count twice). Leads learn their last channel and Infobip id.
ALTER TABLE [Clients] ADD
  [LastChannel] nvarchar(30) NULL,
  [InfobipProfileId] nvarchar(100) NULL,
  [LastSyncedAt] datetime2(3) NULL;
GO

CREATE TABLE [InfobipSyncRuns] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_InfobipSyncRuns] PRIMARY KEY,
  [RunKey] nvarchar(100) NOT NULL,
  [WorkflowId] nvarchar(200) NOT NULL,
  [Trigger] nvarchar(20) NOT NULL,
  [ScheduleId] nvarchar(200) NULL,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Status] DEFAULT N'running',
  [Options] nvarchar(max) NOT NULL,
  [DryRun] bit NOT NULL CONSTRAINT [DF_InfobipSyncRuns_DryRun] DEFAULT 0,
  [WindowFrom] datetime2(3) NOT NULL,
  [WindowTo] datetime2(3) NOT NULL,
  [StartedAt] datetime2(3) NOT NULL,
  [FinishedAt] datetime2(3) NULL,
  [Fetched] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Fetched] DEFAULT 0,
  [Matched] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Matched] DEFAULT 0,
  [Created] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Created] DEFAULT 0,
  [Updated] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Updated] DEFAULT 0,
  [Skipped] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Skipped] DEFAULT 0,
  [Invalid] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_Invalid] DEFAULT 0,
  [ErrorCount] int NOT NULL CONSTRAINT [DF_InfobipSyncRuns_ErrorCount] DEFAULT 0,
  [Failure] nvarchar(2000) NULL
);
CREATE UNIQUE INDEX [UX_InfobipSyncRuns_RunKey] ON [InfobipSyncRuns] ([RunKey]);
CREATE INDEX [IX_InfobipSyncRuns_Status_WindowTo] ON [InfobipSyncRuns] ([Status], [WindowTo]);
GO

CREATE TABLE [InfobipSyncPages] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_InfobipSyncPages] PRIMARY KEY,
  [RunId] int NOT NULL CONSTRAINT [FK_InfobipSyncPages_InfobipSyncRuns] REFERENCES [InfobipSyncRuns] ([Id]),
  [Source] nvarchar(20) NOT NULL,
  [PageNo] int NOT NULL,
  [Fetched] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Fetched] DEFAULT 0,
  [Matched] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Matched] DEFAULT 0,
  [Created] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Created] DEFAULT 0,
  [Updated] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Updated] DEFAULT 0,
  [Skipped] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Skipped] DEFAULT 0,
  [Invalid] int NOT NULL CONSTRAINT [DF_InfobipSyncPages_Invalid] DEFAULT 0,
  [Errors] nvarchar(max) NOT NULL CONSTRAINT [DF_InfobipSyncPages_Errors] DEFAULT N'[]',
  [Preview] nvarchar(max) NULL,
  [CompletedAt] datetime2(3) NOT NULL
);
CREATE UNIQUE INDEX [UX_InfobipSyncPages_Run_Source_Page] ON [InfobipSyncPages] ([RunId], [Source], [PageNo]);
GO
