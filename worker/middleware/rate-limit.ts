/**
 * Rate limits of the HTTP API (OWASP ASVS 5.0 V2.4 anti-automation): chat creation and
 * login per client IP, login per account, API calls per agent session. Each limited key
 * has its own RateLimiter Durable Object (one RPC per checked request); over the limit the
 * caller gets `429 rate_limited` with a `Retry-After` header (seconds) and the same number
 * in `error.details.retryAfterSeconds`, for clients that cannot read the header (CORS).
 *
 * Fails closed: when the limiter cannot answer (e.g. an object overloaded by a flood of
 * its own key), the request is refused as rate limited rather than let through.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import ipaddr from "ipaddr.js";
import { getRateLimiter } from "../../durable-objects/rate-limiter.ts";
import type { Config } from "../../src/config.ts";
import type { RateDecision } from "../../src/security/token-bucket.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import type { Env } from "../env.ts";

export const MINUTE_MS = 60_000;

/** What the limiter answers when it cannot count: refuse, and suggest a short wait. */
const UNAVAILABLE: RateDecision = { allowed: false, retryAfterSeconds: 1, remaining: 0 };

/**
 * Counts one request against `limit` per `windowMs` for `key` in `bucket`. Never throws:
 * a limiter failure is logged and answered as a refusal.
 */
export async function takeRateLimit(
  env: Pick<Env, "RATE_LIMITER">,
  bucket: string,
  key: string,
  limit: number,
  windowMs: number,
): Promise<RateDecision> {
  try {
    return await getRateLimiter(env, bucket, key).take(limit, windowMs);
  } catch (error) {
    console.error(`[parley] rate limiter ${bucket} unavailable; refusing`, error);
    return UNAVAILABLE;
  }
}

/** The 429 error of a refused request. */
export function rateLimitedError(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    "rate_limited",
    `Too many requests; try again in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}

/**
 * Counts the request; over the limit, sets `Retry-After` and throws 429 `rate_limited`
 * (`app.onError` renders it; `c.json` keeps headers set with `c.header`). A null key
 * (e.g. no client IP, which only happens outside Cloudflare) is not limited.
 * For checks that need the parsed body, such as login per account.
 */
export async function assertRateLimit(
  c: Context<AppEnv>,
  bucket: string,
  key: string | null,
  limit: number,
  windowMs: number,
): Promise<void> {
  if (key === null) return;
  const decision = await takeRateLimit(c.env, bucket, key, limit, windowMs);
  if (decision.allowed) return;
  c.header("Retry-After", String(decision.retryAfterSeconds));
  throw rateLimitedError(decision.retryAfterSeconds);
}

/**
 * Middleware: limits requests per `key(c)` to `limit(config)` per `windowMs`, answering
 * 429 `rate_limited` with `Retry-After` over the limit. A null key skips the check.
 * Needs `c.var.config` (the `loadConfig` middleware runs first).
 */
export const rateLimit = (
  bucket: string,
  key: (c: Context<AppEnv>) => string | null,
  limit: (config: Config) => number,
  windowMs: number,
): MiddlewareHandler<AppEnv> =>
  createMiddleware<AppEnv>(async (c, next) => {
    await assertRateLimit(c, bucket, key(c), limit(c.var.config), windowMs);
    await next();
  });

/**
 * The client IP as a rate-limit key (from `CF-Connecting-IP` only): an IPv4 address, or the
 * /64 prefix of an IPv6 address — one subscriber usually holds a whole /64, so limiting
 * single IPv6 addresses would let a client rotate through billions. IPv4-mapped IPv6 counts
 * as its IPv4 address. Null when there is no header.
 */
export function clientIpKey(c: Context): string | null {
  const raw = c.req.header("cf-connecting-ip")?.trim().slice(0, 64);
  if (!raw) return null;
  return ipKey(raw);
}

/** The rate-limit key of an IP address text (see `clientIpKey`). */
export function ipKey(ip: string): string {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip);
  } catch {
    // Not an address (never from Cloudflare's edge): the text itself is the key.
    return ip.toLowerCase();
  }
  if (address.kind() === "ipv4") return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(":")}::/64`;
}
