-- When the session's agent last proved who they are (login, or re-authentication before a
-- security-critical action).
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER;
