-- Issue 9: retention purge and legal hold (src/store/retention.ts, worker/scheduled.ts).

-- A chat on legal hold is never deleted, neither by DELETE /api/transcripts/:id nor by the
-- retention purge. The reason is card-masked; legal_hold_by is the agent's id.
ALTER TABLE chats ADD COLUMN legal_hold_at INTEGER;
ALTER TABLE chats ADD COLUMN legal_hold_by TEXT;
ALTER TABLE chats ADD COLUMN legal_hold_reason TEXT;
-- The purge's candidates, oldest end first (chats on hold are not in the index).
CREATE INDEX chats_retention ON chats(ended_at) WHERE legal_hold_at IS NULL;

-- The transcript keyword index (0005) found a chat's rows with
-- `DELETE FROM message_fts WHERE chat_id = …`, a scan of the whole index (chat_id is
-- UNINDEXED): about 0.5 s per deleted chat at a million indexed messages, so purging a
-- thousand chats could not fit in one cron run. message_fts_docs maps each index row (its
-- rowid) to its chat through a B-tree index; the purge of 1,000 chats of 50 messages then takes
-- about 1.5 s at a million indexed messages instead of minutes. The table is part of the index:
-- named after it (`message_fts_…`), it is rebuilt by the triggers, never backed up
-- (scripts/lib/backup.ts).
CREATE TABLE message_fts_docs (
  id       INTEGER PRIMARY KEY,   -- = message_fts.rowid
  chat_id  TEXT NOT NULL
);
CREATE INDEX message_fts_docs_chat ON message_fts_docs(chat_id);
INSERT INTO message_fts_docs (id, chat_id) SELECT rowid, chat_id FROM message_fts;

DROP TRIGGER messages_fts_insert;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
  INSERT INTO message_fts_docs (chat_id) VALUES (new.chat_id);
  INSERT INTO message_fts (rowid, text, chat_id) VALUES (last_insert_rowid(), new.text, new.chat_id);
END;

DROP TRIGGER chats_fts_delete;
CREATE TRIGGER chats_fts_delete AFTER DELETE ON chats BEGIN
  DELETE FROM message_fts WHERE rowid IN (SELECT id FROM message_fts_docs WHERE chat_id = old.id);
  DELETE FROM message_fts_docs WHERE chat_id = old.id;
END;
