/**
 * The visitor ban list (`bans.manage`): list, ban an IP, a CIDR range or a visitor id (with
 * a reason and an optional expiry), lift a ban. Bans are enforced at chat creation and at
 * the visitor socket upgrade (visitor-guards.ts). Changes need an allowed Origin and are
 * audited (`ban.create`, `ban.delete`).
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import {
  type Ban,
  type BanListResponse,
  type BanResponse,
  createBanRequest,
} from "../../src/protocol/http.ts";
import type { AuditEntry } from "../../src/store/audit.ts";
import { createBan, deleteBan, findActiveBan, findBan, listBans } from "../../src/store/bans.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const bansRoutes = new Hono<AppEnv>();

bansRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("bans.manage");

/** Ban ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

function audit(
  c: Context<AppEnv>,
  entry: Pick<AuditEntry, "action" | "target" | "details">,
): Promise<void> {
  return appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    outcome: "success",
    ...clientInfo(c),
    ...entry,
    at: Date.now(),
  });
}

/** What the audit row says about a ban (the reason is already card-masked). */
const described = (ban: Ban) => ({
  kind: ban.kind,
  value: ban.value,
  reason: ban.reason,
  expiresAt: ban.expiresAt,
});

bansRoutes.get("/", manage, async (c) => {
  const body: BanListResponse = { bans: await listBans(c.env.DB, Date.now()) };
  return c.json(body);
});

bansRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createBanRequest);
  const db = c.env.DB;
  const now = Date.now();
  const existing = await findActiveBan(db, input.kind, input.value, now);
  if (existing) {
    throw new ApiError(409, "already_banned", "An active ban already covers exactly this.", {
      id: existing.id,
    });
  }
  const id = crypto.randomUUID();
  await createBan(db, {
    id,
    kind: input.kind,
    value: input.value,
    reason: input.reason,
    createdBy: c.var.agent.id,
    now,
    expiresAt: input.expiresInMinutes === undefined ? null : now + input.expiresInMinutes * 60_000,
  });
  const ban = await findBan(db, id, now);
  if (!ban) throw new Error("ban vanished after insert");
  await audit(c, { action: "ban.create", target: id, details: described(ban) });
  const body: BanResponse = { ban };
  return c.json(body, 201);
});

bansRoutes.delete("/:id", manage, consoleOrigin(), async (c) => {
  const id = c.req.param("id");
  const ban = id.length <= MAX_ID_CHARS ? await findBan(c.env.DB, id, Date.now()) : null;
  if (!ban || !(await deleteBan(c.env.DB, id))) {
    throw new ApiError(404, "ban_not_found", "No such ban.");
  }
  await audit(c, { action: "ban.delete", target: id, details: described(ban) });
  return c.json({ ok: true });
});
