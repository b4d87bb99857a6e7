/** Agent-to-agent chat (`/api/agent-chats/…`): direct conversations between agents. */

import { z } from "zod";
import { fromBeforeTo, fromBeforeToIssue, offlineMessageSearchQuery } from "./http.ts";
import { MAX_AGENT_MESSAGE_CHARS } from "./limits.ts";
import { maskedText, perMode } from "./masked-text.ts";

/** One direct message, as stored, listed and pushed live on the console socket. */
export interface AgentMessage {
  id: string;
  /** The pair's conversation: both agent ids, sorted, joined by `:`. */
  conversationId: string;
  from: { id: string; name: string };
  to: { id: string; name: string };
  /** The sender's idempotency key: a resend with the same one stores nothing new. */
  clientId: string;
  /** Card numbers masked (CARD_MASKING). */
  text: string;
  /** Milliseconds since the Unix epoch (UTC). */
  at: number;
}

/** The conversation id of two agents: the same whichever of them asks. */
export function conversationIdOf(agentA: string, agentB: string): string {
  return [agentA, agentB].sort().join(":");
}

/** An agent id (agents get UUIDs). */
const agentId = z.string().uuid();

/** The `:agentId` path parameter: the other agent of the conversation. */
export const agentChatParams = z.object({ agentId });

/**
 * `POST /api/agent-chats/:agentId/messages`, per masking mode. `clientId` is a short token
 * (a UUID or a counter) chosen by the sender; it is echoed back and stored, so it is masked
 * like the text in case a client ever puts a number there.
 */
export const sendAgentMessageRequestFor = perMode((mode) =>
  z
    .object({
      clientId: maskedText(
        z.string().regex(/^[\w.:-]{1,64}$/, "1–64 of A–Z a–z 0–9 _ . : -"),
        mode,
      ),
      text: maskedText(z.string().trim().min(1).max(MAX_AGENT_MESSAGE_CHARS), mode),
    })
    .strict(),
);
export type SendAgentMessageRequest = z.input<ReturnType<typeof sendAgentMessageRequestFor>>;

// The search's building blocks (time window, keywords, cursor, page size) are the transcript
// and offline-message search's, so every search of the console reads its query the same way.
const { from, to, q, cursor, limit } = offlineMessageSearchQuery.shape;

/** `GET /api/agent-chats/:agentId/messages` query string: `before` is a previous `nextCursor`. */
export const agentConversationQuery = z.object({ before: cursor, limit }).strict();

/** `GET /api/agent-chats/search` query string (supervisors). */
export const agentChatSearchQuery = z
  .object({
    from,
    to,
    q,
    /** Messages sent or received by this agent. */
    agent: agentId.optional(),
    cursor,
    limit,
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);
export type AgentChatSearchQuery = z.infer<typeof agentChatSearchQuery>;

/** `POST /api/agent-chats/:agentId/messages` (201, or 200 on a resend) response body. */
export interface AgentMessageResponse {
  message: AgentMessage;
}

/** A page of messages, newest first: a conversation, or search results. */
export interface AgentMessagePage {
  messages: AgentMessage[];
  /** Pass as `before` (conversation) or `cursor` (search) for the next, older page; null on the last. */
  nextCursor: string | null;
}

/** One of the agent's conversations. */
export interface AgentConversation {
  conversationId: string;
  /** The other agent. */
  agent: { id: string; name: string };
  lastMessage: AgentMessage;
  messageCount: number;
}

/** `GET /api/agent-chats` response body: the conversations, latest activity first. */
export interface AgentConversationListResponse {
  conversations: AgentConversation[];
}
