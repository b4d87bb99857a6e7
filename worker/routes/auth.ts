/**
 * Agent authentication: login (with CAPTCHA after repeated failures and lockout), logout,
 * me. Login failures never reveal whether the account exists: counters are keyed by the
 * email as typed, the same error answers an unknown account and a wrong password, and an
 * unknown account still costs one argon2id verify.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { type AgentSessionResponse, loginRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";
import { randomId, signSessionToken } from "../../src/security/tokens.ts";
import {
  type AgentRecord,
  findAgentByEmail,
  mfaEnrollmentRequired,
  passwordExpired,
  recordLogin,
  toProfile,
} from "../../src/store/agents.ts";
import { clearFailures, readFailures } from "../../src/store/login-failures.ts";
import { readMfaSecrets } from "../../src/store/mfa.ts";
import { createSession, revokeSession } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { captchaChallenge, verifyLoginCaptcha } from "../captcha-gate.ts";
import { clientInfo } from "../client-info.ts";
import { accountKey, accountState, countFailure, lockedError } from "../lockout.ts";
import { anyAgent, publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { assertRateLimit, clientIpKey, MINUTE_MS, rateLimit } from "../middleware/rate-limit.ts";
import { requireAgent, SESSION_COOKIE } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
import { verifySecondFactor } from "../second-factor.ts";

export const authRoutes = new Hono<AppEnv>();

/**
 * An argon2id hash (same parameters) of a random string nobody knows: verifying an unknown
 * account's login against it costs what a real verify costs, so timing tells nothing.
 */
const DUMMY_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$FcgoNEqrzIOx5sUdgCOU7w$aydRBfKlb/JEYufZO2J7Qpa4MNypnpvCIx69cuw0oJg";

const COOKIE_OPTIONS = {
  path: "/",
  secure: true,
  httpOnly: true,
  sameSite: "Strict",
  prefix: "host",
} as const;

authRoutes.get("/captcha", publicRoute(), async (c) => c.json(await captchaChallenge(c)));

authRoutes.post(
  "/login",
  publicRoute(),
  rateLimit("login-ip", clientIpKey, (config) => config.rateLimits.loginPerIpPerMinute, MINUTE_MS),
  async (c) => {
    assertOrigin(c, c.var.config.consoleOrigins);
    const { email, password, captcha, totp } = await readJson(c, loginRequest);
    const { login } = c.var.config;
    const db = c.env.DB;
    const who = clientInfo(c);
    const now = Date.now();
    const key = accountKey(email);
    const ipKey = who.ip ?? "unknown";
    const audit = (outcome: "success" | "failure", agent: AgentRecord | null, reason?: string) =>
      appendAudit(c.env, {
        actorType: outcome === "success" ? "agent" : "anonymous",
        actorId: agent?.id ?? null,
        action: "auth.login",
        target: agent?.id ?? null,
        outcome,
        ...who,
        ...(reason ? { details: { reason } } : {}),
        at: now,
      });

    const account = await accountState(c, key, now);
    const agent = await findAgentByEmail(db, key);
    if (account.lockedUntil !== null) {
      await audit("failure", agent, "locked");
      throw lockedError(account.lockedUntil, now);
    }
    // Per account as typed (unknown accounts alike), after the lock check so a locked
    // account still says so, and before the CAPTCHA and argon2 work it protects.
    const { rateLimits } = c.var.config;
    await assertRateLimit(c, "login-account", key, rateLimits.loginPerAccountPerMinute, MINUTE_MS);
    const ip = await readFailures(db, "ip", ipKey);
    if (account.failures >= login.captchaAfter || ip.failures >= login.captchaAfter) {
      if (!captcha) {
        await audit("failure", agent, "captcha_missing");
        throw new ApiError(401, "captcha_required", "Solve the CAPTCHA to continue.", {
          captchaRequired: true,
        });
      }
      if (!(await verifyLoginCaptcha(c, captcha))) {
        await audit("failure", agent, "captcha_invalid");
        throw new ApiError(401, "captcha_invalid", "The CAPTCHA was not solved; try again.", {
          captchaRequired: true,
        });
      }
    }

    const argon2 = await getArgon2();
    const valid = verifyPassword(argon2, agent?.passwordHash ?? DUMMY_HASH, password);
    if (!agent || !valid || agent.disabledAt !== null) {
      await audit(
        "failure",
        agent,
        !agent ? "unknown_account" : !valid ? "wrong_password" : "disabled",
      );
      throw await countFailure(c, key, ipKey, agent, now);
    }

    if (agent.mfaEnabled) {
      // Asked only after the right password, so MFA status tells an attacker nothing new.
      if (!totp) {
        await audit("failure", agent, "mfa_missing");
        throw new ApiError(401, "mfa_required", "Enter the code from your authenticator app.");
      }
      const { secret } = await readMfaSecrets(db, agent.id);
      if (!secret || !(await verifySecondFactor(db, agent.id, secret, totp))) {
        await audit("failure", agent, "mfa_invalid");
        const failure = await countFailure(c, key, ipKey, agent, now);
        throw failure.code === "account_locked"
          ? failure
          : new ApiError(401, "invalid_mfa_code", "That code is not valid.");
      }
    }

    // Only the account's counter: the IP's decays after a day without failures (clearing it
    // on success would let an attacker with one valid account reset it and spray others).
    await clearFailures(db, "account", key);
    // A fresh session id at every login (no fixation); the JWT only names the row.
    const sessionId = randomId();
    await createSession(db, { id: sessionId, agentId: agent.id, ...who, now });
    await recordLogin(db, agent.id, now);
    const token = await signSessionToken(
      { sub: agent.id, sid: sessionId },
      c.var.config.sessionKey,
      Math.ceil(c.var.config.sessionAbsoluteMs / 1000),
    );
    // Session-only cookie: no Expires / Max-Age.
    setCookie(c, SESSION_COOKIE, token, COOKIE_OPTIONS);
    await appendAudit(c.env, {
      actorType: "agent",
      actorId: agent.id,
      action: "auth.login",
      target: agent.id,
      outcome: "success",
      ...who,
      details: { session: sessionId },
      at: now,
    });
    return c.json(readiness(c, agent));
  },
);

authRoutes.post("/logout", requireAgent({ allowUnready: true }), anyAgent(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const now = Date.now();
  await revokeSession(c.env.DB, c.var.session.id, now);
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action: "auth.logout",
    target: c.var.agent.id,
    outcome: "success",
    ...clientInfo(c),
    details: { session: c.var.session.id },
    at: now,
  });
  setCookie(c, SESSION_COOKIE, "", { ...COOKIE_OPTIONS, maxAge: 0 });
  return c.json({ ok: true });
});

authRoutes.get("/me", requireAgent({ allowUnready: true, tokens: true }), anyAgent(), (c) =>
  c.json(readiness(c, c.var.agent)),
);

/** The profile, and what the agent must do before using the console. */
function readiness(c: Context<AppEnv>, agent: AgentRecord): AgentSessionResponse {
  return {
    agent: toProfile(agent),
    passwordExpired: passwordExpired(agent, c.var.config.passwords.maxAgeMs, Date.now()),
    mfaEnrollmentRequired: mfaEnrollmentRequired(agent, c.var.config.mfaRequired),
  };
}
