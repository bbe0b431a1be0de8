-- Follow-ups that respect the lead: a sequence's own send window, quiet days and exits (JSON,
-- null = the account's defaults), and the frequency cap's slots, one row per lead and slot.
ALTER TABLE DripSequence ADD COLUMN SendRules TEXT;

CREATE TABLE LeadMarketingSlots (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  LeadId INTEGER NOT NULL,
  SlotNo INTEGER NOT NULL,
  ClaimedAt INTEGER,
  ClaimKey TEXT
);
CREATE UNIQUE INDEX UX_LeadMarketingSlots_Lead_Slot ON LeadMarketingSlots (LeadId, SlotNo);
