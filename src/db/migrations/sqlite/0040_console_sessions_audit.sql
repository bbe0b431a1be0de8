-- Console sign-ins (an API key exchanged for a cookie; only the token's SHA-256 is kept) and the
-- audit log of changes: who (key id, name, role, signed in how), what (method, route, id), when.
CREATE TABLE ConsoleSessions (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  TokenHash TEXT NOT NULL CONSTRAINT UQ_ConsoleSessions_TokenHash UNIQUE,
  ApiKeyId INTEGER NOT NULL REFERENCES ApiKeys (Id),
  CreatedAt INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
  ExpiresAt INTEGER NOT NULL,
  RevokedAt INTEGER
);
CREATE INDEX IX_ConsoleSessions_ExpiresAt ON ConsoleSessions (ExpiresAt);

CREATE TABLE AuditLog (
  Id INTEGER PRIMARY KEY AUTOINCREMENT,
  At INTEGER NOT NULL,
  ActorKeyId INTEGER NOT NULL,
  ActorName TEXT NOT NULL,
  ActorRole TEXT NOT NULL,
  Via TEXT NOT NULL,
  Method TEXT NOT NULL,
  Route TEXT NOT NULL,
  TargetId TEXT,
  Status INTEGER NOT NULL
);
CREATE INDEX IX_AuditLog_At ON AuditLog (At);
