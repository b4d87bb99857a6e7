/** Who is calling: the client IP (from `CF-Connecting-IP` only) and user agent. */
import type { Context } from "hono";

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Reads the caller's IP and user agent (truncated, since both end up in stored rows). */
export function clientInfo(c: Context): ClientInfo {
  return {
    ip: c.req.header("cf-connecting-ip")?.slice(0, 64) ?? null,
    userAgent: c.req.header("user-agent")?.slice(0, 256) ?? null,
  };
}
