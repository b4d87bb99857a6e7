/** D1 access to routing and allocation rules (table `routing_rules`, migration 0007). */
import type { BusinessHours, RoutingRule, RoutingStrategy } from "../protocol/routing.ts";

interface RuleRow {
  department_id: string;
  strategy: RoutingStrategy;
  offer_timeout_seconds: number | null;
  overflow_to: string | null;
  overflow_after_seconds: number | null;
  business_hours: string | null;
  priority_segments: string | null;
  updated_at: number;
  updated_by: string | null;
}

function toRule(row: RuleRow): RoutingRule {
  return {
    departmentId: row.department_id,
    strategy: row.strategy,
    offerTimeoutSeconds: row.offer_timeout_seconds,
    overflowTo: row.overflow_to,
    overflowAfterSeconds: row.overflow_after_seconds,
    businessHours: row.business_hours ? (JSON.parse(row.business_hours) as BusinessHours) : null,
    prioritySegments: row.priority_segments ? (JSON.parse(row.priority_segments) as string[]) : [],
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Every department's rules, keyed by department id. */
export async function loadRoutingRules(db: D1Database): Promise<Map<string, RoutingRule>> {
  const { results } = await db.prepare("SELECT * FROM routing_rules").all<RuleRow>();
  return new Map(results.map((row) => [row.department_id, toRule(row)]));
}

/** One department's rules, or null when it has none (the defaults apply). */
export async function findRoutingRule(
  db: D1Database,
  departmentId: string,
): Promise<RoutingRule | null> {
  const row = await db
    .prepare("SELECT * FROM routing_rules WHERE department_id = ?1")
    .bind(departmentId)
    .first<RuleRow>();
  return row ? toRule(row) : null;
}

/** Stores a department's whole rule set (insert or replace). */
export async function saveRoutingRule(db: D1Database, rule: RoutingRule): Promise<void> {
  await db
    .prepare(
      `INSERT INTO routing_rules (department_id, strategy, offer_timeout_seconds, overflow_to,
         overflow_after_seconds, business_hours, updated_at, updated_by, priority_segments)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (department_id) DO UPDATE SET strategy = excluded.strategy,
         offer_timeout_seconds = excluded.offer_timeout_seconds, overflow_to = excluded.overflow_to,
         overflow_after_seconds = excluded.overflow_after_seconds,
         business_hours = excluded.business_hours, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by, priority_segments = excluded.priority_segments`,
    )
    .bind(
      rule.departmentId,
      rule.strategy,
      rule.offerTimeoutSeconds,
      rule.overflowTo,
      rule.overflowAfterSeconds,
      rule.businessHours ? JSON.stringify(rule.businessHours) : null,
      rule.updatedAt,
      rule.updatedBy,
      rule.prioritySegments.length > 0 ? JSON.stringify(rule.prioritySegments) : null,
    )
    .run();
}

/** Removes a department's rules (back to the defaults); answers whether it had any. */
export async function deleteRoutingRule(db: D1Database, departmentId: string): Promise<boolean> {
  const result = await db
    .prepare("DELETE FROM routing_rules WHERE department_id = ?1")
    .bind(departmentId)
    .run();
  return result.meta.changes > 0;
}

/** Sets an agent's capacity (`agents.max_chats`; null: AGENT_MAX_CHATS). */
export async function setAgentMaxChats(
  db: D1Database,
  agentId: string,
  maxChats: number | null,
): Promise<void> {
  await db.prepare("UPDATE agents SET max_chats = ?2 WHERE id = ?1").bind(agentId, maxChats).run();
}
