/**
 * D1 access to the audit log: the rows the audit writer appends (explicit ids, chained
 * hashes), the reads verification needs, and search. Rows never hold secrets, passwords or
 * card numbers. Only the audit Durable Object (durable-objects/audit-log.ts) and the admin
 * CLI append; nothing updates rows (a trigger refuses UPDATE), and only the writer's retention
 * purge deletes them, oldest first behind a checkpoint (src/store/retention.ts).
 */
import { type AuditRow, type AuditRowContent, CHECKPOINT_ACTION } from "../security/audit-chain.ts";
import {
  AUDIT_COLUMN_LIST,
  AUDIT_COLUMNS,
  AUDIT_ID_CONFLICT,
  auditRowValues,
} from "./audit-table.ts";

/** One audit event, as callers describe it (`appendAudit` in durable-objects/audit-log.ts). */
export interface AuditEntry {
  actorType: "agent" | "visitor" | "system" | "cli" | "anonymous";
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: "success" | "failure" | "denied";
  ip: string | null;
  userAgent: string | null;
  details?: Record<string, unknown>;
  at: number;
  /** The department the action concerns (chat, transcript), for scoped search. */
  department?: string | null;
}

/** The row content of an entry once it has an id (hashes are added by the chain). */
export function auditRowContent(entry: AuditEntry, id: number): AuditRowContent {
  return {
    id,
    at: entry.at,
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    action: entry.action,
    target: entry.target,
    outcome: entry.outcome,
    ip: entry.ip,
    user_agent: entry.userAgent,
    details: entry.details === undefined ? null : JSON.stringify(entry.details),
    department: entry.department ?? null,
  };
}

const INSERT_PLACEHOLDERS = AUDIT_COLUMNS.map((_, i) => `?${i + 1}`).join(", ");

/**
 * The INSERT of one chained row with its explicit id (13 bound parameters). The id is the
 * chain head's + 1, so a concurrent writer that took it makes this fail (primary key)
 * instead of forking the chain.
 */
export function insertAuditRowStatement(db: D1Database, row: AuditRow): D1PreparedStatement {
  return db
    .prepare(`INSERT INTO audit_log (${AUDIT_COLUMN_LIST}) VALUES (${INSERT_PLACEHOLDERS})`)
    .bind(...auditRowValues(row));
}

/** True when a D1 error is a lost race for the next id (another writer appended first). */
export function isAuditIdConflict(error: unknown): boolean {
  return AUDIT_ID_CONFLICT.test(String(error));
}

