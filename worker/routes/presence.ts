/**
 * The widget's presence socket: `GET /api/visitor/presence/ws`. It reports the pages a
 * visitor views to the Visitors object and brings agents' invitations back. It passes, in
 * order: upgrade and subprotocol, Origin (the Worker's own or WIDGET_ORIGINS), the presence
 * token, the ban list. The visitor id comes from the presence token the widget kept from an
 * earlier connection (`bearer.<token>` in `Sec-WebSocket-Protocol`, never in the URL); a
 * missing, expired or forged token just makes a new visitor.
 */
import { Hono } from "hono";
import { internalUpgrade } from "../../durable-objects/participant.ts";
import { getVisitors, type PresenceIdentity } from "../../durable-objects/visitors.ts";
import { BEARER_PREFIX } from "../../src/protocol/limits.ts";
import { PRESENCE_TOKEN_SECONDS, signPresenceToken } from "../../src/security/tokens.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { connectionCountry, presenceVisitorId } from "../invitation-gate.ts";
import { publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { assertUpgrade, offeredProtocols } from "../upgrade.ts";
import { enforceBans } from "../visitor-guards.ts";

export const presenceRoutes = new Hono<AppEnv>();

presenceRoutes.get("/ws", publicRoute(), async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.widgetOrigins);
  const bearer = offeredProtocols(c).find((protocol) => protocol.startsWith(BEARER_PREFIX));
  const known = await presenceVisitorId(c, bearer?.slice(BEARER_PREFIX.length));
  // Banned visitors get the chat socket's neutral answer; the audit row says why.
  if (await enforceBans(c, "socket", known ? [known] : [], "presence")) {
    throw new ApiError(403, "unavailable", "This service is not available.");
  }
  const visitorId = known ?? crypto.randomUUID();
  const identity: PresenceIdentity = {
    visitorId,
    token: await signPresenceToken(visitorId, c.var.config.sessionKey, PRESENCE_TOKEN_SECONDS),
    country: connectionCountry(c),
    ...clientInfo(c),
  };
  return getVisitors(c.env).fetch(internalUpgrade(c.req.url, identity));
});
