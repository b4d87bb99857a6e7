-- Parley core schema. Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE departments (
  id          TEXT PRIMARY KEY,            -- slug, e.g. 'general'
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
-- Chats and agents without a department belong to 'general'.
INSERT INTO departments (id, name, created_at) VALUES ('general', 'General', 0);

CREATE TABLE agents (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name                 TEXT NOT NULL,
  role                 TEXT NOT NULL CHECK (role IN ('administrator', 'supervisor', 'agent')),
  password_hash        TEXT NOT NULL,      -- argon2id encoded string
  password_changed_at  INTEGER NOT NULL,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  max_chats            INTEGER,            -- NULL: AGENT_MAX_CHATS
  disabled_at          INTEGER,
  created_at           INTEGER NOT NULL
);

CREATE TABLE agent_departments (
  agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  department_id  TEXT NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
  PRIMARY KEY (agent_id, department_id)
);

CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,          -- random 128-bit, base64url; named by the session JWT
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  ip            TEXT,
  user_agent    TEXT,
  revoked_at    INTEGER
);
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE chats (
  id             TEXT PRIMARY KEY,
  visitor_id     TEXT NOT NULL,
  visitor_name   TEXT,
  visitor_email  TEXT,
  department_id  TEXT NOT NULL REFERENCES departments(id),
  page_url       TEXT,
  variables      TEXT,                     -- JSON object of custom variables
  status         TEXT NOT NULL CHECK (status IN ('queued', 'active', 'ended', 'missed')),
  agent_id       TEXT REFERENCES agents(id),
  created_at     INTEGER NOT NULL,
  accepted_at    INTEGER,
  ended_at       INTEGER
);
CREATE INDEX chats_status ON chats(status, created_at);
CREATE INDEX chats_agent ON chats(agent_id, created_at);

-- Every event of a chat, flushed from the ChatSession object. (chat_id, seq) makes a
-- retried flush harmless (INSERT OR IGNORE). Text is already masked.
CREATE TABLE messages (
  chat_id      TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  sender_role  TEXT NOT NULL,              -- 'visitor' | 'agent' | 'system'
  sender_id    TEXT,
  sender_name  TEXT,
  text         TEXT,
  at           INTEGER NOT NULL,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;

CREATE TABLE offline_messages (
  id             TEXT PRIMARY KEY,
  name           TEXT,
  email          TEXT NOT NULL,
  department_id  TEXT NOT NULL REFERENCES departments(id),
  message        TEXT NOT NULL,
  page_url       TEXT,
  ip             TEXT,
  created_at     INTEGER NOT NULL
);
CREATE INDEX offline_messages_created ON offline_messages(department_id, created_at);

-- Append-only: no route updates or deletes rows. prev_hash/hash carry the tamper-evident
-- chain (written by the single serialized audit writer).
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  actor_type  TEXT NOT NULL,               -- 'agent' | 'visitor' | 'system' | 'cli' | 'anonymous'
  actor_id    TEXT,
  action      TEXT NOT NULL,               -- e.g. 'auth.login'
  target      TEXT,
  outcome     TEXT NOT NULL,               -- 'success' | 'failure' | 'denied'
  ip          TEXT,
  user_agent  TEXT,
  details     TEXT,                        -- JSON; never secrets, passwords or card numbers
  prev_hash   TEXT,
  hash        TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
