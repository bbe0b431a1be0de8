-- Dripline schema, SQL Server flavour. Must match src/db/schema/mssql.ts (test/db/schema.test.ts checks).
-- Datetimes are datetime2(3) holding UTC. Batches are separated by lines containing only GO.
-- Filtered indexes need QUOTED_IDENTIFIER and ANSI_NULLS on, which the mssql driver sets by default.

CREATE TABLE [Clients] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_Clients] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [FirstName] nvarchar(100) NULL,
  [LastName] nvarchar(100) NULL,
  [Phone] nvarchar(32) NOT NULL CONSTRAINT [UQ_Clients_Phone] UNIQUE,
  [Email] nvarchar(320) NULL,
  [Status] nvarchar(50) NOT NULL CONSTRAINT [DF_Clients_Status] DEFAULT N'New',
  [Stage] nvarchar(100) NOT NULL CONSTRAINT [DF_Clients_Stage] DEFAULT N'New',
  [OptedOut] bit NOT NULL CONSTRAINT [DF_Clients_OptedOut] DEFAULT 0,
  [OptedOutAt] datetime2(3) NULL,
  [TimeZone] nvarchar(64) NULL,
  [LastContactedAt] datetime2(3) NULL,
  [CustomFields] nvarchar(max) NOT NULL CONSTRAINT [DF_Clients_CustomFields] DEFAULT N'{}',
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Clients_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Clients_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
GO

CREATE TABLE [Users] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_Users] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [Email] nvarchar(320) NOT NULL CONSTRAINT [UQ_Users_Email] UNIQUE,
  [Role] nvarchar(50) NOT NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Users_CreatedAt] DEFAULT SYSUTCDATETIME()
);
GO

CREATE TABLE [ApiKeys] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_ApiKeys] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [KeyHash] nvarchar(64) NOT NULL CONSTRAINT [UQ_ApiKeys_KeyHash] UNIQUE,
  [KeyPrefix] nvarchar(16) NOT NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_ApiKeys_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [LastUsedAt] datetime2(3) NULL,
  [RevokedAt] datetime2(3) NULL
);
GO

CREATE TABLE [MasterData] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_MasterData] PRIMARY KEY,
  [Category] nvarchar(100) NOT NULL,
  [Key] nvarchar(200) NOT NULL,
  [Value] nvarchar(max) NOT NULL,
  [IsSecret] bit NOT NULL CONSTRAINT [DF_MasterData_IsSecret] DEFAULT 0,
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_MasterData_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_MasterData_Category_Key] ON [MasterData] ([Category], [Key]);
GO

CREATE TABLE [MessageMaster] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_MessageMaster] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [Language] nvarchar(20) NOT NULL,
  [Category] nvarchar(50) NULL,
  [ApprovalStatus] nvarchar(30) NOT NULL CONSTRAINT [DF_MessageMaster_ApprovalStatus] DEFAULT N'Approved',
  [HeaderType] nvarchar(20) NOT NULL CONSTRAINT [DF_MessageMaster_HeaderType] DEFAULT N'none',
  [HeaderText] nvarchar(1000) NULL,
  [Body] nvarchar(max) NOT NULL,
  [Footer] nvarchar(200) NULL,
  [Buttons] nvarchar(max) NOT NULL CONSTRAINT [DF_MessageMaster_Buttons] DEFAULT N'[]',
  [Provider] nvarchar(50) NULL,
  [ProviderTemplateId] nvarchar(200) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_MessageMaster_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_MessageMaster_UpdatedAt] DEFAULT SYSUTCDATETIME(),
  [ArchivedAt] datetime2(3) NULL
);
CREATE UNIQUE INDEX [UX_MessageMaster_Name_Language] ON [MessageMaster] ([Name], [Language]);
GO

CREATE TABLE [DripSequence] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_DripSequence] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [Description] nvarchar(2000) NULL,
  [StopOnReply] bit NOT NULL CONSTRAINT [DF_DripSequence_StopOnReply] DEFAULT 0,
  [Version] int NOT NULL CONSTRAINT [DF_DripSequence_Version] DEFAULT 1,
  [ArchivedAt] datetime2(3) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_DripSequence_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_DripSequence_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
GO

CREATE TABLE [DripSequenceSteps] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_DripSequenceSteps] PRIMARY KEY,
  [SequenceId] int NOT NULL CONSTRAINT [FK_DripSequenceSteps_DripSequence] REFERENCES [DripSequence] ([Id]),
  [StepOrder] int NOT NULL,
  [TemplateName] nvarchar(200) NOT NULL,
  [TemplateLanguage] nvarchar(20) NOT NULL,
  [DelaySeconds] int NOT NULL,
  [Variables] nvarchar(max) NOT NULL
);
CREATE UNIQUE INDEX [UX_DripSequenceSteps_Sequence_Order] ON [DripSequenceSteps] ([SequenceId], [StepOrder]);
GO

