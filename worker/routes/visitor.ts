/**
 * Visitor endpoints: start a chat (pre-chat form), leave an offline message, and open the
 * chat socket. The socket's token travels in `Sec-WebSocket-Protocol`, never in the URL.
 * Chat start passes, in order: Origin, input, identity, CAPTCHA, ban list (visitor-guards.ts),
 * then uses up an accepted agent invitation (invitation-gate.ts).
 * A banned visitor is answered like anyone else who finds nobody available.
 */
import { Hono } from "hono";
import { getChatSession } from "../../durable-objects/chat-session.ts";
import { getDispatcher } from "../../durable-objects/dispatcher.ts";
import { internalUpgrade, type ParticipantIdentity } from "../../durable-objects/participant.ts";
import {
  offlineMessageRequestFor,
  type StartChatResponse,
  startChatRequestFor,
} from "../../src/protocol/http.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../../src/protocol/limits.ts";
import { signVisitorToken, verifyVisitorToken } from "../../src/security/tokens.ts";
import { departmentExists } from "../../src/store/agents.ts";
import { createChat, markChatMissed } from "../../src/store/chats.ts";
import { createOfflineMessage } from "../../src/store/offline-messages.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { outsideHours } from "../business-hours-gate.ts";
import { clientInfo } from "../client-info.ts";
import { acceptedInvitation, presenceVisitorId } from "../invitation-gate.ts";
import { publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { clientIpKey, MINUTE_MS, rateLimit } from "../middleware/rate-limit.ts";
import { readJson } from "../read-json.ts";
import { assertUpgrade, offeredProtocols } from "../upgrade.ts";
import { checkedVariables, visitorFacts } from "../visitor-facts.ts";
import { assertChatCaptcha, enforceBans, verifiedVisitor } from "../visitor-guards.ts";

export const visitorRoutes = new Hono<AppEnv>();

const DEFAULT_DEPARTMENT = "general";

async function resolveDepartment(db: D1Database, requested: string | undefined): Promise<string> {
  const department = requested ?? DEFAULT_DEPARTMENT;
  if (!(await departmentExists(db, department))) {
    throw new ApiError(400, "unknown_department", "There is no such department.");
  }
  return department;
}

visitorRoutes.post(
  "/chats",
  publicRoute(),
  // First, so a flood is turned away before any D1 or CAPTCHA work.
  rateLimit(
    "chat-start",
    clientIpKey,
    (config) => config.rateLimits.chatStartPerIpPerMinute,
    MINUTE_MS,
  ),
  async (c) => {
    assertOrigin(c, c.var.config.widgetOrigins);
    const form = await readJson(c, startChatRequestFor(c.var.config.cardMasking));
    const variables = await checkedVariables(c.env.DB, form.variables);
    const verified = await verifiedVisitor(c, form.identity);
    const department = await resolveDepartment(c.env.DB, form.department);
    // Before the CAPTCHA and the ban list: nobody solves a puzzle to learn that it is closed,
    // and a banned visitor gets the same answer as everyone while it is.
    const closed = await outsideHours(c.env.DB, department, Date.now());
    if (closed) return c.json(closed, 200);
    await assertChatCaptcha(c, form.captcha);
    const presence = await presenceVisitorId(c, form.presenceToken);
    const knownIds = [verified?.visitorId, form.visitorId, presence ?? undefined].filter(
      (id) => id !== undefined,
    );
    if (await enforceBans(c, "chat_start", knownIds)) {
      return c.json({ offline: true, reason: "no_agents" } satisfies StartChatResponse, 200);
    }
    // After the ban list: a banned visitor's invitation is not used up.
    const inviting = await acceptedInvitation(c, form.invitationId, presence);
    // A verified visitor is who the site says: typed name and email are not vouched for.
    const name = verified ? verified.identity.name : (form.name ?? null);
    const email = verified ? verified.identity.email : (form.email ?? null);
    const now = Date.now();
    const chatId = crypto.randomUUID();
    const visitorId = verified?.visitorId ?? presence ?? crypto.randomUUID();
    const facts = await visitorFacts(c, { visitorId, pageUrl: form.pageUrl ?? null, variables });
    await createChat(c.env.DB, {
      id: chatId,
      visitorId,
      visitorName: name,
      visitorEmail: email,
      departmentId: department,
      pageUrl: form.pageUrl ?? null,
      variables: form.variables ?? null,
      identitySub: verified?.identity.sub ?? null,
      now,
    });
    // The ChatSession must know its chat before the Dispatcher can offer it to anyone.
    const session = getChatSession(c.env, chatId);
    await session.init({
      chatId,
      visitorId,
      visitorName: name,
      department,
      queuePosition: null,
    });
    const placed = await getDispatcher(c.env).enqueue({
      chatId,
      department,
      visitor: {
        name,
        email,
        department,
        pageUrl: form.pageUrl ?? null,
        verified: verified !== null,
        ...facts,
      },
      createdAt: now,
      // Offered to the inviting agent first; routed as usual if they refuse or let it lapse.
      preferredAgent: inviting?.agentId ?? null,
    });
    if ("offline" in placed) {
      await Promise.all([markChatMissed(c.env.DB, chatId, now), session.discard()]);
      return c.json({ offline: true, reason: "no_agents" } satisfies StartChatResponse, 200);
    }
    await session.notifyQueuePosition(placed.position);
    const token = await signVisitorToken(
      { sub: visitorId, chat: chatId },
      c.var.config.sessionKey,
      c.var.config.visitorTokenSeconds,
    );
    const body: StartChatResponse = { chatId, token, visitorId, queuePosition: placed.position };
    return c.json(body, 201);
  },
);

visitorRoutes.post(
  "/offline-messages",
  publicRoute(),
  // Offline messages are stored: the same per-IP budget as starting a chat.
  rateLimit(
    "offline-message",
    clientIpKey,
    (config) => config.rateLimits.chatStartPerIpPerMinute,
    MINUTE_MS,
  ),
  async (c) => {
    assertOrigin(c, c.var.config.widgetOrigins);
    const form = await readJson(c, offlineMessageRequestFor(c.var.config.cardMasking));
    const department = await resolveDepartment(c.env.DB, form.department);
    const id = crypto.randomUUID();
    // A banned visitor is shown this form instead of a chat: take the message, keep nothing.
    if (await enforceBans(c, "offline_message", [])) return c.json({ id }, 201);
    await createOfflineMessage(c.env.DB, {
      id,
      name: form.name ?? null,
      email: form.email,
      departmentId: department,
      message: form.message,
      pageUrl: form.pageUrl ?? null,
      ip: clientInfo(c).ip,
      now: Date.now(),
    });
    return c.json({ id }, 201);
  },
);

visitorRoutes.get("/chats/:id/ws", publicRoute(), async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.widgetOrigins);
  const chatId = c.req.param("id");
  const bearer = offeredProtocols(c).find((protocol) => protocol.startsWith(BEARER_PREFIX));
  if (!bearer) {
    throw new ApiError(
      401,
      "invalid_token",
      `Offer the subprotocols "${SUBPROTOCOL}" and "bearer.<token>".`,
    );
  }
  const claims = await verifyVisitorToken(
    bearer.slice(BEARER_PREFIX.length),
    c.var.config.verificationKeys,
  );
  if (!claims || claims.chat !== chatId) {
    throw new ApiError(
      401,
      "invalid_token",
      "The chat token is invalid, expired or for another chat.",
    );
  }
  if (await enforceBans(c, "socket", [claims.sub], chatId)) {
    throw new ApiError(403, "unavailable", "This chat is not available.");
  }
  const identity: ParticipantIdentity = {
    role: "visitor",
    id: claims.sub,
    name: null,
    mode: "participate",
    ...clientInfo(c),
  };
  return getChatSession(c.env, chatId).fetch(internalUpgrade(c.req.url, identity));
});
