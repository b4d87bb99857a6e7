/**
 * D1 access to offline messages (left when no agent was online) and the inbox around them:
 * handled or open, and the replies agents recorded.
 */
import type { OfflineMessageResponse, OfflineMessageSummary } from "../protocol/http.ts";
import type { OfflineMessageReply, OfflineMessageStatus } from "../protocol/inbox.ts";
import { type SearchPage, type SearchWindow, toPage, windowConditions } from "./search-page.ts";

export interface NewOfflineMessage {
  id: string;
  name: string | null;
  email: string;
  departmentId: string;
  message: string;
  pageUrl: string | null;
  ip: string | null;
  now: number;
}

/** Stores an offline message. */
export async function createOfflineMessage(db: D1Database, msg: NewOfflineMessage): Promise<void> {
  await db
    .prepare(
      `INSERT INTO offline_messages (id, name, email, department_id, message, page_url, ip, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    )
    .bind(msg.id, msg.name, msg.email, msg.departmentId, msg.message, msg.pageUrl, msg.ip, msg.now)
    .run();
}

/** Filters of an offline-message search; every one given must hold. */
export interface OfflineMessageFilters extends SearchWindow {
  /** Terms that must all occur in the message, the name or the email (case-insensitive). */
  keywords?: string[];
  /** Open (not handled), handled, or all (the default). */
  status?: OfflineMessageStatus;
}

/** The handling agent's columns, flat as selected; `withHandler` nests them. */
interface HandlerColumns {
  handledById: string | null;
  handledByName: string | null;
}

/** From `offline_messages o` joined with the handling agent `h`. */
const COLUMNS = `o.id, o.department_id AS department, o.name, o.email, o.message,
  o.page_url AS pageUrl, o.created_at AS createdAt, o.handled_at AS handledAt,
  o.handled_by AS handledById, h.name AS handledByName`;
const FROM = "offline_messages o LEFT JOIN agents h ON h.id = o.handled_by";

function withHandler<Row extends HandlerColumns>({ handledById, handledByName, ...row }: Row) {
  return {
    ...row,
    handledBy: handledById === null ? null : { id: handledById, name: handledByName },
  };
}

/** `%term%` for LIKE … ESCAPE '\', with the caller's `%`, `_` and `\` taken literally. */
export function likeContains(term: string): string {
  return `%${term.replace(/[\\%_]/g, "\\$&")}%`;
}

/**
 * Searches offline messages, newest first. Keywords use LIKE (a scan of the rows left after
 * the department and time filters) rather than FTS: there is no FTS table for offline
 * messages, and at one row per visitor who found nobody online the volume stays small.
 */
export async function searchOfflineMessages(
  db: D1Database,
  filters: OfflineMessageFilters,
): Promise<SearchPage<OfflineMessageSummary>> {
  if (filters.departments?.length === 0) return { rows: [], next: null };
  const where: string[] = [];
  const params: unknown[] = [];
  windowConditions(where, params, "o.", filters);
  for (const term of filters.keywords ?? []) {
    where.push(
      `(o.message LIKE ? ESCAPE '\\' OR o.name LIKE ? ESCAPE '\\' OR o.email LIKE ? ESCAPE '\\')`,
    );
    const pattern = likeContains(term);
    params.push(pattern, pattern, pattern);
  }
  if (filters.status === "open") where.push("o.handled_at IS NULL");
  if (filters.status === "handled") where.push("o.handled_at IS NOT NULL");
  params.push(filters.limit + 1);
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM ${FROM}
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY o.created_at DESC, o.id DESC
       LIMIT ?`,
    )
    .bind(...params)
    .all<Omit<OfflineMessageSummary, "handledBy"> & HandlerColumns>();
  return toPage(results.map(withHandler), filters.limit);
}

/** One offline message with the sender's IP (replies: `listOfflineMessageReplies`). */
export type OfflineMessageRecord = Omit<OfflineMessageResponse["offlineMessage"], "replies">;

/** One offline message with the sender's IP. */
export async function findOfflineMessage(
  db: D1Database,
  id: string,
): Promise<OfflineMessageRecord | null> {
  const row = await db
    .prepare(`SELECT ${COLUMNS}, o.ip FROM ${FROM} WHERE o.id = ?1`)
    .bind(id)
    .first<Omit<OfflineMessageRecord, "handledBy"> & HandlerColumns>();
  return row && withHandler(row);
}

/**
 * Deletes an offline message and its replies in one transaction; false when there was none.
 * The replies are deleted explicitly rather than left to the cascade, so nothing depends on
 * foreign-key enforcement.
 */
export async function deleteOfflineMessage(db: D1Database, id: string): Promise<boolean> {
  const [, removed] = await db.batch([
    db.prepare("DELETE FROM offline_message_replies WHERE offline_message_id = ?1").bind(id),
    db.prepare("DELETE FROM offline_messages WHERE id = ?1").bind(id),
  ]);
  return (removed?.meta.changes ?? 0) > 0;
}

/** Who marks a message handled, and when. */
export interface Handling {
  agentId: string;
  at: number;
}

/** Marks an open message handled; a handled one keeps its first handler. */
function markHandled(db: D1Database, id: string, by: Handling): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE offline_messages SET handled_at = ?2, handled_by = ?3
       WHERE id = ?1 AND handled_at IS NULL`,
    )
    .bind(id, by.at, by.agentId);
}

/**
 * Marks a message handled (`by`) or reopens it (null). False when nothing changed: the
 * message was already in that state, or is gone.
 */
export async function setOfflineMessageHandled(
  db: D1Database,
  id: string,
  by: Handling | null,
): Promise<boolean> {
  const statement = by
    ? markHandled(db, id, by)
    : db
        .prepare(
          `UPDATE offline_messages SET handled_at = NULL, handled_by = NULL
           WHERE id = ?1 AND handled_at IS NOT NULL`,
        )
        .bind(id);
  return (await statement.run()).meta.changes > 0;
}

/**
 * Records a reply and marks the message handled (when open) in one transaction. Returns
 * whether this reply is what marked it handled; null when the message is gone.
 */
export async function recordOfflineMessageReply(
  db: D1Database,
  reply: OfflineMessageReply & { offlineMessageId: string },
): Promise<{ markedHandled: boolean } | null> {
  const [inserted, marked] = await db.batch([
    // INSERT … SELECT: no reply is kept for a message deleted since it was read.
    db
      .prepare(
        `INSERT INTO offline_message_replies (id, offline_message_id, agent_id, agent_name, text, at)
         SELECT ?1, id, ?3, ?4, ?5, ?6 FROM offline_messages WHERE id = ?2`,
      )
      .bind(reply.id, reply.offlineMessageId, reply.agentId, reply.agentName, reply.text, reply.at),
    markHandled(db, reply.offlineMessageId, reply),
  ]);
  if ((inserted?.meta.changes ?? 0) === 0) return null;
  return { markedHandled: (marked?.meta.changes ?? 0) > 0 };
}

/** The replies recorded for a message, oldest first. */
export async function listOfflineMessageReplies(
  db: D1Database,
  id: string,
): Promise<OfflineMessageReply[]> {
  const { results } = await db
    .prepare(
      `SELECT id, agent_id AS agentId, agent_name AS agentName, text, at
       FROM offline_message_replies WHERE offline_message_id = ?1
       ORDER BY at, id`,
    )
    .bind(id)
    .all<OfflineMessageReply>();
  return results;
}
