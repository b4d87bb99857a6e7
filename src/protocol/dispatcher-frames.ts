/** Frames spoken on the agent's console socket (agent ↔ Dispatcher). */
import { z } from "zod";
import type { AgentMessage } from "./agent-chats.ts";
import type { ChatVariables } from "./variables.ts";

const chatId = z.string().uuid();

/** Frames an agent sends to the Dispatcher. */
export const dispatcherClientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), status: z.enum(["online", "away"]) }).strict(),
  z.object({ type: z.literal("accept"), chatId }).strict(),
  z.object({ type: z.literal("refuse"), chatId }).strict(),
  /** Join a chat another agent invited me into (as a second agent). */
  z.object({ type: z.literal("accept_invitation"), chatId }).strict(),
  z.object({ type: z.literal("decline_invitation"), chatId }).strict(),
]);
export type DispatcherClientFrame = z.infer<typeof dispatcherClientFrame>;

export type AgentStatus = "online" | "away";

/** What an agent is told about a waiting visitor. */
export interface VisitorSummary {
  name: string | null;
  email: string | null;
  department: string;
  pageUrl: string | null;
  /**
   * The site vouched for this visitor with a valid identity JWT (IDENTITY_SECRET): name and
   * email then come from the identity. Absent in queue entries stored before this field.
   */
  verified: boolean;
  /** The custom variables the site set that agents may see (`visibleToAgents`); absent: none. */
  variables?: ChatVariables;
  /** Ids of the visitor's segments at chat start; absent in entries stored before this field. */
  segments?: string[];
}

/** A chat waiting for an agent, as listed in `queue`. */
export interface QueuedChat {
  chatId: string;
  department: string;
  visitor: VisitorSummary;
  /** Milliseconds since the Unix epoch. */
  waitingSince: number;
  /** 1-based position in its department's queue. */
  position: number;
}

/** An agent as other agents see them in desk frames. */
export interface AgentRef {
  id: string;
  name: string;
}

/** Where a transfer goes: one agent, or a department's queue. */
export type TransferTarget = { agentId: string } | { department: string };

/** How a transfer or an invitation ended (or that a transfer is under way). */
export type HandoffOutcome = "pending" | "accepted" | "refused" | "declined" | "expired" | "ended";

/** Frames the Dispatcher sends to an agent. */
export type DispatcherServerFrame =
  | { type: "status"; status: AgentStatus; activeChats: number; capacity: number }
  | { type: "queue"; chats: QueuedChat[] }
  | {
      type: "offer";
      chatId: string;
      visitor: VisitorSummary;
      expiresAt: number;
      /** Set when the owner is handing over a chat already under way. */
      transfer?: { from: AgentRef };
    }
  | { type: "offer_withdrawn"; chatId: string; reason: OfferWithdrawnReason }
  /** The chat is mine: open its socket (after accepting an offer or an invitation). */
  | { type: "assigned"; chatId: string }
  /** Another agent invites me into their chat as a second agent. */
  | {
      type: "invitation";
      chatId: string;
      from: AgentRef;
      visitor: VisitorSummary;
      expiresAt: number;
    }
  | { type: "invitation_withdrawn"; chatId: string; reason: "expired" | "ended" }
  /** To the inviting agent: what became of the invitation. */
  | { type: "invitation_result"; chatId: string; agentId: string; outcome: HandoffOutcome }
  /** To the transferring owner: what became of the transfer. */
  | { type: "transfer_result"; chatId: string; to: TransferTarget; outcome: HandoffOutcome }
  /** A direct message from or to this agent (agent-to-agent chat), once stored. */
  | { type: "agent_message"; message: AgentMessage }
  | { type: "error"; code: DispatcherErrorCode; message: string };

/** Why an offer was taken back: it timed out (or the agent went away), was refused, or the chat ended. */
export type OfferWithdrawnReason = "expired" | "refused" | "ended";

/** Error codes of `error` frames on the console socket. */
export type DispatcherErrorCode =
  | "bad_frame"
  | "frame_too_large"
  | "not_offered"
  | "not_invited"
  | "at_capacity"
  | "forbidden"
  | "unavailable";
