/**
 * Security settings (`security.manage`): the IP allowlists as configured in wrangler.toml
 * and as narrowed by an administrator. Narrowing only: every rule must lie inside the
 * configured list (and the Worker applies both lists anyway), and an administrator cannot
 * lock out the network they are calling from.
 */
import { Hono } from "hono";
import { z } from "zod";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { IpRuleError, parseIpRule, ruleWithin } from "../../src/security/ip-rules.ts";
import {
  type AllowlistKind,
  readNarrowedAllowlists,
  writeNarrowedAllowlist,
} from "../../src/store/security-settings.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { requirePermission } from "../middleware/access.ts";
import { allowlistKind, ipPermitted } from "../middleware/ip-allowlist.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

/** `PUT /api/security/ip-allowlists/:kind`: the narrower rules, or null to lift narrowing. */
const narrowRequest = z
  .object({ rules: z.array(z.string().trim().min(1).max(64)).max(100).nullable() })
  .strict();

export const securityRoutes = new Hono<AppEnv>();

securityRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("security.manage");

securityRoutes.get("/ip-allowlists", manage, async (c) => {
  const narrowed = await readNarrowedAllowlists(c.env.DB);
  const { agent, mobile } = c.var.config.ipAllowlists;
  return c.json({
    agent: { configured: agent.rules, narrowed: narrowed.agent },
    mobile: { configured: mobile.rules, narrowed: narrowed.mobile },
  });
});

securityRoutes.put(
  "/ip-allowlists/:kind",
  manage,
  consoleOrigin(),
  requireRecentAuth(),
  async (c) => {
    const kind = c.req.param("kind");
    if (kind !== "agent" && kind !== "mobile") {
      throw new ApiError(404, "not_found", 'The allowlists are "agent" and "mobile".');
    }
    const { rules } = await readJson(c, narrowRequest);
    if (rules !== null) assertNarrower(c.var.config.ipAllowlists[kind].parsed, rules);
    const before = (await readNarrowedAllowlists(c.env.DB))[kind];
    const db = c.env.DB;
    await writeNarrowedAllowlist(db, kind, rules, c.var.agent.id, Date.now());
    // Never lock out the caller: their own request must still pass the new list.
    if (kind === allowlistKind(c) && !(await ipPermitted(c, kind, clientInfo(c).ip))) {
      await writeNarrowedAllowlist(db, kind, before, c.var.agent.id, Date.now());
      throw new ApiError(
        409,
        "would_lock_you_out",
        "This list would block the network you are using now; include it first.",
      );
    }
    await appendAudit(c.env, {
      actorType: "agent",
      actorId: c.var.agent.id,
      action: "security.ip_allowlist",
      target: kind,
      outcome: "success",
      ...clientInfo(c),
      details: { before, after: rules },
      at: Date.now(),
    });
    return c.json({ kind: kind satisfies AllowlistKind, narrowed: rules });
  },
);

/** Throws 400 unless every rule parses and lies inside the configured list. */
function assertNarrower(configured: Parameters<typeof ruleWithin>[1], rules: string[]): void {
  const outside: string[] = [];
  for (const rule of rules) {
    try {
      if (!ruleWithin(parseIpRule(rule), configured)) outside.push(rule);
    } catch (error) {
      if (!(error instanceof IpRuleError)) throw error;
      throw new ApiError(400, "invalid_request", error.message, { rule });
    }
  }
  if (outside.length > 0) {
    throw new ApiError(
      400,
      "outside_configured_range",
      "An administrator can narrow the allowlist, never widen it beyond wrangler.toml.",
      { rules: outside },
    );
  }
}
