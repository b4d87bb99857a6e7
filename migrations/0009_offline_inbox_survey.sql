-- Issue 7: the offline-message inbox (handled or open, and the replies agents record) and the
-- post-chat survey.

-- NULL: open. Set when an agent marks the message handled or records a reply; cleared on reopen.
ALTER TABLE offline_messages ADD COLUMN handled_at INTEGER;
ALTER TABLE offline_messages ADD COLUMN handled_by TEXT;   -- agent id, with handled_at

-- What an agent answered, by their own channel (Parley sends no email). Text is already masked.
-- agent_name is the name at the time, so the record reads the same after a rename.
CREATE TABLE offline_message_replies (
  id                  TEXT PRIMARY KEY,
  offline_message_id  TEXT NOT NULL REFERENCES offline_messages(id) ON DELETE CASCADE,
  agent_id            TEXT NOT NULL,
  agent_name          TEXT NOT NULL,
  text                TEXT NOT NULL,
  at                  INTEGER NOT NULL
);
CREATE INDEX offline_message_replies_message ON offline_message_replies(offline_message_id, at);

-- The survey's rating goes to chats.rating (0005); its comment (masked) and time go here.
ALTER TABLE chats ADD COLUMN survey_comment TEXT;
ALTER TABLE chats ADD COLUMN survey_at INTEGER;
