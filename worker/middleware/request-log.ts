/**
 * One structured log line per request (issue 9, monitoring): who asked for what and how it
 * ended, keyed by a request id that is also sent back as `X-Request-Id`, so a user's report,
 * the log line and any error logged meanwhile can be matched.
 *
 * The line holds the method, the path without its query string (a query can carry tokens),
 * the status, the time taken and the client IP: never cookies, `Authorization`, other
 * headers or bodies.
 */
import { createMiddleware } from "hono/factory";
import { log } from "../../src/observability/log.ts";
import { randomId } from "../../src/security/tokens.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";

/**
 * Cloudflare sets `cf-ray` (a hex id and the data centre, `8f1c2d3e4a5b6c7d-FRA`) and
 * replaces any value a client sent, so it ties our line to Cloudflare's own logs. Only a
 * short value of safe characters is taken (local dev passes client headers through).
 */
const CF_RAY = /^[\w-]{8,64}$/;

/** Sets `c.var.requestId` and `X-Request-Id`, and logs the request once it has an answer. */
export const requestLog = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const ray = c.req.header("cf-ray");
    const requestId = ray && CF_RAY.test(ray) ? ray : randomId();
    c.set("requestId", requestId);
    const started = Date.now();
    await next();
    const status = c.res.status;
    // A 101 answer carries the socket; it cannot be rebuilt to take another header.
    if (status !== 101) c.header("X-Request-Id", requestId);
    const { ip } = clientInfo(c);
    // Workers advance the clock only across I/O, so `ms` is the time spent waiting on
    // storage, objects and fetches, which is what varies.
    const fields = {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Date.now() - started,
      ...(ip ? { ip } : {}),
    };
    if (status >= 500) log.error("request", fields);
    else log.info("request", fields);
  });
