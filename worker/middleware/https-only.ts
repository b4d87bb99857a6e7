/**
 * TLS everywhere but on loopback (DESIGN: local dev may use http:/ws: on localhost,
 * 127.0.0.1 and [::1]; any other host is HTTPS/WSS only). A plain-HTTP GET or HEAD is
 * redirected to HTTPS; anything else — a form post, an API call, a WebSocket upgrade — is
 * refused, since redirecting it would send its body or credentials in clear first.
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Redirects (GET/HEAD) or refuses (403 `https_required`) plain HTTP off loopback. */
export const httpsOnly = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    if (url.protocol === "https:" || LOOPBACK.has(url.hostname)) return next();
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    if ((c.req.method === "GET" || c.req.method === "HEAD") && !upgrade) {
      url.protocol = "https:";
      return c.redirect(url.toString(), 301);
    }
    throw new ApiError(403, "https_required", "Use HTTPS (or WSS) for this service.");
  });
