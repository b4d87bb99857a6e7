-- Edge rules: the visitor ban list, admin narrowing of the IP allowlists, personal API
-- tokens, and verified visitor identities.

-- A ban refuses chat creation and visitor sockets. kind 'ip': value is an address or CIDR
-- range (src/security/ip-rules.ts); kind 'visitor': value is a visitor id.
CREATE TABLE bans (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('ip', 'visitor')),
  value       TEXT NOT NULL,
  reason      TEXT NOT NULL,
  created_by  TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER                        -- NULL: until lifted
);
CREATE INDEX bans_kind ON bans(kind, value);

-- Security settings agents with "manage security settings" may change within the limits of
-- wrangler.toml (e.g. a narrower IP allowlist). value is JSON.
CREATE TABLE security_settings (
  key         TEXT PRIMARY KEY,
  value       TEXT NOT NULL,
  updated_by  TEXT,
  updated_at  INTEGER NOT NULL
);

-- Personal API tokens (mobile app, integrations): only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX api_tokens_agent ON api_tokens(agent_id);

-- A visitor identity verified with IDENTITY_SECRET: its subject, shown to agents as verified.
ALTER TABLE chats ADD COLUMN identity_sub TEXT;
