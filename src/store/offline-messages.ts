/** D1 access to offline messages (left when no agent was online). */
import type { OfflineMessageResponse, OfflineMessageSummary } from "../protocol/http.ts";
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
}

const COLUMNS = `id, department_id AS department, name, email, message, page_url AS pageUrl,
  created_at AS createdAt`;

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
  windowConditions(where, params, "", filters);
  for (const term of filters.keywords ?? []) {
    where.push(
      `(message LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')`,
    );
    const pattern = likeContains(term);
    params.push(pattern, pattern, pattern);
  }
  params.push(filters.limit + 1);
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM offline_messages
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, id DESC
       LIMIT ?`,
    )
    .bind(...params)
    .all<OfflineMessageSummary>();
  return toPage(results, filters.limit);
}

/** One offline message with the sender's IP. */
export async function findOfflineMessage(
  db: D1Database,
  id: string,
): Promise<OfflineMessageResponse["offlineMessage"] | null> {
  return db
    .prepare(`SELECT ${COLUMNS}, ip FROM offline_messages WHERE id = ?1`)
    .bind(id)
    .first<OfflineMessageResponse["offlineMessage"]>();
}

/** Deletes an offline message; false when there was none. */
export async function deleteOfflineMessage(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM offline_messages WHERE id = ?1").bind(id).run();
  return result.meta.changes > 0;
}
