-- Contacts and campaigns: custom-field definitions, saved segments, campaigns and their recipients.
CREATE TABLE CustomFieldDefinitions (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Type TEXT NOT NULL,
  AllowedValues TEXT NOT NULL DEFAULT '[]',
  Description TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_CustomFieldDefinitions_Name ON CustomFieldDefinitions (Name);

CREATE TABLE Segments (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Description TEXT,
  Filter TEXT NOT NULL,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_Segments_Name ON Segments (Name);

CREATE TABLE Campaigns (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Status TEXT NOT NULL DEFAULT 'draft',
  TemplateName TEXT NOT NULL,
  TemplateLanguage TEXT NOT NULL,
  Variables TEXT NOT NULL DEFAULT '{}',
  SegmentId INTEGER REFERENCES Segments (Id),
  LeadIds TEXT,
  ScheduledAt INTEGER,
  StartedAt INTEGER,
  FinishedAt INTEGER,
  WorkflowId TEXT,
  StopReason TEXT,
  LastError TEXT,
  ClonedFromId INTEGER,
  RetargetOfId INTEGER,
  RetargetOutcome TEXT,
  RetryCount INTEGER NOT NULL DEFAULT 0,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE INDEX IX_Campaigns_Status ON Campaigns (Status, Id);

CREATE TABLE CampaignRecipients (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  CampaignId INTEGER NOT NULL REFERENCES Campaigns (Id),
  LeadId INTEGER NOT NULL,
  Status TEXT NOT NULL DEFAULT 'pending',
  Reason TEXT,
  ErrorCode TEXT,
  FailureKind TEXT,
  MessageId INTEGER,
  ProcessedAt INTEGER,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_CampaignRecipients_Campaign_Lead ON CampaignRecipients (CampaignId, LeadId);
CREATE INDEX IX_CampaignRecipients_Campaign_Status ON CampaignRecipients (CampaignId, Status, Id);
