/**
 * Applies a reviewed change of grants or memberships: loads the grant graph, applies the
 * change to a copy, and refuses it — with an audit row — when it gives or takes a permission
 * the actor does not hold (403 `forbidden`) or leaves no enabled administrator (409
 * `last_administrator`). Otherwise the statements run as one D1 batch and the change is
 * audited with what it gave and took.
 */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import {
  cloneGraph,
  effectivePermissions,
  type GrantGraph,
  reviewChange,
} from "../src/security/grant-graph.ts";
import { loadGrantGraph } from "../src/store/grants.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

export interface GrantChange {
  /** The audit action, e.g. `agent.grants`. */
  action: string;
  /** What the change concerns (agent, department or group id). */
  target: string;
  /** Applies the change to the in-memory graph. */
  apply: (graph: GrantGraph) => void;
  /** Writes the change (run as one batch once the review passes). */
  statements: (db: D1Database) => D1PreparedStatement[];
  details?: Record<string, unknown>;
}

/** Reviews, writes and audits a change; throws ApiError when it is refused. */
export async function applyGrantChange(c: Context<AppEnv>, change: GrantChange): Promise<void> {
  const db = c.env.DB;
  const before = await loadGrantGraph(db);
  const after = cloneGraph(before);
  change.apply(after);
  const actor = effectivePermissions(before, c.var.agent.id);
  const review = reviewChange(before, after, actor);
  const audit = {
    actorType: "agent" as const,
    actorId: c.var.agent.id,
    action: change.action,
    target: change.target,
    ...clientInfo(c),
    at: Date.now(),
  };
  if (!review.ok) {
    await appendAudit(c.env, {
      ...audit,
      outcome: "denied",
      details: { ...change.details, refused: review },
    });
    if (review.reason === "last_administrator") {
      throw new ApiError(
        409,
        "last_administrator",
        "At least one enabled agent must keep every permission.",
      );
    }
    throw new ApiError(403, "forbidden", "You cannot give or take permissions you do not hold.", {
      permissions: review.permissions,
    });
  }
  await db.batch(change.statements(db));
  await appendAudit(c.env, { ...audit, outcome: "success", details: change.details });
}
