-- Agent-to-agent chat (issue 7, item 5): direct messages between two agents, listed per
-- conversation and searchable by supervisors. Text is card-masked before it is stored.

CREATE TABLE agent_messages (
  id               TEXT PRIMARY KEY,
  -- Both agent ids, sorted, joined by ':' (src/protocol/agent-chats.ts conversationIdOf).
  conversation_id  TEXT NOT NULL,
  sender_id        TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  recipient_id     TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  -- The sender's idempotency key: a resend with the same one stores nothing new.
  client_id        TEXT NOT NULL,
  text             TEXT NOT NULL,
  at               INTEGER NOT NULL,
  UNIQUE (sender_id, client_id)
);
-- A conversation newest first (keyset on at, id).
CREATE INDEX agent_messages_conversation ON agent_messages(conversation_id, at, id);
-- An agent's conversations: sent ones through the UNIQUE index (sender_id first), received
-- ones through this one.
CREATE INDEX agent_messages_recipient ON agent_messages(recipient_id, at);
-- Supervisors' search without a keyword: newest first over every conversation.
CREATE INDEX agent_messages_at ON agent_messages(at, id);

-- Keyword search, kept like message_fts (0005). Unlike transcripts, messages have no parent
-- row that owns their deletion, so the index follows the messages themselves.
CREATE VIRTUAL TABLE agent_message_fts USING fts5(text, message_id UNINDEXED);
CREATE TRIGGER agent_messages_fts_insert AFTER INSERT ON agent_messages BEGIN
  INSERT INTO agent_message_fts (text, message_id) VALUES (new.text, new.id);
END;
CREATE TRIGGER agent_messages_fts_delete AFTER DELETE ON agent_messages BEGIN
  DELETE FROM agent_message_fts WHERE message_id = old.id;
END;
