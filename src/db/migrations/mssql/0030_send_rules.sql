-- Follow-ups that respect the lead: a sequence's own send window, quiet days and exits (JSON,
-- null = the account's defaults), and the frequency cap's slots, one row per lead and slot.
ALTER TABLE [DripSequence] ADD
  [SendRules] nvarchar(max) NULL;
GO

CREATE TABLE [LeadMarketingSlots] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_LeadMarketingSlots] PRIMARY KEY,
  [LeadId] int NOT NULL,
  [SlotNo] int NOT NULL,
  [ClaimedAt] datetime2(3) NULL,
  [ClaimKey] nvarchar(300) NULL
);
CREATE UNIQUE INDEX [UX_LeadMarketingSlots_Lead_Slot] ON [LeadMarketingSlots] ([LeadId], [SlotNo]);
GO
