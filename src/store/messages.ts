/** D1 access to chat transcripts (the `messages` table). */
import type { ChatEvent } from "../protocol/chat-frames.ts";
import type { TranscriptMessage } from "../protocol/http.ts";

/** Rows per INSERT: 8 columns each, under D1's 100 bound parameters per statement. */
const ROWS_PER_STATEMENT = 12;

/**
 * Writes events idempotently: `INSERT OR IGNORE` keyed by (chat_id, seq), so a retried
 * flush never duplicates. All statements run in one batch (one transaction), with the chat's
 * `first_response_at` (reports) when the batch holds an agent message: only a chat without one
 * is written (batches are flushed in order, a retry repeats the same time), so later batches
 * cost no row write.
 */
export async function insertEvents(
  db: D1Database,
  chatId: string,
  events: ChatEvent[],
): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < events.length; start += ROWS_PER_STATEMENT) {
    const chunk = events.slice(start, start + ROWS_PER_STATEMENT);
    const placeholders = chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
    const values = chunk.flatMap((event) => [
      chatId,
      event.seq,
      event.kind,
      event.from.role,
      event.from.id,
      event.from.name,
      event.text ?? null,
      event.at,
    ]);
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO messages
             (chat_id, seq, kind, sender_role, sender_id, sender_name, text, at)
           VALUES ${placeholders}`,
        )
        .bind(...values),
    );
  }
  // Whispers (kind `whisper`) and visitor or system events are not a response to the visitor.
  const response = events.find((event) => event.kind === "message" && event.from.role === "agent");
  if (response) {
    statements.push(
      db
        .prepare(
          "UPDATE chats SET first_response_at = ?1 WHERE id = ?2 AND first_response_at IS NULL",
        )
        .bind(response.at, chatId),
    );
  }
  if (statements.length > 0) await db.batch(statements);
}

/** A chat's stored events in order. */
export async function listTranscript(db: D1Database, chatId: string): Promise<TranscriptMessage[]> {
  const { results } = await db
    .prepare(
      `SELECT seq, kind, sender_role AS senderRole, sender_name AS senderName, text, at
       FROM messages WHERE chat_id = ?1 ORDER BY seq`,
    )
    .bind(chatId)
    .all<TranscriptMessage>();
  return results;
}
