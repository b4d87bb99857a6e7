/** Worker entry: the Hono app, the cron handler, and the Durable Object classes wrangler binds. */
import { createApp } from "./app.ts";
import type { Env } from "./env.ts";
import { runScheduled } from "./scheduled.ts";

export { AuditLog } from "../durable-objects/audit-log.ts";
export { ChatSession } from "../durable-objects/chat-session.ts";
export { Dispatcher } from "../durable-objects/dispatcher.ts";
export { RateLimiter } from "../durable-objects/rate-limiter.ts";
export { Visitors } from "../durable-objects/visitors.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(env));
  },
} satisfies ExportedHandler<Env>;
