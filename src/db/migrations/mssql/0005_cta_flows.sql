-- CTA follow-up flows: IVR calls, flow definitions and runs, clicks, and the lead's notes and tasks.
ALTER TABLE [Clients] ADD
  [MarketingSuppressedAt] datetime2(3) NULL,
  [Source] nvarchar(50) NOT NULL CONSTRAINT [DF_Clients_Source] DEFAULT N'crm';
GO

CREATE TABLE [IVRCallLog] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_IVRCallLog] PRIMARY KEY,
  [CallId] nvarchar(200) NOT NULL,
  [CallerNumber] nvarchar(64) NOT NULL,
  [CallerPhone] nvarchar(32) NOT NULL,
  [CalledNumber] nvarchar(64) NOT NULL,
  [CalledAt] datetime2(3) NOT NULL,
  [LeadId] int NOT NULL,
  [LeadCreated] bit NOT NULL CONSTRAINT [DF_IVRCallLog_LeadCreated] DEFAULT 0,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_IVRCallLog_Status] DEFAULT N'received',
  [FlowRunId] int NULL,
  [ProcessedAt] datetime2(3) NULL,
  [Note] nvarchar(1000) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_IVRCallLog_CreatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_IVRCallLog_CallId] ON [IVRCallLog] ([CallId]);
CREATE INDEX [IX_IVRCallLog_Received] ON [IVRCallLog] ([Id]) WHERE [Status] = N'received';
GO

CREATE TABLE [CtaFlows] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_CtaFlows] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [TemplateName] nvarchar(512) NOT NULL,
  [TemplateLanguage] nvarchar(20) NOT NULL,
  [ProjectName] nvarchar(200) NOT NULL,
  [BodyVariables] nvarchar(max) NOT NULL CONSTRAINT [DF_CtaFlows_BodyVariables] DEFAULT N'[]',
  [InterestedButtonIndex] int NOT NULL CONSTRAINT [DF_CtaFlows_InterestedButtonIndex] DEFAULT 0,
  [NotInterestedButtonIndex] int NOT NULL CONSTRAINT [DF_CtaFlows_NotInterestedButtonIndex] DEFAULT 1,
  [ReminderAfterSeconds] int NOT NULL,
  [CloseAfterSeconds] int NOT NULL,
  [TokenTtlSeconds] int NOT NULL,
  [BrochureTemplateName] nvarchar(512) NOT NULL,
  [BrochureTemplateLanguage] nvarchar(20) NOT NULL,
  [BrochureUrl] nvarchar(2048) NULL,
  [BrochureFileName] nvarchar(255) NULL,
  [FollowUpCallAfterSeconds] int NOT NULL,
  [IvrNumber] nvarchar(64) NULL,
  [ArchivedAt] datetime2(3) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CtaFlows_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CtaFlows_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_CtaFlows_Name] ON [CtaFlows] ([Name]);
GO

CREATE TABLE [CtaFlowRuns] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_CtaFlowRuns] PRIMARY KEY,
  [FlowId] int NOT NULL CONSTRAINT [FK_CtaFlowRuns_CtaFlows] REFERENCES [CtaFlows] ([Id]),
  [LeadId] int NOT NULL,
  [WorkflowId] nvarchar(200) NOT NULL,
  [Trigger] nvarchar(20) NOT NULL,
  [IvrCallId] int NULL,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_CtaFlowRuns_Status] DEFAULT N'pending',
  [Decision] nvarchar(20) NULL,
  [DecidedAt] datetime2(3) NULL,
  [SentAt] datetime2(3) NULL,
  [RemindedAt] datetime2(3) NULL,
  [ClosedAt] datetime2(3) NULL,
  [LastError] nvarchar(1000) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CtaFlowRuns_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CtaFlowRuns_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_CtaFlowRuns_Flow_Lead] ON [CtaFlowRuns] ([FlowId], [LeadId]);
CREATE UNIQUE INDEX [UX_CtaFlowRuns_WorkflowId] ON [CtaFlowRuns] ([WorkflowId]);
CREATE INDEX [IX_CtaFlowRuns_Lead] ON [CtaFlowRuns] ([LeadId]);
CREATE INDEX [IX_CtaFlowRuns_Flow_SentAt] ON [CtaFlowRuns] ([FlowId], [SentAt]);
GO

CREATE TABLE [CtaInteractions] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_CtaInteractions] PRIMARY KEY,
  [RunId] int NOT NULL CONSTRAINT [FK_CtaInteractions_CtaFlowRuns] REFERENCES [CtaFlowRuns] ([Id]),
  [FlowId] int NOT NULL,
  [LeadId] int NOT NULL,
  [Action] nvarchar(20) NOT NULL,
  [Result] nvarchar(20) NOT NULL,
  [UserAgent] nvarchar(512) NULL,
  [ClickedAt] datetime2(3) NOT NULL
);
CREATE INDEX [IX_CtaInteractions_Flow_ClickedAt] ON [CtaInteractions] ([FlowId], [ClickedAt]);
CREATE INDEX [IX_CtaInteractions_Run] ON [CtaInteractions] ([RunId]);
GO

CREATE TABLE [LeadNotes] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_LeadNotes] PRIMARY KEY,
  [LeadId] int NOT NULL,
  [Body] nvarchar(2000) NOT NULL,
  [Source] nvarchar(50) NOT NULL,
  [DedupeKey] nvarchar(300) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_LeadNotes_CreatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE INDEX [IX_LeadNotes_Lead] ON [LeadNotes] ([LeadId], [Id]);
CREATE UNIQUE INDEX [UX_LeadNotes_DedupeKey] ON [LeadNotes] ([DedupeKey]) WHERE [DedupeKey] IS NOT NULL;
GO

CREATE TABLE [LeadTasks] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_LeadTasks] PRIMARY KEY,
  [LeadId] int NOT NULL,
  [Kind] nvarchar(50) NOT NULL,
  [Title] nvarchar(500) NOT NULL,
  [DueAt] datetime2(3) NOT NULL,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_LeadTasks_Status] DEFAULT N'open',
  [DedupeKey] nvarchar(300) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_LeadTasks_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [CompletedAt] datetime2(3) NULL
);
CREATE INDEX [IX_LeadTasks_Lead] ON [LeadTasks] ([LeadId], [Id]);
CREATE INDEX [IX_LeadTasks_Status_DueAt] ON [LeadTasks] ([Status], [DueAt]);
CREATE UNIQUE INDEX [UX_LeadTasks_DedupeKey] ON [LeadTasks] ([DedupeKey]) WHERE [DedupeKey] IS NOT NULL;
GO
