/** The audit row of something the signed-in agent did through the console's API. */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

/** What the route says about the action; the actor, client and time are filled in. */
export type AgentAction = Pick<AuditEntry, "action" | "target" | "outcome"> &
  Partial<Pick<AuditEntry, "department" | "details">>;

/** Appends `entry` to the audit log as done now by `c.var.agent`, from the caller's client. */
export function auditAction(c: Context<AppEnv>, entry: AgentAction): Promise<void> {
  return appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    ...clientInfo(c),
    ...entry,
    at: Date.now(),
  });
}
