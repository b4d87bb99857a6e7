/** Security headers on every HTTP response (not on WebSocket upgrades, which have no body). */
import { createMiddleware } from "hono/factory";
import { consoleCsp } from "../../src/security/console-csp.ts";
import type { AppEnv } from "../app-env.ts";

const CONSOLE_CSP = consoleCsp();

/**
 * Adds HSTS, nosniff, referrer policy, for the console a strict CSP, and caching suited to
 * the widget's stable, SRI-pinned URL.
 */
export const securityHeaders = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    if (c.res.status === 101) return;
    // Responses from a Durable Object or the assets binding have immutable headers.
    c.res = new Response(c.res.body, c.res);
    const headers = c.res.headers;
    headers.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("Referrer-Policy", "strict-origin-when-cross-origin");
    if (c.req.path.startsWith("/console") || c.req.path.startsWith("/api/")) {
      headers.set("Content-Security-Policy", CONSOLE_CSP);
      headers.set("X-Frame-Options", "DENY");
    }
    // API answers are not cached, unless the route chose otherwise (the widget configuration).
    if (c.req.path.startsWith("/api/") && !headers.has("Cache-Control")) {
      headers.set("Cache-Control", "no-store");
    }
    if (c.req.path === "/widget.js" || c.req.path === "/widget.js.sri") {
      // A stable URL embedded with an SRI hash: caches revalidate often (an update reaches
      // sites within minutes; the integrity hash changes with it), and customers' pages
      // load it with crossorigin="anonymous", which needs CORS.
      headers.set("Cache-Control", "public, max-age=300, must-revalidate");
      headers.set("Access-Control-Allow-Origin", "*");
    }
  });
