-- Dripline schema, SQLite flavour. Must match src/db/schema/sqlite.ts (test/db/schema.test.ts checks).
-- Datetimes are INTEGER milliseconds since the epoch (UTC); booleans are INTEGER 0/1.
-- Foreign keys are a connection setting in SQLite, not part of the file: openDb turns them on (and
-- libsql opens every connection with them on). A PRAGMA here would be a no-op, since each
-- migration runs inside a transaction.

CREATE TABLE Clients (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  FirstName TEXT,
  LastName TEXT,
  Phone TEXT NOT NULL CONSTRAINT UQ_Clients_Phone UNIQUE,
  Email TEXT,
  Status TEXT NOT NULL DEFAULT 'New',
  Stage TEXT NOT NULL DEFAULT 'New',
  OptedOut INTEGER NOT NULL DEFAULT 0,
  OptedOutAt INTEGER,
  TimeZone TEXT,
  LastContactedAt INTEGER,
  CustomFields TEXT NOT NULL DEFAULT '{}',
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);

CREATE TABLE Users (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Email TEXT NOT NULL CONSTRAINT UQ_Users_Email UNIQUE,
  Role TEXT NOT NULL,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);

CREATE TABLE ApiKeys (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  KeyHash TEXT NOT NULL CONSTRAINT UQ_ApiKeys_KeyHash UNIQUE,
  KeyPrefix TEXT NOT NULL,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  LastUsedAt INTEGER,
  RevokedAt INTEGER
);

CREATE TABLE MasterData (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Category TEXT NOT NULL,
  Key TEXT NOT NULL,
  Value TEXT NOT NULL,
  IsSecret INTEGER NOT NULL DEFAULT 0,
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_MasterData_Category_Key ON MasterData (Category, Key);

CREATE TABLE MessageMaster (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Language TEXT NOT NULL,
  Category TEXT,
  ApprovalStatus TEXT NOT NULL DEFAULT 'Approved',
  HeaderType TEXT NOT NULL DEFAULT 'none',
  HeaderText TEXT,
  Body TEXT NOT NULL,
  Footer TEXT,
  Buttons TEXT NOT NULL DEFAULT '[]',
  Provider TEXT,
  ProviderTemplateId TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  ArchivedAt INTEGER
);
CREATE UNIQUE INDEX UX_MessageMaster_Name_Language ON MessageMaster (Name, Language);

CREATE TABLE DripSequence (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  Description TEXT,
  StopOnReply INTEGER NOT NULL DEFAULT 0,
  Version INTEGER NOT NULL DEFAULT 1,
  ArchivedAt INTEGER,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);

CREATE TABLE DripSequenceSteps (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  SequenceId INTEGER NOT NULL REFERENCES DripSequence (Id),
  StepOrder INTEGER NOT NULL,
  TemplateName TEXT NOT NULL,
  TemplateLanguage TEXT NOT NULL,
  DelaySeconds INTEGER NOT NULL,
  Variables TEXT NOT NULL
);
CREATE UNIQUE INDEX UX_DripSequenceSteps_Sequence_Order ON DripSequenceSteps (SequenceId, StepOrder);

CREATE TABLE LeadDripAssignment (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  LeadId INTEGER NOT NULL REFERENCES Clients (Id),
  SequenceId INTEGER NOT NULL REFERENCES DripSequence (Id),
  SequenceVersion INTEGER NOT NULL,
  StepsSnapshot TEXT NOT NULL,
  Status TEXT NOT NULL,
  NextStep INTEGER NOT NULL DEFAULT 0,
  TotalSteps INTEGER NOT NULL,
  NextSendAt INTEGER,
  StopReason TEXT,
  LastError TEXT,
  WorkflowId TEXT,
  StartedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  CompletedAt INTEGER,
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
-- At most one live enrolment of a lead in a sequence, enforced by the database.
CREATE UNIQUE INDEX UX_LeadDripAssignment_Active ON LeadDripAssignment (LeadId, SequenceId)
  WHERE Status IN ('pending', 'active', 'paused');
CREATE INDEX IX_LeadDripAssignment_Sequence_Status ON LeadDripAssignment (SequenceId, Status);
CREATE INDEX IX_LeadDripAssignment_Lead_Status ON LeadDripAssignment (LeadId, Status);

CREATE TABLE DripAssignmentEvents (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  AssignmentId INTEGER NOT NULL REFERENCES LeadDripAssignment (Id),
  StepIndex INTEGER,
  Event TEXT NOT NULL,
  Detail TEXT,
  At INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE INDEX IX_DripAssignmentEvents_Assignment ON DripAssignmentEvents (AssignmentId, Id);

CREATE TABLE WhatsAppMessages (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  IdempotencyKey TEXT,
  LeadId INTEGER,
  Direction TEXT NOT NULL,
  Provider TEXT NOT NULL,
  ProviderMessageId TEXT,
  Phone TEXT NOT NULL,
  CountryCode TEXT,
  TemplateName TEXT,
  TemplateLanguage TEXT,
  MessageContent TEXT NOT NULL DEFAULT '{}',
  MediaUrl TEXT,
  ReferenceType TEXT,
  ReferenceId TEXT,
  WorkflowId TEXT,
  StepIndex INTEGER,
  CallbackData TEXT,
  CampaignId TEXT,
  Status TEXT NOT NULL,
  Attempts INTEGER NOT NULL DEFAULT 0,
  AttemptStartedAt INTEGER,
  SentAt INTEGER,
  DeliveredAt INTEGER,
  ReadAt INTEGER,
  FailedAt INTEGER,
  ErrorCode TEXT,
  ErrorMessage TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_WhatsAppMessages_IdempotencyKey ON WhatsAppMessages (IdempotencyKey)
  WHERE IdempotencyKey IS NOT NULL;
CREATE INDEX IX_WhatsAppMessages_ProviderMessageId ON WhatsAppMessages (ProviderMessageId);
CREATE INDEX IX_WhatsAppMessages_CallbackData ON WhatsAppMessages (CallbackData);
CREATE INDEX IX_WhatsAppMessages_Lead_CreatedAt ON WhatsAppMessages (LeadId, CreatedAt);
CREATE INDEX IX_WhatsAppMessages_Reference ON WhatsAppMessages (ReferenceType, ReferenceId);
