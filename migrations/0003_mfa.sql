-- Multi-factor authentication (TOTP, RFC 6238) with one-time recovery codes.

-- totp_secret: base32 secret of an enrolled agent (D1 encrypts it at rest; it cannot be
-- hashed, since the server must compute codes from it). totp_pending_secret: offered by
-- setup, active only once a code from it is confirmed. totp_last_step: the last accepted
-- time step, so a code cannot be used twice.
ALTER TABLE agents ADD COLUMN totp_secret TEXT;
ALTER TABLE agents ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE agents ADD COLUMN totp_last_step INTEGER;

-- Departments can require MFA of their agents (MFA_REQUIRED requires it of everyone).
ALTER TABLE departments ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;

-- Recovery codes: SHA-256 of each 80-bit code; a used code is deleted.
CREATE TABLE mfa_recovery_codes (
  agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  PRIMARY KEY (agent_id, code_hash)
) WITHOUT ROWID;
