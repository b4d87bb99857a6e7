-- Permissions at agent, department and group level; the tamper-evident, searchable audit
-- log; keyword search of transcripts. Permission ids are those of src/security/permissions.ts.

CREATE TABLE groups (
  id          TEXT PRIMARY KEY,            -- slug
  name        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE agent_groups (
  agent_id  TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  group_id  TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  PRIMARY KEY (agent_id, group_id)
) WITHOUT ROWID;
CREATE INDEX agent_groups_group ON agent_groups(group_id);

-- A grant gives one permission to an agent, to every member of a department, or to every
-- member of a group. An agent's effective permissions are the union of the three levels.
CREATE TABLE grants (
  subject_type  TEXT NOT NULL CHECK (subject_type IN ('agent', 'department', 'group')),
  subject_id    TEXT NOT NULL,
  permission    TEXT NOT NULL,
  PRIMARY KEY (subject_type, subject_id, permission)
) WITHOUT ROWID;

-- Presets are ordinary, editable groups.
INSERT INTO groups (id, name, created_at) VALUES
  ('administrators', 'Administrator', 0),
  ('supervisors', 'Supervisor', 0),
  ('agents', 'Agent', 0);

INSERT INTO grants (subject_type, subject_id, permission)
SELECT 'group', 'administrators', value FROM json_each('[
  "chats.accept", "chats.refuse", "chats.join", "chats.transfer", "chats.monitor",
  "agent_chat.use", "visitors.invite", "transcripts.view_department", "transcripts.view_all",
  "transcripts.delete", "reports.view", "campaigns.manage", "canned_messages.manage",
  "bans.manage", "routing.manage", "security.manage", "agents.manage", "departments.manage",
  "groups.manage", "segments.manage", "variables.manage", "audit.view",
  "secure_form.request", "secure_form.view"]');

INSERT INTO grants (subject_type, subject_id, permission)
SELECT 'group', 'supervisors', value FROM json_each('[
  "chats.accept", "chats.refuse", "chats.join", "chats.transfer", "chats.monitor",
  "agent_chat.use", "visitors.invite", "transcripts.view_department", "reports.view",
  "canned_messages.manage", "secure_form.request", "secure_form.view"]');

INSERT INTO grants (subject_type, subject_id, permission)
SELECT 'group', 'agents', value FROM json_each('[
  "chats.accept", "chats.refuse", "chats.transfer", "agent_chat.use", "visitors.invite",
  "secure_form.request", "secure_form.view"]');

-- The role column becomes membership of the matching preset group.
INSERT INTO agent_groups (agent_id, group_id) SELECT id, role || 's' FROM agents;
ALTER TABLE agents DROP COLUMN role;

-- Audit: a department for scoped search, indexes for the filters, and FTS5 for keywords.
ALTER TABLE audit_log ADD COLUMN department TEXT;
CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE VIRTUAL TABLE audit_fts USING fts5(
  action, target, details, actor_id, ip, user_agent,
  content = 'audit_log', content_rowid = 'id'
);
CREATE TRIGGER audit_log_fts_insert AFTER INSERT ON audit_log BEGIN
  INSERT INTO audit_fts (rowid, action, target, details, actor_id, ip, user_agent)
  VALUES (new.id, new.action, new.target, new.details, new.actor_id, new.ip, new.user_agent);
END;
-- Only the retention purge deletes rows (and leaves a checkpoint); keep the index in step.
CREATE TRIGGER audit_log_fts_delete AFTER DELETE ON audit_log BEGIN
  INSERT INTO audit_fts (audit_fts, rowid, action, target, details, actor_id, ip, user_agent)
  VALUES ('delete', old.id, old.action, old.target, old.details, old.actor_id, old.ip,
          old.user_agent);
END;
INSERT INTO audit_fts (audit_fts) VALUES ('rebuild');

-- Transcripts: the post-chat rating (filled by the survey) and keyword search.
ALTER TABLE chats ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5);
CREATE INDEX chats_department ON chats(department_id, created_at);
CREATE VIRTUAL TABLE message_fts USING fts5(text, chat_id UNINDEXED);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
  INSERT INTO message_fts (text, chat_id) VALUES (new.text, new.chat_id);
END;
CREATE TRIGGER chats_fts_delete AFTER DELETE ON chats BEGIN
  DELETE FROM message_fts WHERE chat_id = old.id;
END;
INSERT INTO message_fts (text, chat_id) SELECT text, chat_id FROM messages WHERE text IS NOT NULL;
CREATE INDEX offline_messages_all ON offline_messages(created_at);
