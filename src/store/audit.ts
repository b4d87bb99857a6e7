/** Appends rows to the audit log. Rows never hold secrets, passwords or card numbers. */

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
}

/** Inserts one audit row. */
export async function appendAudit(db: D1Database, entry: AuditEntry): Promise<void> {
  await db
    .prepare(
      `INSERT INTO audit_log (at, actor_type, actor_id, action, target, outcome, ip, user_agent, details)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(
      entry.at,
      entry.actorType,
      entry.actorId,
      entry.action,
      entry.target,
      entry.outcome,
      entry.ip,
      entry.userAgent,
      entry.details ? JSON.stringify(entry.details) : null,
    )
    .run();
}