CREATE TABLE [LeadDripAssignment] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_LeadDripAssignment] PRIMARY KEY,
  [LeadId] int NOT NULL CONSTRAINT [FK_LeadDripAssignment_Clients] REFERENCES [Clients] ([Id]),
  [SequenceId] int NOT NULL CONSTRAINT [FK_LeadDripAssignment_DripSequence] REFERENCES [DripSequence] ([Id]),
  [SequenceVersion] int NOT NULL,
  [StepsSnapshot] nvarchar(max) NOT NULL,
  [Status] nvarchar(20) NOT NULL,
  [NextStep] int NOT NULL CONSTRAINT [DF_LeadDripAssignment_NextStep] DEFAULT 0,
  [TotalSteps] int NOT NULL,
  [NextSendAt] datetime2(3) NULL,
  [StopReason] nvarchar(200) NULL,
  [LastError] nvarchar(2000) NULL,
  [WorkflowId] nvarchar(200) NULL,
  [StartedAt] datetime2(3) NOT NULL CONSTRAINT [DF_LeadDripAssignment_StartedAt] DEFAULT SYSUTCDATETIME(),
  [CompletedAt] datetime2(3) NULL,
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_LeadDripAssignment_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
-- At most one live enrolment of a lead in a sequence, enforced by the database.
CREATE UNIQUE INDEX [UX_LeadDripAssignment_Active] ON [LeadDripAssignment] ([LeadId], [SequenceId])
  WHERE [Status] IN (N'pending', N'active', N'paused');
CREATE INDEX [IX_LeadDripAssignment_Sequence_Status] ON [LeadDripAssignment] ([SequenceId], [Status]);
CREATE INDEX [IX_LeadDripAssignment_Lead_Status] ON [LeadDripAssignment] ([LeadId], [Status]);
GO

CREATE TABLE [DripAssignmentEvents] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_DripAssignmentEvents] PRIMARY KEY,
  [AssignmentId] int NOT NULL CONSTRAINT [FK_DripAssignmentEvents_LeadDripAssignment] REFERENCES [LeadDripAssignment] ([Id]),
  [StepIndex] int NULL,
  [Event] nvarchar(30) NOT NULL,
  [Detail] nvarchar(max) NULL,
  [At] datetime2(3) NOT NULL CONSTRAINT [DF_DripAssignmentEvents_At] DEFAULT SYSUTCDATETIME()
);
CREATE INDEX [IX_DripAssignmentEvents_Assignment] ON [DripAssignmentEvents] ([AssignmentId], [Id]);
GO

CREATE TABLE [WhatsAppMessages] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_WhatsAppMessages] PRIMARY KEY,
  [IdempotencyKey] nvarchar(400) NULL,
  [LeadId] int NULL,
  [Direction] nvarchar(10) NOT NULL,
  [Provider] nvarchar(50) NOT NULL,
  [ProviderMessageId] nvarchar(200) NULL,
  [Phone] nvarchar(32) NOT NULL,
  [CountryCode] nvarchar(8) NULL,
  [TemplateName] nvarchar(200) NULL,
  [TemplateLanguage] nvarchar(20) NULL,
  [MessageContent] nvarchar(max) NOT NULL CONSTRAINT [DF_WhatsAppMessages_MessageContent] DEFAULT N'{}',
  [MediaUrl] nvarchar(2000) NULL,
  [ReferenceType] nvarchar(20) NULL,
  [ReferenceId] nvarchar(100) NULL,
  [WorkflowId] nvarchar(200) NULL,
  [StepIndex] int NULL,
  [CallbackData] nvarchar(400) NULL,
  [CampaignId] nvarchar(100) NULL,
  [Status] nvarchar(20) NOT NULL,
  [Attempts] int NOT NULL CONSTRAINT [DF_WhatsAppMessages_Attempts] DEFAULT 0,
  [AttemptStartedAt] datetime2(3) NULL,
  [SentAt] datetime2(3) NULL,
  [DeliveredAt] datetime2(3) NULL,
  [ReadAt] datetime2(3) NULL,
  [FailedAt] datetime2(3) NULL,
  [ErrorCode] nvarchar(100) NULL,
  [ErrorMessage] nvarchar(2000) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_WhatsAppMessages_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_WhatsAppMessages_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
-- Filtered: incoming messages have no key, and a plain unique index treats NULLs as equal.
CREATE UNIQUE INDEX [UX_WhatsAppMessages_IdempotencyKey] ON [WhatsAppMessages] ([IdempotencyKey])
  WHERE [IdempotencyKey] IS NOT NULL;
CREATE INDEX [IX_WhatsAppMessages_ProviderMessageId] ON [WhatsAppMessages] ([ProviderMessageId]);
CREATE INDEX [IX_WhatsAppMessages_CallbackData] ON [WhatsAppMessages] ([CallbackData]);
CREATE INDEX [IX_WhatsAppMessages_Lead_CreatedAt] ON [WhatsAppMessages] ([LeadId], [CreatedAt]);
CREATE INDEX [IX_WhatsAppMessages_Reference] ON [WhatsAppMessages] ([ReferenceType], [ReferenceId]);
GO