/** The newest row's id and hash (hash null for rows written before the chain existed). */
export async function readAuditHead(
  db: D1Database,
): Promise<{ id: number; hash: string | null } | null> {
  return db
    .prepare("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    .first<{ id: number; hash: string | null }>();
}

/** The newest row that carries a hash, or null when the chain has not started. */
export async function readLastChainedRow(
  db: D1Database,
): Promise<{ id: number; hash: string } | null> {
  return db
    .prepare("SELECT id, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1")
    .first<{ id: number; hash: string }>();
}

/** The row's hash; undefined when there is no such row. */
export async function readAuditRowHash(
  db: D1Database,
  id: number,
): Promise<string | null | undefined> {
  const row = await db
    .prepare("SELECT hash FROM audit_log WHERE id = ?1")
    .bind(id)
    .first<{ hash: string | null }>();
  return row === null ? undefined : row.hash;
}

/** The latest `audit.checkpoint` row, where verification starts. */
export async function readLatestCheckpoint(db: D1Database): Promise<AuditRow | null> {
  return db
    .prepare(
      `SELECT ${AUDIT_COLUMN_LIST} FROM audit_log WHERE action = ?1 ORDER BY id DESC LIMIT 1`,
    )
    .bind(CHECKPOINT_ACTION)
    .first<AuditRow>();
}

/** Up to `limit` rows with id > `afterId`, ascending (verification pages). */
export async function readAuditRows(
  db: D1Database,
  afterId: number,
  limit: number,
): Promise<AuditRow[]> {
  const { results } = await db
    .prepare(`SELECT ${AUDIT_COLUMN_LIST} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2`)
    .bind(afterId, limit)
    .all<AuditRow>();
  return results;
}

// ── Search ────────────────────────────────────────────────────────────────────────────────

/** Filters of an audit search; every one given must hold. */
export interface AuditFilters {
  /** at ≥ from (ms, inclusive). */
  from?: number;
  /** at < to (ms, exclusive). */
  to?: number;
  /** Free text: every whitespace-separated term must occur (FTS5, as a literal phrase). */
  keyword?: string;
  /** The actor's id (an agent id). */
  actor?: string;
  /** An exact action (`auth.login`) or a prefix ending in `*` (`auth.*`). */
  action?: string;
  outcome?: AuditEntry["outcome"];
  department?: string;
}

/** One page of a search, newest first. */
export interface AuditPage {
  rows: AuditRow[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: number | null;
}

/**
 * An FTS5 MATCH expression in which every whitespace-separated term is a quoted phrase
 * (`"` doubled inside), so input can never be FTS syntax (`OR`, `*`, `NEAR`, `col:`);
 * phrases side by side must all occur. Null when there is no term.
 */
export function ftsMatchExpression(keyword: string): string | null {
  const terms = keyword.split(/\s+/).filter((term) => term.length > 0);
  if (terms.length === 0) return null;
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" ");
}

/** The first string after every string with `prefix` (for an index range instead of LIKE). */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/**
 * Searches the audit log, newest first, `limit` rows after `cursor` (an id: rows with
 * id < cursor). Keyset pagination on the primary key: rows inserted while a client pages
 * get higher ids, so they never shift or repeat later pages. A keyword search walks the FTS
 * index in descending rowid order and stops after `limit` matches.
 */
export async function searchAudit(
  db: D1Database,
  filters: AuditFilters,
  cursor: number | null,
  limit: number,
): Promise<AuditPage> {
  const match = filters.keyword === undefined ? null : ftsMatchExpression(filters.keyword);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    params.push(...values);
  };
  if (match !== null) add("audit_fts MATCH ?", match);
  if (cursor !== null) add(match !== null ? "audit_fts.rowid < ?" : "a.id < ?", cursor);
  if (filters.from !== undefined) add("a.at >= ?", filters.from);
  if (filters.to !== undefined) add("a.at < ?", filters.to);
  if (filters.actor !== undefined) add("a.actor_id = ?", filters.actor);
  if (filters.action !== undefined) {
    if (filters.action.endsWith("*")) {
      const prefix = filters.action.slice(0, -1);
      if (prefix.length > 0) add("a.action >= ? AND a.action < ?", prefix, prefixEnd(prefix));
    } else {
      add("a.action = ?", filters.action);
    }
  }
  if (filters.outcome !== undefined) add("a.outcome = ?", filters.outcome);
  if (filters.department !== undefined) add("a.department = ?", filters.department);
  params.push(limit + 1);
  const columns = AUDIT_COLUMNS.map((column) => `a.${column}`).join(", ");
  const sql =
    match !== null
      ? `SELECT ${columns} FROM audit_fts JOIN audit_log a ON a.id = audit_fts.rowid
         WHERE ${where.join(" AND ")} ORDER BY audit_fts.rowid DESC LIMIT ?`
      : `SELECT ${columns} FROM audit_log a
         ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY a.id DESC LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...params)
    .all<AuditRow>();
  const rows = results.slice(0, limit);
  const last = rows.at(-1);
  return { rows, nextCursor: results.length > limit && last ? last.id : null };
}

/** An audit row as the API returns it (camelCase, ISO time, parsed details). */
export interface AuditLogEntry {
  id: number;
  /** ISO-8601, UTC. */
  at: string;
  actorType: string;
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  department: string | null;
  details: Record<string, unknown> | null;
}

/** The API view of a row. */
export function toAuditLogEntry(row: AuditRow): AuditLogEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    ip: row.ip,
    userAgent: row.user_agent,
    department: row.department,
    details: parseDetails(row.details),
  };
}

function parseDetails(details: string | null): Record<string, unknown> | null {
  if (details === null) return null;
  try {
    const parsed: unknown = JSON.parse(details);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  } catch {
    // Only rows written outside the writers could hold non-JSON; show them as they are.
    return { text: details };
  }
}
