-- The provider limit's ledger: per sender, one row for each send the limit allows in a minute,
-- holding when it was last taken (ms since 1970, by the database's clock). A send takes the
-- sender's oldest row if that is more than a window old (src/db/queries/send-window.ts).
CREATE TABLE [SendWindowSlots] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_SendWindowSlots] PRIMARY KEY,
  [SenderKey] nvarchar(200) NOT NULL,
  [SlotNo] int NOT NULL,
  [ClaimedAtMs] bigint NOT NULL CONSTRAINT [DF_SendWindowSlots_ClaimedAtMs] DEFAULT 0
);
CREATE UNIQUE INDEX [UX_SendWindowSlots_Sender_Slot] ON [SendWindowSlots] ([SenderKey], [SlotNo]);
CREATE INDEX [IX_SendWindowSlots_Sender_Claimed] ON [SendWindowSlots] ([SenderKey], [ClaimedAtMs]);
GO
