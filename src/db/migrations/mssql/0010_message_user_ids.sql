-- A WhatsApp user may reach us by a business-scoped user id instead of a phone number (Infobip
-- writes it where the number would be, up to 150 characters): the message log keeps it as it is.
ALTER TABLE [WhatsAppMessages] ALTER COLUMN [Phone] nvarchar(160) NOT NULL;
GO
