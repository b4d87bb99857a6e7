/**
 * Failed authentication attempts: counts them per account and per IP, locks the account at
 * LOGIN_LOCKOUT_AFTER (its sessions end at once, PCI DSS 8.3.4) and builds the answer.
 * Shared by login and by password change (a stolen session must not guess passwords).
 * Each counted failure and each lock also counts towards the security alerts (alerts.ts).
 */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import type { AgentRecord } from "../src/store/agents.ts";
import {
  clearFailures,
  type FailureState,
  readFailures,
  recordFailure,
} from "../src/store/login-failures.ts";
import { revokeAgentSessions } from "../src/store/sessions.ts";
import { countSecurityEvent } from "./alerts.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

/** The account counter's key: the email as typed, normalised (known account or not). */
export function accountKey(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The account's failure state, with a lock that has run out cleared (counting starts
 * afresh); the state says `lockedUntil` while a lock holds.
 */
export async function accountState(c: Context<AppEnv>, key: string, now: number) {
  const account = await readFailures(c.env.DB, "account", key);
  if (account.lockedUntil !== null && account.lockedUntil <= now) {
    await clearFailures(c.env.DB, "account", key);
    return { failures: 0, lockedUntil: null };
  }
  return account;
}

/** Throws 401 `account_locked` while the account is locked. */
export async function assertNotLocked(c: Context<AppEnv>, key: string, now: number) {
  const { lockedUntil } = await accountState(c, key, now);
  if (lockedUntil !== null) throw lockedError(lockedUntil, now);
}

/**
 * Counts a failure for the account (and the IP, when given); locks the account at the
 * threshold. Returns the error to answer with.
 */
export async function countFailure(
  c: Context<AppEnv>,
  key: string,
  ipKey: string | null,
  agent: AgentRecord | null,
  now: number,
): Promise<ApiError> {
  const { login } = c.var.config;
  const db = c.env.DB;
  const [account, ip]: (FailureState | null)[] = await Promise.all([
    recordFailure(db, "account", key, now, { after: login.lockoutAfter, ms: login.lockoutMs }),
    ipKey ? recordFailure(db, "ip", ipKey, now, null) : null,
  ]);
  countSecurityEvent(c, "failed_logins");
  if (account?.lockedUntil && account.lockedUntil > now) {
    if (agent && account.justLocked) {
      countSecurityEvent(c, "lockouts");
      await revokeAgentSessions(db, agent.id, now);
      await appendAudit(c.env, {
        actorType: "system",
        actorId: null,
        action: "auth.lockout",
        target: agent.id,
        outcome: "success",
        ...clientInfo(c),
        details: { failures: account.failures, until: account.lockedUntil },
        at: now,
      });
    }
    return lockedError(account.lockedUntil, now);
  }
  const captchaRequired =
    (account?.failures ?? 0) >= login.captchaAfter || (ip?.failures ?? 0) >= login.captchaAfter;
  return new ApiError(401, "invalid_credentials", "The email or password is incorrect.", {
    captchaRequired,
  });
}

/** The answer while an account is locked. */
export function lockedError(lockedUntil: number, now: number): ApiError {
  return new ApiError(
    401,
    "account_locked",
    `Too many failed attempts. Try again in ${Math.ceil((lockedUntil - now) / 60_000)} minutes.`,
    { captchaRequired: true, retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) },
  );
}
