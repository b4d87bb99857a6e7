/**
 * Personal API tokens for the mobile app and integrations: an agent creates one from a
 * console session (after a recent re-authentication), sees it once, lists and revokes
 * them. Only the SHA-256 is stored. Tokens are accepted only from MOBILE_IP_ALLOWLIST and
 * get the agent's own permission checks.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { maskedText } from "../../src/protocol/masked-text.ts";
import { hashToken, randomToken } from "../../src/security/tokens.ts";
import { insertApiToken, listApiTokens, revokeApiToken } from "../../src/store/api-tokens.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { anyAgent } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { API_TOKEN_PREFIX, requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

/** `POST /api/auth/tokens`. */
const createTokenRequest = z
  .object({
    name: maskedText(z.string().trim().min(1).max(100)),
    /** Days until the token stops working (PCI DSS 8.6: no credential without an end). */
    expiresInDays: z.number().int().min(1).max(365).default(90),
  })
  .strict();

export const tokenRoutes = new Hono<AppEnv>();

tokenRoutes.use(requireAgent());

tokenRoutes.get("/", anyAgent(), async (c) =>
  c.json({ tokens: await listApiTokens(c.env.DB, c.var.agent.id, Date.now()) }),
);

tokenRoutes.post("/", anyAgent(), consoleOrigin(), requireRecentAuth(), async (c) => {
  const { name, expiresInDays } = await readJson(c, createTokenRequest);
  const now = Date.now();
  const id = crypto.randomUUID();
  const token = `${API_TOKEN_PREFIX}${randomToken()}`;
  const expiresAt = now + expiresInDays * 86_400_000;
  await insertApiToken(c.env.DB, {
    id,
    agentId: c.var.agent.id,
    name,
    hash: await hashToken(token),
    now,
    expiresAt,
  });
  await audit(c, "auth.token_create", id, { name, expiresAt });
  // The only time the token is shown.
  return c.json({ id, name, token, createdAt: now, expiresAt }, 201);
});

tokenRoutes.delete("/:id", anyAgent(), consoleOrigin(), async (c) => {
  const id = c.req.param("id");
  if (!(await revokeApiToken(c.env.DB, c.var.agent.id, id, Date.now()))) {
    throw new ApiError(404, "token_not_found", "No such token.");
  }
  await audit(c, "auth.token_revoke", id, {});
  return c.json({ ok: true });
});

async function audit(
  c: Context<AppEnv>,
  action: string,
  target: string,
  details: Record<string, unknown>,
) {
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action,
    target,
    outcome: "success",
    ...clientInfo(c),
    details,
    at: Date.now(),
  });
}
