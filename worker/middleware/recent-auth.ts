/**
 * Re-authentication before security-critical actions (ASVS 5.0 V7): the session's agent
 * must have proved who they are — logged in, or re-authenticated with the password (and a
 * second factor when enrolled) — within the last few minutes.
 */
import { createMiddleware } from "hono/factory";
import { RECENT_AUTH_MS } from "../../src/store/sessions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";

/** Answers 403 `reauth_required` unless the session authenticated within RECENT_AUTH_MS. */
export const requireRecentAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (Date.now() - c.var.session.authenticatedAt > RECENT_AUTH_MS) {
      throw new ApiError(403, "reauth_required", "Confirm your password to continue.");
    }
    await next();
  });
