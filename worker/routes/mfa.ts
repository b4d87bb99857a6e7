/**
 * Enrolment in TOTP multi-factor authentication (RFC 6238): setup offers a secret, confirm
 * activates it with one valid code and returns 10 recovery codes (shown once, stored as
 * hashes), disable removes it unless MFA is required of the agent.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { mfaCodeRequest, mfaDisableRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  totpUri,
  verifyTotp,
} from "../../src/security/totp.ts";
import { disableMfa, enableMfa, readMfaSecrets, setPendingSecret } from "../../src/store/mfa.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { accountKey, assertNotLocked, countFailure } from "../lockout.ts";
import { anyAgent } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
import { verifySecondFactor } from "../second-factor.ts";

export const mfaRoutes = new Hono<AppEnv>();

mfaRoutes.use(requireAgent({ allowUnready: true }));
mfaRoutes.use(async (c, next) => {
  if (c.req.method !== "GET") assertOrigin(c, c.var.config.consoleOrigins);
  await next();
});

function audit(c: Context<AppEnv>, action: string, outcome: "success" | "failure") {
  return appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action,
    target: c.var.agent.id,
    outcome,
    ...clientInfo(c),
    at: Date.now(),
  });
}

// Enrolling a second factor is security-critical: a recent login or re-authentication.
mfaRoutes.post("/setup", anyAgent(), requireRecentAuth(), async (c) => {
  if (c.var.agent.mfaEnabled) {
    throw new ApiError(409, "mfa_already_enabled", "Two-factor authentication is already on.");
  }
  const secret = generateTotpSecret();
  await setPendingSecret(c.env.DB, c.var.agent.id, secret);
  return c.json({
    secret,
    uri: totpUri({ secret, account: c.var.agent.email, issuer: "Parley" }),
  });
});

mfaRoutes.post("/confirm", anyAgent(), async (c) => {
  const { code } = await readJson(c, mfaCodeRequest);
  const { pendingSecret } = await readMfaSecrets(c.env.DB, c.var.agent.id);
  if (!pendingSecret) throw new ApiError(409, "mfa_setup_required", "Start the setup first.");
  const result = await verifyTotp(pendingSecret, code);
  if (!result.ok) {
    await audit(c, "auth.mfa_enable", "failure");
    throw new ApiError(400, "invalid_mfa_code", "That code is not valid; try the current one.");
  }
  const codes = generateRecoveryCodes(10);
  const hashes = await Promise.all(codes.map(hashRecoveryCode));
  await enableMfa(c.env.DB, c.var.agent.id, pendingSecret, result.step, hashes);
  await audit(c, "auth.mfa_enable", "success");
  return c.json({ recoveryCodes: codes });
});

mfaRoutes.post("/disable", anyAgent(), async (c) => {
  const { password, code } = await readJson(c, mfaDisableRequest);
  const { agent, config } = c.var;
  if (config.mfaRequired || agent.mfaRequiredByDepartment) {
    throw new ApiError(403, "mfa_required", "Two-factor authentication is required for you.");
  }
  const { secret } = await readMfaSecrets(c.env.DB, agent.id);
  if (!secret) throw new ApiError(409, "mfa_not_enabled", "Two-factor authentication is off.");
  // Guessing here counts towards the account's lockout, as at login and re-authentication.
  const now = Date.now();
  await assertNotLocked(c, accountKey(agent.email), now);
  const passwordOk = verifyPassword(await getArgon2(), agent.passwordHash, password);
  if (!passwordOk || !(await verifySecondFactor(c.env.DB, agent.id, secret, code))) {
    await audit(c, "auth.mfa_disable", "failure");
    const failure = await countFailure(c, accountKey(agent.email), null, agent, now);
    throw failure.code === "account_locked"
      ? failure
      : new ApiError(401, "invalid_credentials", "The password or code is incorrect.");
  }
  await disableMfa(c.env.DB, agent.id);
  await audit(c, "auth.mfa_disable", "success");
  return c.json({ ok: true });
});
