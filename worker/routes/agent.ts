/**
 * Agent sockets: the console socket (Dispatcher: presence, queue, offers) and one socket
 * per open chat (ChatSession). Both need a valid session and an allowed Origin; the chat
 * socket also needs the chat to be the agent's (participate) or a supervising role (monitor).
 */
import { Hono } from "hono";
import { getChatSession } from "../../durable-objects/chat-session.ts";
import { type DispatcherAgent, getDispatcher } from "../../durable-objects/dispatcher.ts";
import { internalUpgrade, type ParticipantIdentity } from "../../durable-objects/participant.ts";
import { findChat } from "../../src/store/chats.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { assertUpgrade } from "../upgrade.ts";

export const agentRoutes = new Hono<AppEnv>();

agentRoutes.use(requireAgent());

agentRoutes.get("/ws", async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.consoleOrigins);
  const agent = c.var.agent;
  const identity: DispatcherAgent = {
    id: agent.id,
    name: agent.name,
    departments: agent.departments,
    capacity: agent.maxChats ?? c.var.config.agentMaxChats,
    sessionId: c.var.session.id,
  };
  return getDispatcher(c.env).fetch(internalUpgrade(c.req.url, identity));
});

agentRoutes.get("/chats/:id/ws", async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.consoleOrigins);
  const mode = c.req.query("mode") ?? "participate";
  if (mode !== "participate" && mode !== "monitor") {
    throw new ApiError(400, "invalid_request", 'mode is "participate" or "monitor".');
  }
  const agent = c.var.agent;
  const chat = await findChat(c.env.DB, c.req.param("id"));
  if (!chat) throw new ApiError(404, "chat_not_found", "No such chat.");
  const allowed = mode === "participate" ? chat.agentId === agent.id : agent.role !== "agent";
  if (!allowed) throw new ApiError(403, "forbidden", "This chat is not yours to open.");
  const identity: ParticipantIdentity = {
    role: "agent",
    id: agent.id,
    name: agent.name,
    mode,
    sessionId: c.var.session.id,
  };
  return getChatSession(c.env, chat.id).fetch(internalUpgrade(c.req.url, identity));
});
