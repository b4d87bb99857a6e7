/**
 * `POST /api/auth/reauth`: the agent proves again who they are (password, and a TOTP or
 * recovery code when enrolled) before a security-critical action. Wrong answers count
 * towards the account's lockout like failed logins.
 */
import { Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { reauthRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";
import { readMfaSecrets } from "../../src/store/mfa.ts";
import { markAuthenticated } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { accountKey, assertNotLocked, countFailure } from "../lockout.ts";
import { anyAgent } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
import { verifySecondFactor } from "../second-factor.ts";

export const reauthRoutes = new Hono<AppEnv>();

reauthRoutes.post("/", requireAgent({ allowUnready: true }), anyAgent(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { password, totp } = await readJson(c, reauthRequest);
  const { agent, session } = c.var;
  const db = c.env.DB;
  const now = Date.now();
  const key = accountKey(agent.email);
  const audit = (outcome: "success" | "failure", reason?: string) =>
    appendAudit(c.env, {
      actorType: "agent",
      actorId: agent.id,
      action: "auth.reauth",
      target: agent.id,
      outcome,
      ...clientInfo(c),
      ...(reason ? { details: { reason } } : {}),
      at: now,
    });
  await assertNotLocked(c, key, now);
  if (!verifyPassword(await getArgon2(), agent.passwordHash, password)) {
    await audit("failure", "wrong_password");
    throw await countFailure(c, key, null, agent, now);
  }
  if (agent.mfaEnabled) {
    const { secret } = await readMfaSecrets(db, agent.id);
    if (!totp) {
      await audit("failure", "mfa_missing");
      throw new ApiError(401, "mfa_required", "Enter the code from your authenticator app.");
    }
    if (!secret || !(await verifySecondFactor(db, agent.id, secret, totp))) {
      await audit("failure", "mfa_invalid");
      const failure = await countFailure(c, key, null, agent, now);
      throw failure.code === "account_locked"
        ? failure
        : new ApiError(401, "invalid_mfa_code", "That code is not valid.");
    }
  }
  await markAuthenticated(db, session.id, now);
  await audit("success");
  return c.json({ ok: true });
});
