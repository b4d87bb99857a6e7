/**
 * Agent session authentication (DESIGN invariant 5): the cookie's JWT names a server-side
 * session row, so logout and revocation take effect at once; idle and absolute timeouts are
 * enforced here, on the server.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { hashToken, verifySessionToken } from "../../src/security/tokens.ts";
import { findAgentById, mfaEnrollmentRequired, passwordExpired } from "../../src/store/agents.ts";
import { findLiveApiToken, touchApiToken } from "../../src/store/api-tokens.ts";
import { findSession, touchSession } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { assertRateLimit, MINUTE_MS } from "./rate-limit.ts";

/** The session cookie, sent as `__Host-parley_session` (Hono adds the prefix and checks it). */
export const SESSION_COOKIE = "parley_session";

/** Writes to `last_seen_at` at most this often, so busy agents don't write on every call. */
const TOUCH_INTERVAL_MS = 60_000;

/** Personal API tokens: `pt_` and 256 random bits, sent as `Authorization: Bearer`. */
export const API_TOKEN_PREFIX = "pt_";

/**
 * Sets `c.var.agent` and `c.var.session`, or answers 401 `unauthenticated`. An agent whose
 * account is not ready — the password expired (or was set by an administrator), or MFA is
 * required but not enrolled — gets 403 `password_expired` / `mfa_enrollment_required`
 * from every route except those that let them fix it (`allowUnready`).
 *
 * Routes that also serve integrations set `tokens`: a personal API token then stands in
 * for the session cookie, with the same permission checks. Everywhere else a token gets
 * 403 `session_required` (sockets, the agent's own account and session routes).
 */
export const requireAgent = (options: { allowUnready?: boolean; tokens?: boolean } = {}) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (bearer !== undefined) {
      if (!options.tokens) {
        throw new ApiError(403, "session_required", "Sign in to the console for this.");
      }
      await authenticateToken(c, bearer);
    } else {
      await authenticate(c);
    }
    if (!options.allowUnready) assertReady(c);
    await next();
  });

async function authenticateToken(c: Context<AppEnv>, token: string): Promise<void> {
  const denied = new ApiError(401, "unauthenticated", "The API token is invalid or expired.");
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 128) throw denied;
  const now = Date.now();
  const found = await findLiveApiToken(c.env.DB, await hashToken(token), now);
  if (!found) throw denied;
  const agent = await findAgentById(c.env.DB, found.agentId);
  if (!agent || agent.disabledAt !== null) throw denied;
  if (now - (found.lastUsedAt ?? 0) > TOUCH_INTERVAL_MS) {
    await touchApiToken(c.env.DB, found.id, now);
  }
  c.set("agent", agent);
  const limit = c.var.config.rateLimits.apiPerSessionPerMinute;
  await assertRateLimit(c, "api-token", found.id, limit, MINUTE_MS);
  // A token is not a login: it never counts as a recent authentication (re-auth-gated
  // actions need the console), and it names no session row.
  c.set("session", {
    id: `token:${found.id}`,
    agentId: agent.id,
    createdAt: found.createdAt,
    lastSeenAt: now,
    revokedAt: null,
    authenticatedAt: 0,
  });
}

function assertReady(c: Context<AppEnv>): void {
  const { agent, config } = c.var;
  if (passwordExpired(agent, config.passwords.maxAgeMs, Date.now())) {
    throw new ApiError(403, "password_expired", "Change your password to continue.");
  }
  if (mfaEnrollmentRequired(agent, config.mfaRequired)) {
    throw new ApiError(
      403,
      "mfa_enrollment_required",
      "Set up two-factor authentication to continue.",
    );
  }
}

async function authenticate(c: Context<AppEnv>): Promise<void> {
  const denied = new ApiError(401, "unauthenticated", "Log in to continue.");
  const token = getCookie(c, SESSION_COOKIE, "host");
  if (!token) throw denied;
  const config = c.get("config");
  const claims = await verifySessionToken(token, config.verificationKeys);
  if (!claims) throw denied;
  const session = await findSession(c.env.DB, claims.sid);
  const now = Date.now();
  if (
    !session ||
    session.agentId !== claims.sub ||
    session.revokedAt !== null ||
    now - session.lastSeenAt > config.sessionIdleMs ||
    now - session.createdAt > config.sessionAbsoluteMs
  ) {
    throw new ApiError(401, "session_expired", "Your session has ended; log in again.");
  }
  const agent = await findAgentById(c.env.DB, session.agentId);
  if (!agent || agent.disabledAt !== null) throw denied;
  if (now - session.lastSeenAt > TOUCH_INTERVAL_MS) {
    await touchSession(c.env.DB, session.id, now, {
      idleMs: config.sessionIdleMs,
      absoluteMs: config.sessionAbsoluteMs,
    });
    session.lastSeenAt = now;
  }
  c.set("session", session);
  c.set("agent", agent);
  // Only after authentication, so nobody can pick keys and create limiter objects at will.
  await assertRateLimit(
    c,
    "api-session",
    session.id,
    config.rateLimits.apiPerSessionPerMinute,
    MINUTE_MS,
  );
}
