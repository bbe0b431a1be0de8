-- Several WhatsApp sender numbers per provider account (Meta phone number ids, Infobip senders):
-- a sequence or CTA flow names its sender (null: the deployment's default), and the message log
-- records which sender sent each message.
ALTER TABLE WhatsAppMessages ADD COLUMN Sender TEXT;
ALTER TABLE DripSequence ADD COLUMN Sender TEXT;
ALTER TABLE CtaFlows ADD COLUMN Sender TEXT;
