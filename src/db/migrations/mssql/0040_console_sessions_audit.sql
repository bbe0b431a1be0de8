-- Console sign-ins (an API key exchanged for a cookie; only the token's SHA-256 is kept) and the
-- audit log of changes: who (key id, name, role, signed in how), what (method, route, id), when.
CREATE TABLE [ConsoleSessions] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_ConsoleSessions] PRIMARY KEY,
  [TokenHash] nvarchar(64) NOT NULL CONSTRAINT [UQ_ConsoleSessions_TokenHash] UNIQUE,
  [ApiKeyId] int NOT NULL CONSTRAINT [FK_ConsoleSessions_ApiKeys] REFERENCES [ApiKeys] ([Id]),
  [CreatedAt] datetime2(3) NOT NULL CONSTRAINT [DF_ConsoleSessions_CreatedAt] DEFAULT SYSUTCDATETIME(),
  [ExpiresAt] datetime2(3) NOT NULL,
  [RevokedAt] datetime2(3) NULL
);
CREATE INDEX [IX_ConsoleSessions_ExpiresAt] ON [ConsoleSessions] ([ExpiresAt]);
GO

CREATE TABLE [AuditLog] (
  [Id] int IDENTITY(1,1) NOT NULL CONSTRAINT [PK_AuditLog] PRIMARY KEY,
  [At] datetime2(3) NOT NULL,
  [ActorKeyId] int NOT NULL,
  [ActorName] nvarchar(200) NOT NULL,
  [ActorRole] nvarchar(16) NOT NULL,
  [Via] nvarchar(16) NOT NULL,
  [Method] nvarchar(10) NOT NULL,
  [Route] nvarchar(200) NOT NULL,
  [TargetId] nvarchar(100) NULL,
  [Status] int NOT NULL
);
CREATE INDEX [IX_AuditLog_At] ON [AuditLog] ([At]);
GO
