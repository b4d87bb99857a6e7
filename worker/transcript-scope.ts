/**
 * Which departments' transcripts and offline messages an agent may see (issue 4, item 2):
 * `transcripts.view_all` → every department; `transcripts.view_department` → the agent's own
 * departments (`general` when none); neither → nothing. Permissions and departments are read
 * fresh with the session, so a change applies from the agent's next request. Also what the
 * transcript and offline-message routes share: the reading permission, the scoped lookup of
 * one record and the audit row of a search.
 */
import type { Context } from "hono";
import type { PageCursor } from "../src/protocol/http.ts";
import type { AgentRecord } from "../src/store/agents.ts";
import type { SearchWindow } from "../src/store/search-page.ts";
import type { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { auditAction } from "./audit-action.ts";
import { requirePermission } from "./middleware/access.ts";

/** The departments an agent may read. */
export type TranscriptScope = { all: true } | { all: false; departments: string[] };

/** The scope of an agent's reading permissions. */
export function transcriptScope(
  agent: Pick<AgentRecord, "permissions" | "departments">,
): TranscriptScope {
  if (agent.permissions.includes("transcripts.view_all")) return { all: true };
  if (agent.permissions.includes("transcripts.view_department")) {
    return { all: false, departments: [...agent.departments] };
  }
  // `transcripts.delete` alone reads nothing, so it deletes nothing either.
  return { all: false, departments: [] };
}

/** True when records of `department` are in the scope. */
function inScope(scope: TranscriptScope, department: string): boolean {
  return scope.all || scope.departments.includes(department);
}

/**
 * The departments a search reads: the scope narrowed by the `department` filter, or null for
 * every department. A filter outside the scope gives `[]` (an empty result, not a 403: the
 * search is always "filters ∩ scope", and the answer does not tell whether it exists).
 */
function searchDepartments(scope: TranscriptScope, filter?: string): string[] | null {
  if (filter !== undefined) return inScope(scope, filter) ? [filter] : [];
  return scope.all ? null : scope.departments;
}

/** The store's window for a validated search query, its departments narrowed to the scope. */
export function scopedWindow(
  agent: Pick<AgentRecord, "permissions" | "departments">,
  query: { department?: string; from?: number; to?: number; cursor?: PageCursor; limit: number },
): SearchWindow {
  return {
    departments: searchDepartments(transcriptScope(agent), query.department),
    from: query.from,
    to: query.to,
    after: query.cursor,
    limit: query.limit,
  };
}

/** Either reading permission; the agent's scope then narrows what they see. */
export function requireReader() {
  return requirePermission("transcripts.view_department", "transcripts.view_all");
}

/** Ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

/**
 * The record the route's `:id` names, when the agent may read it. A missing record and one
 * outside the agent's scope both throw `notFound()`, so ids cannot be probed across
 * departments; the out-of-scope attempt is also an audit row (`action`, denied).
 */
export async function findInScope<Found extends { id: string; department: string }>(
  c: Context<AppEnv>,
  action: string,
  find: (db: D1Database, id: string) => Promise<Found | null>,
  notFound: () => ApiError,
): Promise<Found> {
  const id = c.req.param("id") ?? "";
  const found = id.length <= MAX_ID_CHARS ? await find(c.env.DB, id) : null;
  if (!found) throw notFound();
  if (!inScope(transcriptScope(c.var.agent), found.department)) {
    await auditAction(c, {
      action,
      target: id,
      outcome: "denied",
      department: found.department,
      details: { reason: "out_of_scope" },
    });
    throw notFound();
  }
  return found;
}

/**
 * The audit row of a search: its filters (keywords already card-masked by the schema),
 * which page and how many results.
 */
export function auditSearch(
  c: Context<AppEnv>,
  action: string,
  query: { department?: string; q?: string[]; cursor?: unknown },
  results: number,
): Promise<void> {
  const { cursor, q, ...filters } = query;
  return auditAction(c, {
    action,
    target: null,
    outcome: "success",
    department: query.department ?? null,
    details: { ...filters, q: q?.join(" "), page: cursor ? "next" : "first", results },
  });
}
