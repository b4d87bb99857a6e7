/** D1 access to chats. */
import type { ChatVariables } from "../protocol/variables.ts";

export type ChatRowStatus = "queued" | "active" | "ended" | "missed";

export interface ChatRecord {
  id: string;
  visitorId: string;
  visitorName: string | null;
  visitorEmail: string | null;
  departmentId: string;
  pageUrl: string | null;
  status: ChatRowStatus;
  agentId: string | null;
  createdAt: number;
  /** The verified identity's subject (IDENTITY_SECRET); null for an anonymous visitor. */
  identitySub: string | null;
}

interface ChatRow {
  id: string;
  visitor_id: string;
  visitor_name: string | null;
  visitor_email: string | null;
  department_id: string;
  page_url: string | null;
  status: ChatRowStatus;
  agent_id: string | null;
  created_at: number;
  identity_sub: string | null;
}

export interface NewChat {
  id: string;
  visitorId: string;
  visitorName: string | null;
  visitorEmail: string | null;
  departmentId: string;
  pageUrl: string | null;
  variables: ChatVariables | null;
  /** The verified identity's subject, when the visitor presented a valid identity. */
  identitySub?: string | null;
  now: number;
}

/** Inserts a chat in status `queued`. */
export async function createChat(db: D1Database, chat: NewChat): Promise<void> {
  await db
    .prepare(
      `INSERT INTO chats (id, visitor_id, visitor_name, visitor_email, department_id, page_url,
                          variables, status, created_at, identity_sub)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9)`,
    )
    .bind(
      chat.id,
      chat.visitorId,
      chat.visitorName,
      chat.visitorEmail,
      chat.departmentId,
      chat.pageUrl,
      chat.variables ? JSON.stringify(chat.variables) : null,
      chat.now,
      chat.identitySub ?? null,
    )
    .run();
}

/** Reads a chat. */
export async function findChat(db: D1Database, id: string): Promise<ChatRecord | null> {
  const row = await db
    .prepare(
      `SELECT id, visitor_id, visitor_name, visitor_email, department_id, page_url, status,
              agent_id, created_at, identity_sub
       FROM chats WHERE id = ?1`,
    )
    .bind(id)
    .first<ChatRow>();
  if (!row) return null;
  return {
    id: row.id,
    visitorId: row.visitor_id,
    visitorName: row.visitor_name,
    visitorEmail: row.visitor_email,
    departmentId: row.department_id,
    pageUrl: row.page_url,
    status: row.status,
    agentId: row.agent_id,
    createdAt: row.created_at,
    identitySub: row.identity_sub,
  };
}

/** Marks a queued chat as missed (nobody could take it). */
export async function markChatMissed(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE chats SET status = 'missed', ended_at = ?2 WHERE id = ?1 AND status = 'queued'",
    )
    .bind(id, now)
    .run();
}

/**
 * Assigns a chat to the agent who accepted it, in the department whose queue it was taken
 * from (overflow may have moved it; the first department is kept).
 */
export async function assignChat(
  db: D1Database,
  id: string,
  agentId: string,
  department: string,
  now: number,
): Promise<void> {
  await db
    .prepare(
      `UPDATE chats SET status = 'active', agent_id = ?2, accepted_at = coalesce(accepted_at, ?3),
         started_department_id = coalesce(started_department_id, department_id),
         department_id = ?4
       WHERE id = ?1 AND status IN ('queued', 'active')`,
    )
    .bind(id, agentId, now, department)
    .run();
}

/**
 * Hands an active chat from its owner to another agent (and department). Answers false when
 * `from` no longer owns it (ended, requeued, or already handed over), and nothing changed.
 */
export async function transferChat(
  db: D1Database,
  id: string,
  handover: { from: string; to: string; department: string },
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE chats SET agent_id = ?3,
         started_department_id = coalesce(started_department_id, department_id),
         department_id = ?4
       WHERE id = ?1 AND agent_id = ?2 AND status = 'active'`,
    )
    .bind(id, handover.from, handover.to, handover.department)
    .run();
  return result.meta.changes > 0;
}

/** Puts an active chat back in the queue: its owner went offline. */
export async function requeueChat(db: D1Database, id: string, agentId: string): Promise<void> {
  await db
    .prepare(
      "UPDATE chats SET status = 'queued', agent_id = NULL WHERE id = ?1 AND agent_id = ?2 AND status = 'active'",
    )
    .bind(id, agentId)
    .run();
}

/** Marks a chat ended (idempotent: the first end time wins). */
export async function endChat(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE chats SET status = 'ended', ended_at = ?2 WHERE id = ?1 AND status != 'ended'")
    .bind(id, now)
    .run();
}

/** What `deleteEndedChat` removed. */
export interface DeletedChat {
  deleted: boolean;
  /** Stored events of the chat (every kind) and those of kind `message`. */
  events: number;
  messages: number;
}

/**
 * Deletes an ended or missed chat with its transcript, in one transaction. The status and
 * legal-hold conditions sit in the statements themselves, so a chat that is (still) queued or
 * active, or on legal hold, is never touched, whatever the caller read before. `message_fts` rows go with the chat
 * (trigger `chats_fts_delete`); messages are deleted explicitly as well as by the cascade so
 * the count is exact and nothing depends on foreign-key enforcement.
 */
export async function deleteEndedChat(db: D1Database, id: string): Promise<DeletedChat> {
  const deletable = "status IN ('ended', 'missed') AND legal_hold_at IS NULL";
  const ended = `EXISTS (SELECT 1 FROM chats WHERE id = ?1 AND ${deletable})`;
  const [counted, , removed] = await db.batch([
    db
      .prepare(
        `SELECT count(*) AS events, coalesce(sum(kind = 'message'), 0) AS messages
         FROM messages WHERE chat_id = ?1 AND ${ended}`,
      )
      .bind(id),
    db.prepare(`DELETE FROM messages WHERE chat_id = ?1 AND ${ended}`).bind(id),
    db.prepare(`DELETE FROM chats WHERE id = ?1 AND ${deletable}`).bind(id),
  ]);
  const counts = (counted?.results[0] ?? {}) as { events?: number; messages?: number };
  return {
    deleted: (removed?.meta.changes ?? 0) > 0,
    events: counts.events ?? 0,
    messages: counts.messages ?? 0,
  };
}
