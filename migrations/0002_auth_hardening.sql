-- Login hardening, password lifecycle and account hygiene (authentication issue).

-- Consecutive login failures, counted exactly, per account (keyed by the normalised email,
-- whether or not the account exists, so the answers never reveal which accounts exist)
-- and per client IP.
CREATE TABLE login_failures (
  kind          TEXT NOT NULL CHECK (kind IN ('account', 'ip')),
  key           TEXT NOT NULL,
  failures      INTEGER NOT NULL,
  last_failure  INTEGER NOT NULL,
  locked_until  INTEGER,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- Spent CAPTCHA solutions (a solution is accepted once); purged after expiry.
CREATE TABLE captcha_used (
  signature   TEXT PRIMARY KEY,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Earlier password hashes, for PASSWORD_HISTORY (PCI DSS 8.3.7).
CREATE TABLE password_history (
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  hash        TEXT NOT NULL,
  changed_at  INTEGER NOT NULL
);
CREATE INDEX password_history_agent ON password_history(agent_id, changed_at);

-- One-time password reset / set-password tokens: only a SHA-256 of the token is stored.
CREATE TABLE password_tokens (
  token_hash  TEXT PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  purpose     TEXT NOT NULL CHECK (purpose IN ('reset', 'set')),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX password_tokens_agent ON password_tokens(agent_id, created_at);

ALTER TABLE agents ADD COLUMN last_login_at INTEGER;
-- Existing agents: their last session is their last login (without one, the inactivity rule
-- falls back to the creation date), so the first cron run disables no active agent.
UPDATE agents SET last_login_at = (SELECT max(created_at) FROM sessions WHERE sessions.agent_id = agents.id);
