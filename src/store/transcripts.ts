/**
 * D1 queries behind transcript search and view: chats with their agent, rating and message
 * count, filtered by time, keyword (FTS5 `message_fts`), agent, department, rating and status,
 * newest first with keyset pagination.
 */
import type {
  ChatStatusValue,
  LegalHold,
  TranscriptResponse,
  TranscriptSummary,
} from "../protocol/http.ts";
import type { ChatVariables } from "../protocol/variables.ts";
import { type SearchPage, type SearchWindow, toPage, windowConditions } from "./search-page.ts";

/** Filters of a transcript search; every one given must hold. */
export interface TranscriptFilters extends SearchWindow {
  /** Terms that must all occur in the chat's message text (in any of its messages). */
  keywords?: string[];
  agentId?: string;
  rating?: number;
  minRating?: number;
  status?: ChatStatusValue;
}

/**
 * An FTS5 query matching `term` as a literal phrase: wrapped in `"` with inner `"` doubled, so
 * operators (AND, OR, NEAR, `*`, `^`, column filters) typed by the caller stay plain text and
 * cannot change the query.
 */
export function ftsPhrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
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
  windowConditions(where, params, "c.", filters);
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
      `SELECT ${SUMMARY_COLUMNS}, c.visitor_id AS visitorId,
              c.identity_sub IS NOT NULL AS verified, c.visitor_email AS visitorEmail,
              c.page_url AS pageUrl, c.variables, c.accepted_at AS acceptedAt,
              c.survey_comment AS surveyComment, c.survey_at AS surveyAt,
              CASE WHEN c.legal_hold_at IS NOT NULL THEN json_object('at', c.legal_hold_at,
                'by', c.legal_hold_by, 'reason', c.legal_hold_reason) END AS legalHold
       FROM chats c LEFT JOIN agents a ON a.id = c.agent_id
       WHERE c.id = ?1`,
    )
    .bind(id)
    .first<
      Omit<TranscriptDetail, "variables" | "verified" | "legalHold"> & {
        variables: string | null;
        verified: number;
        legalHold: string | null;
      }
    >();
  if (!row) return null;
  return {
    ...row,
    verified: row.verified === 1,
    variables: row.variables ? parseVariables(row.variables) : null,
    legalHold: row.legalHold ? (JSON.parse(row.legalHold) as LegalHold) : null,
  };
}

/** Every stored variable: the route keeps those agents may see (`agentVisibleVariables`). */
function parseVariables(json: string): ChatVariables | null {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as ChatVariables)
      : null;
  } catch {
    // Written by createChat with JSON.stringify; anything else is not worth failing a read.
    return null;
  }
}
