/** An agent's own sessions: list them (device, IP, last seen) and revoke any of them. */
import { Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { findSession, listLiveSessions, revokeSession } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { anyAgent } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";

export const sessionRoutes = new Hono<AppEnv>();

sessionRoutes.use(requireAgent({ allowUnready: true }));

sessionRoutes.get("/", anyAgent(), async (c) => {
  const { config, session } = c.var;
  const sessions = await listLiveSessions(c.env.DB, c.var.agent.id, Date.now(), {
    idleMs: config.sessionIdleMs,
    absoluteMs: config.sessionAbsoluteMs,
  });
  return c.json({
    sessions: sessions.map((listed) => ({ ...listed, current: listed.id === session.id })),
  });
});

sessionRoutes.delete("/:id", anyAgent(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const id = c.req.param("id");
  const target = await findSession(c.env.DB, id);
  // Someone else's session looks exactly like a missing one.
  if (!target || target.agentId !== c.var.agent.id) {
    throw new ApiError(404, "session_not_found", "No such session.");
  }
  const now = Date.now();
  await revokeSession(c.env.DB, id, now);
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action: "auth.session_revoke",
    target: id,
    outcome: "success",
    ...clientInfo(c),
    at: now,
  });
  return c.json({ ok: true });
});
