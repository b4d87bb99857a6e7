-- Issue 8, item 5: reports. The time of a chat's first agent message, and the indexes the
-- report queries (src/store/reports.ts) need.

-- Set by insertEvents (src/store/messages.ts) when the first agent `message` of the chat is
-- flushed to D1; never by a visitor message, a whisper or a system event.
ALTER TABLE chats ADD COLUMN first_response_at INTEGER;

-- Chats stored before this migration: the first agent message of their transcript.
UPDATE chats SET first_response_at = (
  SELECT m.at FROM messages m
  WHERE m.chat_id = chats.id AND m.kind = 'message' AND m.sender_role = 'agent'
  ORDER BY m.seq LIMIT 1
)
WHERE accepted_at IS NOT NULL;

-- Every report reads one time range of chats, of every department or of a few (scope or
-- filter): without a department filter through chats_report, with one through
-- chats_report_department. Both carry every column a report computes with, so a report
-- reads the index alone, never the wide chat rows (names, emails, URLs, variables).
CREATE INDEX chats_report ON chats(
  created_at, department_id, status, accepted_at, first_response_at, ended_at, agent_id, rating
);
-- Replaces chats_department (0005), (department_id, created_at): the same leading columns,
-- so the transcript search keeps using it.
CREATE INDEX chats_report_department ON chats(
  department_id, created_at, status, accepted_at, first_response_at, ended_at, agent_id, rating
);
DROP INDEX chats_department;
