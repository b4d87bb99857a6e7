/**
 * The first gate of every agent-facing request (DESIGN invariant 3: IP allowlist → session
 * → permission): the client IP, from CF-Connecting-IP only, must be in the allowlist of the
 * client kind — personal API tokens (`Authorization: Bearer`) use MOBILE_IP_ALLOWLIST,
 * everything else (console, login, sockets) AGENT_IP_ALLOWLIST — and in the narrower list an
 * administrator may have set. A denial is 403 `ip_denied` and an audit row; an empty or
 * missing list denies everyone.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { type IpRule, matchesIpRules, parseIpRules } from "../../src/security/ip-rules.ts";
import { type AllowlistKind, readNarrowedAllowlists } from "../../src/store/security-settings.ts";
import { countSecurityEvent } from "../alerts.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";

/** `*` in a list allows everyone explicitly, even a request without a usable client IP. */
function permits(rules: readonly IpRule[], ip: string | null): boolean {
  return rules.some((rule) => rule.any) || (ip !== null && matchesIpRules(ip, rules));
}

/** Which allowlist applies to the request. */
export function allowlistKind(c: Context<AppEnv>): AllowlistKind {
  return /^Bearer\s/i.test(c.req.header("authorization") ?? "") ? "mobile" : "agent";
}

/** True when the IP passes the configured and the narrowed list of `kind`. */
export async function ipPermitted(
  c: Context<AppEnv>,
  kind: AllowlistKind,
  ip: string | null,
): Promise<boolean> {
  if (!permits(c.var.config.ipAllowlists[kind].parsed, ip)) return false;
  const narrowed = (await readNarrowedAllowlists(c.env.DB))[kind];
  if (narrowed === null) return true;
  try {
    return permits(parseIpRules(narrowed), ip);
  } catch {
    return false; // a stored rule that no longer parses narrows to nothing
  }
}

/** Answers 403 `ip_denied` (audited) unless the client IP is allowed. */
export const ipAllowlist = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    // CORS preflights carry no credentials and change nothing; the real request is checked.
    if (c.req.method === "OPTIONS") return next();
    const kind = allowlistKind(c);
    const who = clientInfo(c);
    if (!(await ipPermitted(c, kind, who.ip))) {
      await appendAudit(c.env, {
        actorType: "anonymous",
        actorId: null,
        action: "access.ip_denied",
        target: `${c.req.method} ${new URL(c.req.url).pathname}`,
        outcome: "denied",
        ...who,
        details: { allowlist: kind },
        at: Date.now(),
      });
      countSecurityEvent(c, "ip_denials");
      throw new ApiError(403, "ip_denied", "Access from this network is not allowed.");
    }
    await next();
  });
