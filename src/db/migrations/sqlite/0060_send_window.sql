-- The provider limit's ledger: per sender, one row for each send the limit allows in a minute,
-- holding when it was last taken (ms since 1970, by the database's clock). A send takes the
-- sender's oldest row if that is more than a window old (src/db/queries/send-window.ts).
CREATE TABLE SendWindowSlots (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  SenderKey TEXT NOT NULL,
  SlotNo INTEGER NOT NULL,
  ClaimedAtMs INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX UX_SendWindowSlots_Sender_Slot ON SendWindowSlots (SenderKey, SlotNo);
CREATE INDEX IX_SendWindowSlots_Sender_Claimed ON SendWindowSlots (SenderKey, ClaimedAtMs);
