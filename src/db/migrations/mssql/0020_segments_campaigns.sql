-- Contacts and campaigns: custom-field definitions, saved segments, campaigns and their recipients.
CREATE TABLE [CustomFieldDefinitions] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_CustomFieldDefinitions] PRIMARY KEY,
  [Name] nvarchar(64) NOT NULL,
  [Type] nvarchar(16) NOT NULL,
  [AllowedValues] nvarchar(max) NOT NULL CONSTRAINT [DF_CustomFieldDefinitions_AllowedValues] DEFAULT N'[]',
  [Description] nvarchar(500) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CustomFieldDefinitions_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CustomFieldDefinitions_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_CustomFieldDefinitions_Name] ON [CustomFieldDefinitions] ([Name]);
GO

CREATE TABLE [Segments] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_Segments] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [Description] nvarchar(1000) NULL,
  [Filter] nvarchar(max) NOT NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Segments_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Segments_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_Segments_Name] ON [Segments] ([Name]);
GO

CREATE TABLE [Campaigns] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_Campaigns] PRIMARY KEY,
  [Name] nvarchar(200) NOT NULL,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_Campaigns_Status] DEFAULT N'draft',
  [TemplateName] nvarchar(512) NOT NULL,
  [TemplateLanguage] nvarchar(20) NOT NULL,
  [Variables] nvarchar(max) NOT NULL CONSTRAINT [DF_Campaigns_Variables] DEFAULT N'{}',
  [SegmentId] int NULL CONSTRAINT [FK_Campaigns_Segments] REFERENCES [Segments] ([Id]),
  [LeadIds] nvarchar(max) NULL,
  [ScheduledAt] datetime2(3) NULL,
  [StartedAt] datetime2(3) NULL,
  [FinishedAt] datetime2(3) NULL,
  [WorkflowId] nvarchar(200) NULL,
  [StopReason] nvarchar(200) NULL,
  [LastError] nvarchar(2000) NULL,
  [ClonedFromId] int NULL,
  [RetargetOfId] int NULL,
  [RetargetOutcome] nvarchar(30) NULL,
  [RetryCount] int NOT NULL CONSTRAINT [DF_Campaigns_RetryCount] DEFAULT 0,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Campaigns_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [UpdatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_Campaigns_UpdatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE INDEX [IX_Campaigns_Status] ON [Campaigns] ([Status], [Id]);
GO

CREATE TABLE [CampaignRecipients] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_CampaignRecipients] PRIMARY KEY,
  [CampaignId] int NOT NULL CONSTRAINT [FK_CampaignRecipients_Campaigns] REFERENCES [Campaigns] ([Id]),
  [LeadId] int NOT NULL,
  [Status] nvarchar(20) NOT NULL CONSTRAINT [DF_CampaignRecipients_Status] DEFAULT N'pending',
  [Reason] nvarchar(100) NULL,
  [ErrorCode] nvarchar(100) NULL,
  [FailureKind] nvarchar(20) NULL,
  [MessageId] int NULL,
  [ProcessedAt] datetime2(3) NULL,
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_CampaignRecipients_CreatedAt] DEFAULT SYSUTCDATETIME()
);
CREATE UNIQUE INDEX [UX_CampaignRecipients_Campaign_Lead] ON [CampaignRecipients] ([CampaignId], [LeadId]);
CREATE INDEX [IX_CampaignRecipients_Campaign_Status] ON [CampaignRecipients] ([CampaignId], [Status], [Id]);
GO
