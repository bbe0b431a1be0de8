-- A rollup of the sends' outcomes per day, so the KPIs of a long period add up whole days instead
-- of reading every send (src/db/queries/analytics-days.ts). It is a cache of the message log, never
-- counted into: a day is recomputed from the log whenever a send created that day changed.
-- One row per day (of CreatedAt, UTC, as days since 1970-01-01) and reply hour: ReplyHour h in
-- 1..720 holds the sends whose first reply came more than h - 1 and at most h hours after the send
-- (so "replied within W hours" is exact for any whole W), 0 every other send.
CREATE TABLE AnalyticsSendDays (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Day INTEGER NOT NULL,
  ReplyHour INTEGER NOT NULL,
  Total INTEGER NOT NULL,
  Sent INTEGER NOT NULL,
  Delivered INTEGER NOT NULL,
  Read INTEGER NOT NULL,
  Failed INTEGER NOT NULL,
  Pending INTEGER NOT NULL
);
CREATE UNIQUE INDEX UX_AnalyticsSendDays_Day_ReplyHour ON AnalyticsSendDays (Day, ReplyHour);
-- The sums of a range of days read this index alone.
CREATE INDEX IX_AnalyticsSendDays_Day_Counts ON AnalyticsSendDays (Day, ReplyHour, Total, Sent, Delivered, Read, Failed, Pending);
-- How far the rollup has caught up with the log: every send changed (UpdatedAt) at or before
-- Watermark is counted in it. One row; the first KPI read after this migration builds the rollup.
CREATE TABLE AnalyticsRollupState (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  Watermark INTEGER NOT NULL
);
INSERT INTO AnalyticsRollupState (Watermark) VALUES (0);
