/**
 * Agent-to-agent chat (issue 7, item 5): with `agent_chat.use`, an agent lists their
 * conversations, reads one, and sends direct messages — stored in D1, then pushed live to
 * both agents' consoles. Supervisors search every conversation touching their departments
 * (scoped like transcripts, transcript-scope.ts). A sent message is no audit row (the
 * messages are their own record, and one row each would flood the log); a search is.
 */
import { type Context, Hono } from "hono";
import { getDispatcher } from "../../durable-objects/dispatcher.ts";
import {
  type AgentConversationListResponse,
  type AgentMessage,
  type AgentMessagePage,
  type AgentMessageResponse,
  agentChatParams,
  agentChatSearchQuery,
  agentConversationQuery,
  conversationIdOf,
  sendAgentMessageRequestFor,
} from "../../src/protocol/agent-chats.ts";
import { encodePageCursor } from "../../src/protocol/http.ts";
import {
  insertAgentMessage,
  listConversation,
  listConversations,
  searchAgentMessages,
} from "../../src/store/agent-chats.ts";
import { type AgentRecord, findAgentById } from "../../src/store/agents.ts";
import type { SearchPage } from "../../src/store/search-page.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson, validateRequest } from "../read-json.ts";
import { readQuery } from "../read-query.ts";
import { auditSearch, requireReader, scopedWindow } from "../transcript-scope.ts";

export const agentChatsRoutes = new Hono<AppEnv>();

agentChatsRoutes.use(requireAgent({ tokens: true }));
const chat = requirePermission("agent_chat.use");

function pageBody(page: SearchPage<AgentMessage>): AgentMessagePage {
  return { messages: page.rows, nextCursor: page.next ? encodePageCursor(page.next) : null };
}

/** The agent `:agentId` names: another agent that exists (enabled or not). */
async function otherAgent(c: Context<AppEnv>): Promise<AgentRecord> {
  const { agentId } = validateRequest(agentChatParams, { agentId: c.req.param("agentId") });
  if (agentId === c.var.agent.id) {
    throw new ApiError(409, "own_account", "Direct messages go to another agent.");
  }
  const agent = await findAgentById(c.env.DB, agentId);
  if (!agent) throw new ApiError(404, "agent_not_found", "No such agent.");
  return agent;
}

/**
 * A recipient must be able to read what they are sent: enabled, and holding the
 * permission too (otherwise the message would sit where nobody may open it).
 */
function assertReachable(recipient: AgentRecord): void {
  if (recipient.disabledAt !== null) {
    throw new ApiError(409, "agent_disabled", "This agent's account is disabled.");
  }
  if (!recipient.permissions.includes("agent_chat.use")) {
    throw new ApiError(409, "agent_chat_unavailable", "This agent cannot chat with other agents.");
  }
}

/** Pushes a stored message to every open console of its sender and recipient. */
async function pushLive(c: Context<AppEnv>, message: AgentMessage): Promise<void> {
  try {
    await getDispatcher(c.env).deliverToAgents([message.from.id, message.to.id], {
      type: "agent_message",
      message,
    });
  } catch (error) {
    // The message is stored and listed: a failed live push must not turn it into an error
    // that makes the sender retry (the retry would be an idempotent no-op anyway).
    console.error("[parley] agent message push failed", error);
  }
}

agentChatsRoutes.get("/", chat, async (c) => {
  const body: AgentConversationListResponse = {
    conversations: await listConversations(c.env.DB, c.var.agent.id),
  };
  return c.json(body);
});

agentChatsRoutes.get("/search", requireReader(), async (c) => {
  const query = readQuery(c, agentChatSearchQuery);
  const page = await searchAgentMessages(c.env.DB, {
    ...scopedWindow(c.var.agent, query),
    keywords: query.q,
    agentId: query.agent,
  });
  await auditSearch(c, "agent_chat.search", query, page.rows.length);
  return c.json(pageBody(page));
});

agentChatsRoutes.get("/:agentId/messages", chat, async (c) => {
  const other = await otherAgent(c);
  const query = readQuery(c, agentConversationQuery);
  const conversationId = conversationIdOf(c.var.agent.id, other.id);
  return c.json(pageBody(await listConversation(c.env.DB, conversationId, query)));
});

agentChatsRoutes.post("/:agentId/messages", chat, consoleOrigin(), async (c) => {
  const recipient = await otherAgent(c);
  const input = await readJson(c, sendAgentMessageRequestFor(c.var.config.cardMasking));
  assertReachable(recipient);
  const sender = c.var.agent;
  const { message, created } = await insertAgentMessage(c.env.DB, {
    id: crypto.randomUUID(),
    conversationId: conversationIdOf(sender.id, recipient.id),
    senderId: sender.id,
    recipientId: recipient.id,
    clientId: input.clientId,
    text: input.text,
    at: Date.now(),
  });
  const body: AgentMessageResponse = { message };
  if (!created) {
    if (message.to.id !== recipient.id) {
      throw new ApiError(409, "client_id_reused", "This clientId was used for another agent.");
    }
    // A resend: the first request stored and pushed it.
    return c.json(body, 200);
  }
  await pushLive(c, message);
  return c.json(body, 201);
});
