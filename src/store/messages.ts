/** D1 access to chat transcripts (the `messages` table). */
import type { ChatEvent } from "../protocol/chat-frames.ts";
import type { TranscriptMessage } from "../protocol/http.ts";

/** Rows per INSERT: 8 columns each, under D1's 100 bound parameters per statement. */
const ROWS_PER_STATEMENT = 12;

/**
 * Writes events idempotently: `INSERT OR IGNORE` keyed by (chat_id, seq), so a retried
 * flush never duplicates. All statements run in one batch (one transaction).
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
