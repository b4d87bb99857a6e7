/**
 * D1 access to canned messages (table `canned_messages`, migration 0008). Who may see or
 * change one is the route's decision; this module only stores and finds them. A shortcut
 * collision is detected by the table's unique index, so two concurrent writers cannot both win.
 */
import {
  type CannedMessage,
  type CannedScope,
  MAX_CANNED_RESULTS,
} from "../protocol/canned-messages.ts";
import { likeContains } from "./offline-messages.ts";

/** A stored canned message: the API's fields (but `editable`) and the owner of a personal one. */
export interface StoredCannedMessage extends Omit<CannedMessage, "editable"> {
  ownerId: string | null;
}

/** The fields an agent writes. */
export interface CannedMessageContent {
  shortcut: string | null;
  title: string;
  text: string;
}

export interface NewCannedMessage extends CannedMessageContent {
  id: string;
  scope: CannedScope;
  ownerId: string | null;
  department: string | null;
  agentId: string;
  now: number;
}

/** What an agent can see: own personal messages, those of own departments, global ones. */
export interface CannedMessageFilters {
  agentId: string;
  departments: readonly string[];
  scope?: CannedScope;
  /** A phrase that must occur in the shortcut, title or text (case-insensitive for ASCII). */
  q?: string;
}

const COLUMNS = `id, scope, owner_id AS ownerId, department_id AS department, shortcut, title,
  text, created_at AS createdAt, created_by AS createdBy, updated_at AS updatedAt,
  updated_by AS updatedBy`;

/**
 * The canned messages visible under `filters`, by shortcut (none last), then title; at most
 * MAX_CANNED_RESULTS. Departments travel as one JSON parameter (D1 binds at most 100).
 */
export async function searchCannedMessages(
  db: D1Database,
  filters: CannedMessageFilters,
): Promise<StoredCannedMessage[]> {
  const where = [
    `((scope = 'personal' AND owner_id = ?)
      OR (scope = 'department' AND department_id IN (SELECT value FROM json_each(?)))
      OR scope = 'global')`,
  ];
  const params: unknown[] = [filters.agentId, JSON.stringify(filters.departments)];
  if (filters.scope !== undefined) {
    where.push("scope = ?");
    params.push(filters.scope);
  }
  if (filters.q !== undefined) {
    where.push(
      `(shortcut LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\')`,
    );
    const pattern = likeContains(filters.q);
    params.push(pattern, pattern, pattern);
  }
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM canned_messages WHERE ${where.join(" AND ")}
       ORDER BY shortcut IS NULL, shortcut, title COLLATE NOCASE, id
       LIMIT ${MAX_CANNED_RESULTS}`,
    )
    .bind(...params)
    .all<StoredCannedMessage>();
  return results;
}

/** One canned message, whoever may see it. */
export function findCannedMessage(db: D1Database, id: string): Promise<StoredCannedMessage | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM canned_messages WHERE id = ?1`)
    .bind(id)
    .first<StoredCannedMessage>();
}

/** Stores a canned message; false when its shortcut is taken within its scope's owner. */
export async function createCannedMessage(
  db: D1Database,
  message: NewCannedMessage,
): Promise<boolean> {
  // DO NOTHING applies to uniqueness only (unlike OR IGNORE, which also skips CHECK failures).
  const result = await db
    .prepare(
      `INSERT INTO canned_messages (id, scope, owner_id, department_id, shortcut, title, text,
         created_at, created_by, updated_at, updated_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?8, ?9)
       ON CONFLICT DO NOTHING`,
    )
    .bind(
      message.id,
      message.scope,
      message.ownerId,
      message.department,
      message.shortcut,
      message.title,
      message.text,
      message.now,
      message.agentId,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * Replaces a canned message's shortcut, title and text. `conflict` when the new shortcut is
 * taken within its scope's owner, `not_found` when the message is gone.
 */
export async function updateCannedMessage(
  db: D1Database,
  id: string,
  content: CannedMessageContent,
  change: { agentId: string; now: number },
): Promise<"updated" | "conflict" | "not_found"> {
  // OR IGNORE can only skip the shortcut index here: the columns under CHECK never change.
  const result = await db
    .prepare(
      `UPDATE OR IGNORE canned_messages
       SET shortcut = ?2, title = ?3, text = ?4, updated_at = ?5, updated_by = ?6
       WHERE id = ?1`,
    )
    .bind(id, content.shortcut, content.title, content.text, change.now, change.agentId)
    .run();
  if (result.meta.changes === 1) return "updated";
  return (await findCannedMessage(db, id)) ? "conflict" : "not_found";
}

/** Deletes a canned message; false when there was none. The audit log keeps its history. */
export async function deleteCannedMessage(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM canned_messages WHERE id = ?1").bind(id).run();
  return result.meta.changes > 0;
}
