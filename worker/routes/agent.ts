/**
 * Agent sockets: the console socket (Dispatcher: presence, queue, offers) and one socket
 * per open chat (ChatSession); and the list of colleagues the console's pickers offer. Both need a valid session and an allowed Origin; the chat
 * socket also needs the agent to be in the chat (participate: owner, joined or invited), or
 * the mode's permission and the chat's department among the agent's (join, monitor).
 * Actions on the sockets are checked inside the objects (src/security/action-permissions.ts).
 */
import { Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { getChatSession } from "../../durable-objects/chat-session.ts";
import { type DispatcherAgent, getDispatcher } from "../../durable-objects/dispatcher.ts";
import { internalUpgrade, type ParticipantIdentity } from "../../durable-objects/participant.ts";
import type { ColleagueListResponse } from "../../src/protocol/colleagues.ts";
import { CHAT_SOCKET_MODES } from "../../src/security/action-permissions.ts";
import { addChatAgent, chatAgentRole } from "../../src/store/chat-agents.ts";
import { findChat } from "../../src/store/chats.ts";
import { listColleagues } from "../../src/store/colleagues.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { anyAgent } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { assertUpgrade } from "../upgrade.ts";

export const agentRoutes = new Hono<AppEnv>();

agentRoutes.use(requireAgent());

/** The agents of the caller's departments, for the console's transfer, invite and chat pickers. */
agentRoutes.get("/colleagues", anyAgent(), async (c) => {
  const me = c.var.agent;
  const body: ColleagueListResponse = {
    colleagues: await listColleagues(c.env.DB, me.id, me.departments),
  };
  return c.json(body);
});

agentRoutes.get("/ws", anyAgent(), async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.consoleOrigins);
  const agent = c.var.agent;
  const identity: DispatcherAgent = {
    id: agent.id,
    name: agent.name,
    departments: agent.departments,
    capacity: agent.maxChats ?? c.var.config.agentMaxChats,
    sessionId: c.var.session.id,
    permissions: agent.permissions,
    ...clientInfo(c),
  };
  return getDispatcher(c.env).fetch(internalUpgrade(c.req.url, identity));
});

// Declared for any agent: what the socket needs depends on `mode` (CHAT_SOCKET_MODES), and
// each mode is checked below — the permission matrix test drives both.
agentRoutes.get("/chats/:id/ws", anyAgent(), async (c) => {
  assertUpgrade(c);
  assertOrigin(c, c.var.config.consoleOrigins);
  const mode = c.req.query("mode") ?? "participate";
  if (mode !== "participate" && mode !== "join" && mode !== "monitor") {
    throw new ApiError(400, "invalid_request", 'mode is "participate", "join" or "monitor".');
  }
  const agent = c.var.agent;
  const chat = await findChat(c.env.DB, c.req.param("id"));
  if (!chat) throw new ApiError(404, "chat_not_found", "No such chat.");
  const needed = CHAT_SOCKET_MODES[mode];
  const allowed =
    needed === null
      ? (await chatAgentRole(c.env.DB, chat.id, agent.id)) !== null
      : agent.permissions.includes(needed) && agent.departments.includes(chat.departmentId);
  const audit = {
    actorType: "agent" as const,
    actorId: agent.id,
    target: chat.id,
    ...clientInfo(c),
  };
  if (!allowed) {
    await appendAudit(c.env, {
      ...audit,
      action: `chat.${mode}`,
      outcome: "denied",
      department: chat.departmentId,
      details: needed ? { required: [needed] } : { reason: "not_assigned" },
      at: Date.now(),
    });
    throw new ApiError(403, "forbidden", "This chat is not yours to open.");
  }
  if (mode === "join") {
    if (chat.status !== "active") {
      throw new ApiError(409, "chat_not_active", "Only a chat under way can be joined.");
    }
    if (chat.agentId !== agent.id) {
      const now = Date.now();
      await addChatAgent(c.env.DB, {
        chatId: chat.id,
        agentId: agent.id,
        role: "joined",
        addedBy: agent.id,
        now,
      });
    }
  }
  if (mode !== "participate") {
    await appendAudit(c.env, {
      ...audit,
      action: `chat.${mode}`,
      outcome: "success",
      department: chat.departmentId,
      at: Date.now(),
    });
  }
  const identity: ParticipantIdentity = {
    role: "agent",
    id: agent.id,
    name: agent.name,
    // A joined agent takes part like the owner: visible to the visitor, may write.
    mode: mode === "join" ? "participate" : mode,
    sessionId: c.var.session.id,
    ...clientInfo(c),
  };
  return getChatSession(c.env, chat.id).fetch(internalUpgrade(c.req.url, identity));
});
