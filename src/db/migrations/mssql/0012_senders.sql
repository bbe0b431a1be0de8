-- Several WhatsApp sender numbers per provider account (Meta phone number ids, Infobip senders):
-- a sequence or CTA flow names its sender (null: the deployment's default), and the message log
-- records which sender sent each message.
ALTER TABLE [WhatsAppMessages] ADD
  [Sender] nvarchar(32) NULL;
GO

ALTER TABLE [DripSequence] ADD
  [Sender] nvarchar(32) NULL;
GO

ALTER TABLE [CtaFlows] ADD
  [Sender] nvarchar(32) NULL;
GO
