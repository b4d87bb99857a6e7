/**
 * D1 queries behind transcript search and view: chats with their agent, rating and message
 * count, filtered by time, keyword (FTS5 `message_fts`), agent, department, rating and status,
 * newest first with keyset pagination.
 */
import type {
  ChatStatusValue,
  PageCursor,
  TranscriptResponse,
  TranscriptSummary,
} from "../protocol/http.ts";

/** Filters of a transcript search; every one given must hold. */
export interface TranscriptFilters {
  /** null: every department; otherwise only these (empty: nothing). */
  departments: string[] | null;
  /** created_at ≥ from. */
  from?: number;
  /** created_at < to. */
  to?: number;
  /** Terms that must all occur in the chat's message text (in any of its messages). */
  keywords?: string[];
  agentId?: string;
  rating?: number;
  minRating?: number;
  status?: ChatStatusValue;
  /** Rows strictly older than this position (created_at, then id, descending). */
  after?: PageCursor;
  limit: number;
}

/** One page of results and the position of its last row when more follow. */
export interface SearchPage<Row> {
  rows: Row[];
  next: PageCursor | null;
}

/**
 * An FTS5 query matching `term` as a literal phrase: wrapped in `"` with inner `"` doubled, so
 * operators (AND, OR, NEAR, `*`, `^`, column filters) typed by the caller stay plain text and
 * cannot change the query.
 */
export function ftsPhrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** Appends the keyset condition for `ORDER BY <at> DESC, <id> DESC` after `cursor`. */
export function keysetCondition(
  where: string[],
  params: unknown[],
  columns: { at: string; id: string },
  cursor: PageCursor | undefined,
): void {
  if (!cursor) return;
  where.push(`(${columns.at} < ? OR (${columns.at} = ? AND ${columns.id} < ?))`);
  params.push(cursor.createdAt, cursor.createdAt, cursor.id);
}

/** Splits `limit + 1` fetched rows into a page and the cursor of its last row. */
export function toPage<Row extends { id: string; createdAt: number }>(
  rows: Row[],
  limit: number,
): SearchPage<Row> {
  if (rows.length <= limit) return { rows, next: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: last ? { createdAt: last.createdAt, id: last.id } : null };
}

const SUMMARY_COLUMNS = `
  c.id, c.department_id AS department, c.status, c.visitor_name AS visitorName,
  c.agent_id AS agentId, a.name AS agentName, c.rating, c.created_at AS createdAt,
  c.ended_at AS endedAt,
  (SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.kind = 'message') AS messageCount`;

/** Searches transcripts, newest first. */
export async function searchTranscripts(
  db: D1Database,
  filters: TranscriptFilters,
): Promise<SearchPage<TranscriptSummary>> {
  if (filters.departments?.length === 0) return { rows: [], next: null };
  const where: string[] = [];
  const params: unknown[] = [];
  if (filters.departments) {
    // One JSON parameter instead of one per department: D1 allows 100 bound parameters.
    where.push("c.department_id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filters.departments));
  }
  if (filters.from !== undefined) {
    where.push("c.created_at >= ?");
    params.push(filters.from);
  }
  if (filters.to !== undefined) {
    where.push("c.created_at < ?");
    params.push(filters.to);
  }
  // One MATCH per term: the terms must all occur in the chat, not all in one message.
  for (const term of filters.keywords ?? []) {
    where.push("c.id IN (SELECT chat_id FROM message_fts WHERE message_fts MATCH ?)");
    params.push(ftsPhrase(term));
  }
  if (filters.agentId !== undefined) {
    where.push("c.agent_id = ?");
    params.push(filters.agentId);
  }
  if (filters.rating !== undefined) {
    where.push("c.rating = ?");
    params.push(filters.rating);
  }
  if (filters.minRating !== undefined) {
    where.push("c.rating >= ?");
    params.push(filters.minRating);
  }
  if (filters.status !== undefined) {
    where.push("c.status = ?");
    params.push(filters.status);
  }
  keysetCondition(where, params, { at: "c.created_at", id: "c.id" }, filters.after);
  params.push(filters.limit + 1);
  const { results } = await db
    .prepare(
      `SELECT ${SUMMARY_COLUMNS}
       FROM chats c LEFT JOIN agents a ON a.id = c.agent_id
       ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY c.created_at DESC, c.id DESC
       LIMIT ?`,
    )
    .bind(...params)
    .all<TranscriptSummary>();
  return toPage(results, filters.limit);
}

type TranscriptDetail = TranscriptResponse["transcript"];

/** A chat's metadata for the transcript view (messages come from `listTranscript`). */
export async function findTranscript(db: D1Database, id: string): Promise<TranscriptDetail | null> {
  const row = await db
    .prepare(
      `SELECT ${SUMMARY_COLUMNS}, c.visitor_email AS visitorEmail, c.page_url AS pageUrl,
              c.variables, c.accepted_at AS acceptedAt
       FROM chats c LEFT JOIN agents a ON a.id = c.agent_id
       WHERE c.id = ?1`,
    )
    .bind(id)
    .first<Omit<TranscriptDetail, "variables"> & { variables: string | null }>();
  if (!row) return null;
  return { ...row, variables: row.variables ? parseVariables(row.variables) : null };
}

function parseVariables(json: string): Record<string, string> | null {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, string>)
      : null;
  } catch {
    // Written by createChat with JSON.stringify; anything else is not worth failing a read.
    return null;
  }
}
