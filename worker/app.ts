/**
 * Builds the Hono app: middleware order, route mounting, error handling. Static files (demo
 * page, widget, console) are served through the Worker so the same headers apply to them.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { log } from "../src/observability/log.ts";
import { MAX_BODY_BYTES } from "../src/protocol/limits.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { loadConfig } from "./middleware/config.ts";
import { httpsOnly } from "./middleware/https-only.ts";
import { ipAllowlist } from "./middleware/ip-allowlist.ts";
import { requestLog } from "./middleware/request-log.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { agentRoutes } from "./routes/agent.ts";
import { agentChatsRoutes } from "./routes/agent-chats.ts";
import { agentsRoutes } from "./routes/agents.ts";
import { auditRoutes } from "./routes/audit.ts";
import { authRoutes } from "./routes/auth.ts";
import { bansRoutes } from "./routes/bans.ts";
import { campaignsRoutes } from "./routes/campaigns.ts";
import { cannedMessagesRoutes } from "./routes/canned-messages.ts";
import { departmentsRoutes } from "./routes/departments.ts";
import { groupsRoutes } from "./routes/groups.ts";
import { healthRoutes } from "./routes/health.ts";
import { mfaRoutes } from "./routes/mfa.ts";
import { offlineMessagesRoutes } from "./routes/offline-messages.ts";
import { passwordRoutes } from "./routes/password.ts";
import { presenceRoutes } from "./routes/presence.ts";
import { reauthRoutes } from "./routes/reauth.ts";
import { reportsRoutes } from "./routes/reports.ts";
import { routingRoutes } from "./routes/routing.ts";
import { securityRoutes } from "./routes/security-settings.ts";
import { segmentsRoutes } from "./routes/segments.ts";
import { sessionRoutes } from "./routes/sessions.ts";
import { surveyRoutes } from "./routes/survey.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { transcriptsRoutes } from "./routes/transcripts.ts";
import { variablesRoutes } from "./routes/variables.ts";
import { visitorRoutes } from "./routes/visitor.ts";
import { visitorsRoutes } from "./routes/visitors.ts";
import { widgetAvailabilityRoutes } from "./routes/widget-availability.ts";
import { widgetConfigRoutes } from "./routes/widget-config.ts";

/** The console's API prefixes: credentialed CORS for CONSOLE_ORIGINS. */
const CONSOLE_API = [
  "/api/auth",
  "/api/agent",
  "/api/agents",
  "/api/agent-chats",
  "/api/departments",
  "/api/groups",
  "/api/audit",
  "/api/transcripts",
  "/api/offline-messages",
  "/api/bans",
  "/api/canned-messages",
  "/api/security",
  "/api/routing",
  "/api/visitors",
  "/api/reports",
  "/api/campaigns",
  "/api/variables",
  "/api/segments",
];

/** Creates the application. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // First, so every answer (errors and refusals of the middleware below included) is logged.
  app.use(requestLog());
  app.use(securityHeaders());
  app.use(httpsOnly());
  app.use(loadConfig());
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          413,
          "payload_too_large",
          `Bodies are limited to ${MAX_BODY_BYTES} bytes.`,
        );
      },
    }),
  );

  // The widget runs on customers' sites: let listed origins call the visitor API and read
  // the widget configuration (no credentials; the chat token travels in the socket handshake
  // or, for the survey, in `Authorization`, never in a cookie).
  const widgetCors = cors({
    origin: (origin, c: Context<AppEnv>) =>
      c.var.config.widgetOrigins.includes(origin) ? origin : null,
    allowMethods: ["GET", "POST"],
    allowHeaders: ["content-type", "authorization"],
    maxAge: 600,
  });
  app.use("/api/visitor/*", widgetCors);
  app.use("/api/widget/*", widgetCors);

  // A console hosted on another origin of the same site (e.g. Pages on a custom domain)
  // sends the session cookie: listed CONSOLE_ORIGINS get a grant with credentials.
  const consoleCors = cors({
    origin: (origin, c: Context<AppEnv>) =>
      c.var.config.consoleOrigins.includes(origin) ? origin : null,
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["content-type"],
    credentials: true,
    maxAge: 600,
  });
  for (const path of CONSOLE_API) app.use(`${path}/*`, consoleCors);
  // The first gate of the agent side (invariant 3): before any session or permission.
  for (const path of CONSOLE_API) app.use(`${path}/*`, ipAllowlist());

  app.route("/healthz", healthRoutes);
  app.route("/api/auth/password", passwordRoutes);
  app.route("/api/auth/sessions", sessionRoutes);
  app.route("/api/auth/mfa", mfaRoutes);
  app.route("/api/auth/reauth", reauthRoutes);
  app.route("/api/auth/tokens", tokenRoutes);
  app.route("/api/auth", authRoutes);
  app.route("/api/visitor/chats", surveyRoutes);
  app.route("/api/visitor/presence", presenceRoutes);
  app.route("/api/visitor", visitorRoutes);
  app.route("/api/widget", widgetConfigRoutes);
  app.route("/api/widget", widgetAvailabilityRoutes);
  app.route("/api/agent", agentRoutes);
  app.route("/api/agents", agentsRoutes);
  app.route("/api/agent-chats", agentChatsRoutes);
  app.route("/api/departments", departmentsRoutes);
  app.route("/api/groups", groupsRoutes);
  app.route("/api/audit", auditRoutes);
  app.route("/api/transcripts", transcriptsRoutes);
  app.route("/api/offline-messages", offlineMessagesRoutes);
  app.route("/api/bans", bansRoutes);
  app.route("/api/canned-messages", cannedMessagesRoutes);
  app.route("/api/security", securityRoutes);
  app.route("/api/routing", routingRoutes);
  app.route("/api/visitors", visitorsRoutes);
  app.route("/api/reports", reportsRoutes);
  app.route("/api/campaigns", campaignsRoutes);
  app.route("/api/variables", variablesRoutes);
  app.route("/api/segments", segmentsRoutes);

  app.all("/api/*", () => {
    throw new ApiError(404, "not_found", "No such endpoint.");
  });
  app.get("/console", (c) => c.redirect("/console/", 301));
  app.get("*", (c) => c.env.ASSETS.fetch(c.req.raw));

  app.notFound(() => {
    throw new ApiError(404, "not_found", "Not found.");
  });
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    log.error("unhandled error", { requestId: c.var.requestId, error });
    return c.json(
      { error: { code: "internal", message: "Something went wrong on our side." } },
      500,
    );
  });
  return app;
}
