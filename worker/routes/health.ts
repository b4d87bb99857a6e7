/**
 * Liveness and readiness: answers 200 when the configuration is valid and D1 answers, with
 * the audit writer's backlog (rows queued while D1 refused them; 0 when healthy).
 */
import { Hono } from "hono";
import { getAuditLog } from "../../durable-objects/audit-log.ts";
import type { AppEnv } from "../app-env.ts";
import { publicRoute } from "../middleware/access.ts";

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", publicRoute(), async (c) => {
  await c.env.DB.prepare("SELECT 1").first();
  const auditBacklog = await getAuditLog(c.env).backlog();
  return c.json({ status: "ok", auditBacklog });
});
