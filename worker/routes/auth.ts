/**
 * Agent authentication: login, logout, me. Login failures never reveal whether the account
 * exists: same error, same work (an unknown email still costs one argon2id verify).
 */
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { loginRequest } from "../../src/protocol/http.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";
import { randomId, signSessionToken } from "../../src/security/tokens.ts";
import { findAgentByEmail, toProfile } from "../../src/store/agents.ts";
import { appendAudit } from "../../src/store/audit.ts";
import { createSession, revokeSession } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent, SESSION_COOKIE } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const authRoutes = new Hono<AppEnv>();

/**
 * An argon2id hash (same parameters) of a random string nobody knows: verifying an unknown
 * account's login against it costs what a real verify costs, so timing tells nothing.
 */
const DUMMY_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$FcgoNEqrzIOx5sUdgCOU7w$aydRBfKlb/JEYufZO2J7Qpa4MNypnpvCIx69cuw0oJg";

authRoutes.post("/login", async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { email, password } = await readJson(c, loginRequest);
  const argon2 = await getArgon2();
  const who = clientInfo(c);
  const now = Date.now();
  const agent = await findAgentByEmail(c.env.DB, email);
  const valid = verifyPassword(argon2, agent?.passwordHash ?? DUMMY_HASH, password);
  if (!agent || !valid || agent.disabledAt !== null) {
    await appendAudit(c.env.DB, {
      actorType: "anonymous",
      actorId: agent?.id ?? null,
      action: "auth.login",
      target: agent?.id ?? null,
      outcome: "failure",
      ...who,
      details: { reason: !agent ? "unknown_account" : !valid ? "wrong_password" : "disabled" },
      at: now,
    });
    throw new ApiError(401, "invalid_credentials", "The email or password is incorrect.");
  }
  // A fresh session id at every login (no fixation); the JWT only names the row.
  const sessionId = randomId();
  await createSession(c.env.DB, { id: sessionId, agentId: agent.id, ...who, now });
  const token = await signSessionToken(
    { sub: agent.id, sid: sessionId },
    c.var.config.sessionKey,
    Math.ceil(c.var.config.sessionAbsoluteMs / 1000),
  );
  // Session-only cookie: no Expires / Max-Age.
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    prefix: "host",
  });
  await appendAudit(c.env.DB, {
    actorType: "agent",
    actorId: agent.id,
    action: "auth.login",
    target: agent.id,
    outcome: "success",
    ...who,
    details: { session: sessionId },
    at: now,
  });
  return c.json({ agent: toProfile(agent) });
});

authRoutes.post("/logout", requireAgent(), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const now = Date.now();
  await revokeSession(c.env.DB, c.var.session.id, now);
  await appendAudit(c.env.DB, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action: "auth.logout",
    target: c.var.agent.id,
    outcome: "success",
    ...clientInfo(c),
    details: { session: c.var.session.id },
    at: now,
  });
  setCookie(c, SESSION_COOKIE, "", {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    prefix: "host",
    maxAge: 0,
  });
  return c.json({ ok: true });
});

authRoutes.get("/me", requireAgent(), (c) => c.json({ agent: toProfile(c.var.agent) }));
