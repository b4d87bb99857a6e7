/**
 * Password change (PCI DSS 8.3.6, 8.3.7, 8.3.9): needs the current password, obeys the
 * policy, the history and the minimum age, and ends every other session of the agent.
 */
import { Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import type { Config } from "../../src/config.ts";
import { changePasswordRequest, resetPasswordRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { hashPassword, verifyPassword } from "../../src/security/password-hash.ts";
import { checkPassword, describePasswordProblems } from "../../src/security/password-policy.ts";
import { hashToken } from "../../src/security/tokens.ts";
import { type AgentRecord, findAgentById, passwordExpired } from "../../src/store/agents.ts";
import { clearFailures } from "../../src/store/login-failures.ts";
import {
  recentPasswordHashes,
  setPassword,
  spendPasswordToken,
} from "../../src/store/passwords.ts";
import { revokeAgentSessions } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { accountKey, assertNotLocked, countFailure } from "../lockout.ts";
import { anyAgent, publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const passwordRoutes = new Hono<AppEnv>();

passwordRoutes.post("/", requireAgent({ allowUnready: true }), anyAgent(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { currentPassword, newPassword } = await readJson(c, changePasswordRequest);
  const { agent, session, config } = c.var;
  const db = c.env.DB;
  const now = Date.now();
  const argon2 = await getArgon2();
  const audit = (outcome: "success" | "failure", reason?: string) =>
    appendAudit(c.env, {
      actorType: "agent",
      actorId: agent.id,
      action: "auth.password_change",
      target: agent.id,
      outcome,
      ...clientInfo(c),
      ...(reason ? { details: { reason } } : {}),
      at: now,
    });

  // A stolen session must not become a free password-guessing oracle: the account's lock
  // applies here too, and wrong guesses count towards it.
  await assertNotLocked(c, accountKey(agent.email), now);
  if (!verifyPassword(argon2, agent.passwordHash, currentPassword)) {
    await audit("failure", "wrong_password");
    const failure = await countFailure(c, accountKey(agent.email), null, agent, now);
    throw failure.code === "account_locked"
      ? failure
      : new ApiError(401, "invalid_credentials", "The current password is incorrect.");
  }
  const mustChange = passwordExpired(agent, config.passwords.maxAgeMs, now);
  if (!mustChange && now - agent.passwordChangedAt < config.passwords.minAgeMs) {
    await audit("failure", "too_recent");
    throw new ApiError(
      400,
      "password_too_recent",
      "Your password was changed too recently to change it again.",
    );
  }
  const refused = await refuseNewPassword(db, config, agent, newPassword);
  if (refused) {
    await audit("failure", refused.code);
    throw refused;
  }
  await storeNewPassword(db, config, agent.id, newPassword, now);
  await revokeAgentSessions(db, agent.id, now, session.id);
  await audit("success");
  return c.json({ ok: true });
});

/** The password-policy refusal for `newPassword`, or null when it is acceptable. */
function policyBreach(config: Config, agent: AgentRecord, newPassword: string): ApiError | null {
  const policy = config.passwordPolicy;
  const problems = checkPassword(newPassword, { username: agent.name, email: agent.email }, policy);
  if (problems.length === 0) return null;
  const rules = describePasswordProblems(problems, policy).join(" ");
  return new ApiError(400, "password_policy", rules, { problems });
}

/**
 * Why `newPassword` may not become the agent's password, or null: the policy, and the
 * history (PCI DSS 8.3.7: not the current one nor one of the last PASSWORD_HISTORY - 1).
 */
async function refuseNewPassword(
  db: D1Database,
  config: Config,
  agent: AgentRecord,
  newPassword: string,
): Promise<ApiError | null> {
  const breach = policyBreach(config, agent, newPassword);
  if (breach) return breach;
  const argon2 = await getArgon2();
  const recent = await recentPasswordHashes(db, agent.id, Math.max(config.passwords.history, 1));
  if (recent.some((hash) => verifyPassword(argon2, hash, newPassword))) {
    return new ApiError(400, "password_reused", "Choose a password you have not used recently.");
  }
  return null;
}

/** Stores the new password (the old hash joins the history). */
async function storeNewPassword(
  db: D1Database,
  config: Config,
  agentId: string,
  newPassword: string,
  now: number,
): Promise<void> {
  const hash = hashPassword(await getArgon2(), newPassword);
  await setPassword(db, agentId, hash, now, Math.max(config.passwords.history - 1, 0));
}

/**
 * Completes a reset or set-password link: the one-time token (single use, 30 minutes)
 * replaces the current password, which the agent may have forgotten. Every session of the
 * agent ends and a lockout is lifted.
 */
passwordRoutes.post("/reset", publicRoute(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { token, newPassword } = await readJson(c, resetPasswordRequest);
  const db = c.env.DB;
  const now = Date.now();
  const invalid = new ApiError(400, "invalid_token", "This link is invalid, used or expired.");
  // Validate the new password before spending the token, so a typo does not burn the link.
  const tokenHash = await hashToken(token);
  const pending = await db
    .prepare(
      "SELECT agent_id AS agentId FROM password_tokens WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
    )
    .bind(tokenHash, now)
    .first<{ agentId: string }>();
  const agent = pending ? await findAgentById(db, pending.agentId) : null;
  if (!agent || agent.disabledAt !== null) {
    await appendAudit(c.env, {
      actorType: "anonymous",
      actorId: null,
      action: "auth.password_reset",
      target: agent?.id ?? null,
      outcome: "failure",
      ...clientInfo(c),
      details: { reason: agent ? "disabled" : "invalid_token" },
      at: now,
    });
    throw invalid;
  }
  // Checked before the token is spent, so a refused password does not burn the link.
  const refused = await refuseNewPassword(db, c.var.config, agent, newPassword);
  if (refused) {
    await appendAudit(c.env, {
      actorType: "anonymous",
      actorId: null,
      action: "auth.password_reset",
      target: agent.id,
      outcome: "failure",
      ...clientInfo(c),
      details: { reason: refused.code },
      at: now,
    });
    throw refused;
  }
  if (!(await spendPasswordToken(db, tokenHash, now))) throw invalid;
  await storeNewPassword(db, c.var.config, agent.id, newPassword, now);
  await revokeAgentSessions(db, agent.id, now);
  await clearFailures(db, "account", accountKey(agent.email));
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: agent.id,
    action: "auth.password_reset",
    target: agent.id,
    outcome: "success",
    ...clientInfo(c),
    at: now,
  });
  return c.json({ ok: true });
});
