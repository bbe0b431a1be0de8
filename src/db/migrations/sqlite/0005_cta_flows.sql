-- CTA follow-up flows: IVR calls, flow definitions and runs, clicks, and the lead's notes and tasks.
ALTER TABLE Clients ADD COLUMN MarketingSuppressedAt INTEGER;
ALTER TABLE Clients ADD COLUMN Source TEXT NOT NULL DEFAULT 'crm';

CREATE TABLE IVRCallLog (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  CallId TEXT NOT NULL,
  CallerNumber TEXT NOT NULL,
  CallerPhone TEXT NOT NULL,
  CalledNumber TEXT NOT NULL,
  CalledAt INTEGER NOT NULL,
  LeadId INTEGER NOT NULL,
  LeadCreated INTEGER NOT NULL DEFAULT 0,
  Status TEXT NOT NULL DEFAULT 'received',
  FlowRunId INTEGER,
  ProcessedAt INTEGER,
  Note TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_IVRCallLog_CallId ON IVRCallLog (CallId);
CREATE INDEX IX_IVRCallLog_Received ON IVRCallLog (Id) WHERE Status = 'received';

CREATE TABLE CtaFlows (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Name TEXT NOT NULL,
  TemplateName TEXT NOT NULL,
  TemplateLanguage TEXT NOT NULL,
  ProjectName TEXT NOT NULL,
  BodyVariables TEXT NOT NULL DEFAULT '[]',
  InterestedButtonIndex INTEGER NOT NULL DEFAULT 0,
  NotInterestedButtonIndex INTEGER NOT NULL DEFAULT 1,
  ReminderAfterSeconds INTEGER NOT NULL,
  CloseAfterSeconds INTEGER NOT NULL,
  TokenTtlSeconds INTEGER NOT NULL,
  BrochureTemplateName TEXT NOT NULL,
  BrochureTemplateLanguage TEXT NOT NULL,
  BrochureUrl TEXT,
  BrochureFileName TEXT,
  FollowUpCallAfterSeconds INTEGER NOT NULL,
  IvrNumber TEXT,
  ArchivedAt INTEGER,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_CtaFlows_Name ON CtaFlows (Name);

CREATE TABLE CtaFlowRuns (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  FlowId INTEGER NOT NULL REFERENCES CtaFlows (Id),
  LeadId INTEGER NOT NULL,
  WorkflowId TEXT NOT NULL,
  Trigger TEXT NOT NULL,
  IvrCallId INTEGER,
  Status TEXT NOT NULL DEFAULT 'pending',
  Decision TEXT,
  DecidedAt INTEGER,
  SentAt INTEGER,
  RemindedAt INTEGER,
  ClosedAt INTEGER,
  LastError TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  UpdatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE UNIQUE INDEX UX_CtaFlowRuns_Flow_Lead ON CtaFlowRuns (FlowId, LeadId);
CREATE UNIQUE INDEX UX_CtaFlowRuns_WorkflowId ON CtaFlowRuns (WorkflowId);
CREATE INDEX IX_CtaFlowRuns_Lead ON CtaFlowRuns (LeadId);
CREATE INDEX IX_CtaFlowRuns_Flow_SentAt ON CtaFlowRuns (FlowId, SentAt);

CREATE TABLE CtaInteractions (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  RunId INTEGER NOT NULL REFERENCES CtaFlowRuns (Id),
  FlowId INTEGER NOT NULL,
  LeadId INTEGER NOT NULL,
  Action TEXT NOT NULL,
  Result TEXT NOT NULL,
  UserAgent TEXT,
  ClickedAt INTEGER NOT NULL
);
CREATE INDEX IX_CtaInteractions_Flow_ClickedAt ON CtaInteractions (FlowId, ClickedAt);
CREATE INDEX IX_CtaInteractions_Run ON CtaInteractions (RunId);

CREATE TABLE LeadNotes (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  LeadId INTEGER NOT NULL,
  Body TEXT NOT NULL,
  Source TEXT NOT NULL,
  DedupeKey TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE INDEX IX_LeadNotes_Lead ON LeadNotes (LeadId, Id);
CREATE UNIQUE INDEX UX_LeadNotes_DedupeKey ON LeadNotes (DedupeKey) WHERE DedupeKey IS NOT NULL;

CREATE TABLE LeadTasks (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  LeadId INTEGER NOT NULL,
  Kind TEXT NOT NULL,
  Title TEXT NOT NULL,
  DueAt INTEGER NOT NULL,
  Status TEXT NOT NULL DEFAULT 'open',
  DedupeKey TEXT,
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  CompletedAt INTEGER
);
CREATE INDEX IX_LeadTasks_Lead ON LeadTasks (LeadId, Id);
CREATE INDEX IX_LeadTasks_Status_DueAt ON LeadTasks (Status, DueAt);
CREATE UNIQUE INDEX UX_LeadTasks_DedupeKey ON LeadTasks (DedupeKey) WHERE DedupeKey IS NOT NULL;
