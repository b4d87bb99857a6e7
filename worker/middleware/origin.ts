/**
 * Origin checks for visitor and agent endpoints. The Worker's own origin (demo page and
 * console served by the Worker, on whatever port) is always allowed; others must be listed.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";

/** The origin the request was sent to, e.g. `http://127.0.0.1:8787`. */
export function ownOrigin(c: Context<AppEnv>): string {
  return new URL(c.req.url).origin;
}

/**
 * Throws 403 `origin_denied` unless the request's Origin is the Worker's own or in `extra`.
 * A missing Origin is denied too (fails closed): browsers always send it on these requests.
 */
export function assertOrigin(c: Context<AppEnv>, extra: readonly string[]): void {
  const origin = c.req.header("origin");
  if (origin && (origin === ownOrigin(c) || extra.includes(origin))) return;
  throw new ApiError(403, "origin_denied", "This origin may not use the chat service.");
}

/** Middleware form of `assertOrigin` for console requests that change state. */
export const consoleOrigin = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    assertOrigin(c, c.var.config.consoleOrigins);
    await next();
  });
