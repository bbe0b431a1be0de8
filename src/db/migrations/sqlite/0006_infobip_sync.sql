-- Infobip sync runs: what each run was asked to do, and its pages (a page redone after a crash
-- replaces its row, so totals never count twice). Leads learn their last channel and Infobip id.
ALTER TABLE Clients ADD COLUMN LastChannel TEXT;
ALTER TABLE Clients ADD COLUMN InfobipProfileId TEXT;
ALTER TABLE Clients ADD COLUMN LastSyncedAt INTEGER;

CREATE TABLE InfobipSyncRuns (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  RunKey TEXT NOT NULL,
  WorkflowId TEXT NOT NULL,
  Trigger TEXT NOT NULL,
  ScheduleId TEXT,
  Status TEXT NOT NULL DEFAULT 'running',
  Options TEXT NOT NULL,
  DryRun INTEGER NOT NULL DEFAULT 0,
  WindowFrom INTEGER NOT NULL,
  WindowTo INTEGER NOT NULL,
  StartedAt INTEGER NOT NULL,
  FinishedAt INTEGER,
  Fetched INTEGER NOT NULL DEFAULT 0,
  Matched INTEGER NOT NULL DEFAULT 0,
  Created INTEGER NOT NULL DEFAULT 0,
  Updated INTEGER NOT NULL DEFAULT 0,
  Skipped INTEGER NOT NULL DEFAULT 0,
  Invalid INTEGER NOT NULL DEFAULT 0,
  ErrorCount INTEGER NOT NULL DEFAULT 0,
  Failure TEXT
);
CREATE UNIQUE INDEX UX_InfobipSyncRuns_RunKey ON InfobipSyncRuns (RunKey);
CREATE INDEX IX_InfobipSyncRuns_Status_WindowTo ON InfobipSyncRuns (Status, WindowTo);

CREATE TABLE InfobipSyncPages (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  RunId INTEGER NOT NULL REFERENCES InfobipSyncRuns (Id),
  Source TEXT NOT NULL,
  PageNo INTEGER NOT NULL,
  Fetched INTEGER NOT NULL DEFAULT 0,
  Matched INTEGER NOT NULL DEFAULT 0,
  Created INTEGER NOT NULL DEFAULT 0,
  Updated INTEGER NOT NULL DEFAULT 0,
  Skipped INTEGER NOT NULL DEFAULT 0,
  Invalid INTEGER NOT NULL DEFAULT 0,
  Errors TEXT NOT NULL DEFAULT '[]',
  Preview TEXT,
  CompletedAt INTEGER NOT NULL
);
CREATE UNIQUE INDEX UX_InfobipSyncPages_Run_Source_Page ON InfobipSyncPages (RunId, Source, PageNo);
