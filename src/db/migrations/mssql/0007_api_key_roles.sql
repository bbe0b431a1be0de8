-- Every API key (and so every console session) has a role: `admin` may do everything, `agent`
-- reads and works with leads, drips, campaigns and CTA flows, never settings, keys or templates.
-- Keys made before roles existed keep what they could do: admin.
ALTER TABLE [ApiKeys] ADD
  [Role] nvarchar(16) NOT NULL CONSTRAINT [DF_ApiKeys_Role] DEFAULT N'admin';
GO
