/**
 * Route access declarations (DESIGN invariant 3: IP allowlist → session → permission).
 * Every `/api` route declares who may call it with one of these middlewares; a worker test
 * walks the app's routes and fails when one has no declaration, and the permission matrix
 * test is generated from the declared permissions.
 */
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import type { Permission } from "../../src/security/permissions.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";

/** Who may call a route. */
export type RouteAccess =
  /** Anyone: login, the visitor API, health. The route defends itself (CAPTCHA, tokens, …). */
  | { kind: "public" }
  /** Any signed-in agent, for their own account (profile, sessions, password, MFA). */
  | { kind: "agent" }
  /** Agents holding at least one of `anyOf`. */
  | { kind: "permission"; anyOf: Permission[] };

const ACCESS = Symbol("parley.routeAccess");
type Declared = MiddlewareHandler<AppEnv> & { [ACCESS]?: RouteAccess };

function declare(access: RouteAccess, handler: MiddlewareHandler<AppEnv>): Declared {
  return Object.assign(handler, { [ACCESS]: access });
}

/** The declaration carried by a route handler, if any. */
export function declaredAccess(handler: unknown): RouteAccess | undefined {
  return typeof handler === "function" ? (handler as Declared)[ACCESS] : undefined;
}

/** Declares a public route (no session). */
export const publicRoute = (): Declared =>
  declare({ kind: "public" }, async (_c, next) => {
    await next();
  });

/** Declares a route any signed-in agent may call for their own account. */
export const anyAgent = (): Declared =>
  declare({ kind: "agent" }, async (_c, next) => {
    await next();
  });

/**
 * Requires one of `anyOf` (after `requireAgent`). Permissions were read from D1 with the
 * session, so a withdrawn grant applies from the next request. A denial answers
 * 403 `forbidden` and writes an audit row.
 */
export const requirePermission = (...anyOf: Permission[]): Declared =>
  declare(
    { kind: "permission", anyOf },
    createMiddleware<AppEnv>(async (c, next) => {
      const agent = c.var.agent;
      if (!anyOf.some((p) => agent.permissions.includes(p))) {
        await appendAudit(c.env, {
          actorType: "agent",
          actorId: agent.id,
          action: "access.denied",
          target: `${c.req.method} ${new URL(c.req.url).pathname}`,
          outcome: "denied",
          ...clientInfo(c),
          details: { required: anyOf },
          at: Date.now(),
        });
        throw new ApiError(403, "forbidden", "You do not have permission to do this.", {
          required: anyOf,
        });
      }
      await next();
    }),
  );
