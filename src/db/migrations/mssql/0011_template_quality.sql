-- The provider's quality rating of a template (Meta: GREEN, YELLOW, RED, UNKNOWN; Infobip's
-- `quality`), from a sync or a quality webhook.
ALTER TABLE [MessageMaster] ADD
  [QualityScore] nvarchar(20) NULL;
GO
