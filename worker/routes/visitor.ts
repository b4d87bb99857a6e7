/**
 * Visitor endpoints: start a chat (pre-chat form), leave an offline message, and open the
 * chat socket. The socket's token travels in `Sec-WebSocket-Protocol`, never in the URL.
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
import { clientInfo } from "../client-info.ts";
import { publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { readJson } from "../read-json.ts";
import { assertUpgrade, offeredProtocols } from "../upgrade.ts";

export const visitorRoutes = new Hono<AppEnv>();

const DEFAULT_DEPARTMENT = "general";

async function resolveDepartment(db: D1Database, requested: string | undefined): Promise<string> {
  const department = requested ?? DEFAULT_DEPARTMENT;
  if (!(await departmentExists(db, department))) {
    throw new ApiError(400, "unknown_department", "There is no such department.");
  }
  return department;
}

visitorRoutes.post("/chats", publicRoute(), async (c) => {
  assertOrigin(c, c.var.config.widgetOrigins);
  const form = await readJson(c, startChatRequestFor(c.var.config.cardMasking));
  const department = await resolveDepartment(c.env.DB, form.department);
  const now = Date.now();
  const chatId = crypto.randomUUID();
  const visitorId = crypto.randomUUID();
  await createChat(c.env.DB, {
    id: chatId,
    visitorId,
    visitorName: form.name ?? null,
    visitorEmail: form.email ?? null,
    departmentId: department,
    pageUrl: form.pageUrl ?? null,
    variables: form.variables ?? null,
    now,
  });
  // The ChatSession must know its chat before the Dispatcher can offer it to anyone.
  const session = getChatSession(c.env, chatId);
  await session.init({
    chatId,
    visitorId,
    visitorName: form.name ?? null,
    department,
    queuePosition: null,
  });
  const placed = await getDispatcher(c.env).enqueue({
    chatId,
    department,
    visitor: {
      name: form.name ?? null,
      email: form.email ?? null,
      department,
      pageUrl: form.pageUrl ?? null,
    },
    createdAt: now,
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
});

visitorRoutes.post("/offline-messages", publicRoute(), async (c) => {
  assertOrigin(c, c.var.config.widgetOrigins);
  const form = await readJson(c, offlineMessageRequestFor(c.var.config.cardMasking));
  const department = await resolveDepartment(c.env.DB, form.department);
  const id = crypto.randomUUID();
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
});

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
  const identity: ParticipantIdentity = {
    role: "visitor",
    id: claims.sub,
    name: null,
    mode: "participate",
    ...clientInfo(c),
  };
  return getChatSession(c.env, chatId).fetch(internalUpgrade(c.req.url, identity));
});
