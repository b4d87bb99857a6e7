-- Canned messages (issue 7): ready-made replies an agent inserts into a chat, in three scopes.
-- 'personal' belongs to one agent (owner_id), 'department' to the agents of one department
-- (department_id), 'global' to every agent. Text is card-masked before it is stored.

CREATE TABLE canned_messages (
  id             TEXT PRIMARY KEY,
  scope          TEXT NOT NULL CHECK (scope IN ('personal', 'department', 'global')),
  owner_id       TEXT REFERENCES agents(id) ON DELETE CASCADE,
  department_id  TEXT REFERENCES departments(id) ON DELETE CASCADE,
  shortcut       TEXT,                     -- lowercase slug the console offers as `/shortcut`
  title          TEXT NOT NULL,
  text           TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  created_by     TEXT NOT NULL,            -- agent id
  updated_at     INTEGER NOT NULL,
  updated_by     TEXT NOT NULL,
  CHECK ((scope = 'personal') = (owner_id IS NOT NULL)),
  CHECK ((scope = 'department') = (department_id IS NOT NULL))
);

-- A shortcut names one message per owner: per agent (personal), per department, and once
-- among the global ones. Inserts and updates rely on this index to detect a collision.
CREATE UNIQUE INDEX canned_messages_shortcut
  ON canned_messages(scope, ifnull(owner_id, ''), ifnull(department_id, ''), shortcut)
  WHERE shortcut IS NOT NULL;
CREATE INDEX canned_messages_owner ON canned_messages(owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX canned_messages_department
  ON canned_messages(department_id) WHERE department_id IS NOT NULL;
