/**
 * Which departments' transcripts and offline messages an agent may see (issue 4, item 2):
 * `transcripts.view_all` → every department; `transcripts.view_department` → the agent's own
 * departments (`general` when none); neither → nothing. Permissions and departments are read
 * fresh with the session, so a change applies from the agent's next request.
 */
import type { Context } from "hono";
import type { z } from "zod";
import type { AgentRecord } from "../src/store/agents.ts";
import { ApiError } from "./api-error.ts";

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
export function inScope(scope: TranscriptScope, department: string): boolean {
  return scope.all || scope.departments.includes(department);
}

/**
 * Throws `notFound` unless `department` is in the scope. Out of scope answers exactly like a
 * missing record, so ids cannot be probed across departments.
 */
export function assertInScope(
  scope: TranscriptScope,
  department: string,
  notFound: ApiError,
): void {
  if (!inScope(scope, department)) throw notFound;
}

/**
 * The departments a search reads: the scope narrowed by the `department` filter, or null for
 * every department. A filter outside the scope gives `[]` (an empty result, not a 403: the
 * search is always "filters ∩ scope", and the answer does not tell whether it exists).
 */
export function searchDepartments(scope: TranscriptScope, filter?: string): string[] | null {
  if (filter !== undefined) return inScope(scope, filter) ? [filter] : [];
  return scope.all ? null : scope.departments;
}

/**
 * Validates the query string against a zod object schema (DESIGN invariant 7): bad input is a
 * 400 `invalid_request` with the failing fields, never a 500. A parameter given twice is
 * refused too, rather than silently using one of the values.
 */
export function readQuery<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  const params = new URL(c.req.url).searchParams;
  const query: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(query, key)) {
      throw new ApiError(400, "invalid_request", `${key}: give it once`, [
        { path: key, message: "give it once" },
      ]);
    }
    query[key] = value;
  }
  const result = schema.safeParse(query);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => ({
      path: issue.path.join("."),
      message: issue.message,
    }));
    const first = fields[0];
    const where = first?.path ? `${first.path}: ` : "";
    throw new ApiError(400, "invalid_request", `${where}${first?.message ?? "invalid"}`, fields);
  }
  return result.data;
}
