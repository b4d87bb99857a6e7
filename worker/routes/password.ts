/**
 * Password change (PCI DSS 8.3.6, 8.3.7, 8.3.9): needs the current password, obeys the
 * policy, the history and the minimum age, and ends every other session of the agent.
 */
import { Hono } from "hono";
import { changePasswordRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { hashPassword, verifyPassword } from "../../src/security/password-hash.ts";
import { checkPassword, describePasswordProblems } from "../../src/security/password-policy.ts";
import { passwordExpired } from "../../src/store/agents.ts";
import { appendAudit } from "../../src/store/audit.ts";
import { recordFailure } from "../../src/store/login-failures.ts";
import { recentPasswordHashes, setPassword } from "../../src/store/passwords.ts";
import { revokeAgentSessions } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const passwordRoutes = new Hono<AppEnv>();

passwordRoutes.post("/", requireAgent({ allowExpiredPassword: true }), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { currentPassword, newPassword } = await readJson(c, changePasswordRequest);
  const { agent, session, config } = c.var;
  const db = c.env.DB;
  const now = Date.now();
  const argon2 = await getArgon2();
  const audit = (outcome: "success" | "failure", reason?: string) =>
    appendAudit(db, {
      actorType: "agent",
      actorId: agent.id,
      action: "auth.password_change",
      target: agent.id,
      outcome,
      ...clientInfo(c),
      ...(reason ? { details: { reason } } : {}),
      at: now,
    });

  if (!verifyPassword(argon2, agent.passwordHash, currentPassword)) {
    // A stolen session must not become a free password-guessing oracle.
    await recordFailure(db, "account", agent.email.toLowerCase(), now, {
      after: config.login.lockoutAfter,
      ms: config.login.lockoutMs,
    });
    await audit("failure", "wrong_password");
    throw new ApiError(401, "invalid_credentials", "The current password is incorrect.");
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
  const problems = checkPassword(
    newPassword,
    { username: agent.name, email: agent.email },
    config.passwordPolicy,
  );
  if (problems.length > 0) {
    await audit("failure", "policy");
    throw new ApiError(
      400,
      "password_policy",
      describePasswordProblems(problems, config.passwordPolicy).join(" "),
      { problems },
    );
  }
  // PCI DSS 8.3.7: not the current password nor one of the last PASSWORD_HISTORY - 1.
  const recent = await recentPasswordHashes(db, agent.id, Math.max(config.passwords.history, 1));
  if (recent.some((hash) => verifyPassword(argon2, hash, newPassword))) {
    await audit("failure", "reused");
    throw new ApiError(400, "password_reused", "Choose a password you have not used recently.");
  }
  await setPassword(
    db,
    agent.id,
    hashPassword(argon2, newPassword),
    now,
    Math.max(config.passwords.history - 1, 0),
  );
  await revokeAgentSessions(db, agent.id, now, session.id);
  await audit("success");
  return c.json({ ok: true });
});
