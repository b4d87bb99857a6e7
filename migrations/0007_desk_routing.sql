-- The agent's desk (issue 7): routing and allocation rules per department, the agents taking
-- part in a chat besides its owner, and the permission to invite another agent into a chat.

-- One row per department with rules; a department without a row routes least busy first
-- with the deployment's OFFER_TIMEOUT, no overflow and no business hours (always open).
CREATE TABLE routing_rules (
  department_id           TEXT PRIMARY KEY REFERENCES departments(id) ON DELETE CASCADE,
  strategy                TEXT NOT NULL DEFAULT 'least_busy'
                            CHECK (strategy IN ('least_busy', 'round_robin', 'manual')),
  offer_timeout_seconds   INTEGER,         -- NULL: OFFER_TIMEOUT
  overflow_to             TEXT REFERENCES departments(id) ON DELETE SET NULL,
  overflow_after_seconds  INTEGER,
  business_hours          TEXT,            -- JSON (src/protocol/routing.ts); NULL: always open
  updated_at              INTEGER NOT NULL,
  updated_by              TEXT
);

-- Agents in a chat besides its owner (chats.agent_id): joined or invited. The owner and these
-- agents may open the chat socket in mode `participate`; `left_at` ends that right.
CREATE TABLE chat_agents (
  chat_id    TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('joined', 'invited')),
  added_at   INTEGER NOT NULL,
  added_by   TEXT,
  left_at    INTEGER,
  PRIMARY KEY (chat_id, agent_id)
) WITHOUT ROWID;
CREATE INDEX chat_agents_agent ON chat_agents(agent_id, added_at);

-- A chat moved to another department by overflow or transfer keeps where it started.
ALTER TABLE chats ADD COLUMN started_department_id TEXT;

-- New permission: invite another agent into an own chat. Every preset may (like transfer),
-- and administrators keep holding every permission.
INSERT INTO grants (subject_type, subject_id, permission) VALUES
  ('group', 'administrators', 'chats.invite'),
  ('group', 'supervisors', 'chats.invite'),
  ('group', 'agents', 'chats.invite');
