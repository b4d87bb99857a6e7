/**
 * Live visitors for agents (`visitors.invite`): who is on the site now, and proactive
 * invitations. The console polls the list (every few seconds); an invitation goes to the
 * visitor's presence sockets through the Visitors object and is audited (`visitor.invite`).
 * A visitor who accepts starts a chat that is offered to the inviting agent first.
 */
import { Hono } from "hono";
import { getVisitors } from "../../durable-objects/visitors.ts";
import { visitorId as visitorIdSchema } from "../../src/protocol/http.ts";
import {
  createInvitationRequestFor,
  DEFAULT_INVITATION_MESSAGE,
  type InvitationResponse,
  type LiveVisitorsResponse,
  MAX_LISTED_VISITORS,
} from "../../src/protocol/visitors.ts";
import { visitorsChatting } from "../../src/store/visitor-profiles.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const visitorsRoutes = new Hono<AppEnv>();

visitorsRoutes.use(requireAgent({ tokens: true }));
const invite = requirePermission("visitors.invite");

visitorsRoutes.get("/", invite, async (c) => {
  const live = await getVisitors(c.env).list(MAX_LISTED_VISITORS);
  const chatting = await visitorsChatting(
    c.env.DB,
    live.visitors.map((visitor) => visitor.visitorId),
  );
  const body: LiveVisitorsResponse = {
    visitors: live.visitors.map((visitor) => ({
      visitorId: visitor.visitorId,
      pageUrl: visitor.pageUrl,
      pageTitle: visitor.pageTitle,
      referrer: visitor.referrer,
      country: visitor.country,
      onSiteSince: visitor.connectedAt,
      lastPageAt: visitor.lastPageAt,
      visits: visitor.visits,
      returning: visitor.visits > 1,
      chatting: chatting.has(visitor.visitorId),
    })),
    total: live.total,
  };
  return c.json(body);
});

visitorsRoutes.post("/:visitorId/invitations", invite, consoleOrigin(), async (c) => {
  const input = await readJson(c, createInvitationRequestFor(c.var.config.cardMasking));
  const visitorId = visitorIdSchema.safeParse(c.req.param("visitorId"));
  const agent = c.var.agent;
  const result = visitorId.success
    ? await getVisitors(c.env).invite({
        visitorId: visitorId.data,
        agentId: agent.id,
        agentName: agent.name,
        message: input.message ?? DEFAULT_INVITATION_MESSAGE,
      })
    : ({ ok: false, error: "visitor_not_found" } as const);
  if (!result.ok) {
    if (result.error === "invitation_pending") {
      throw new ApiError(
        409,
        "invitation_pending",
        "This visitor already has an invitation waiting for an answer.",
      );
    }
    throw new ApiError(404, "visitor_not_found", "This visitor is not on the site.");
  }
  await auditAction(c, {
    action: "visitor.invite",
    target: visitorId.data ?? null,
    outcome: "success",
    details: { invitationId: result.invitationId, message: input.message ?? null },
  });
  const body: InvitationResponse = {
    invitationId: result.invitationId,
    expiresAt: result.expiresAt,
  };
  return c.json(body, 201);
});
