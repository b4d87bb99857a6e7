/** Frames spoken on the agent's console socket (agent ↔ Dispatcher). */
import { z } from "zod";

const chatId = z.string().uuid();

/** Frames an agent sends to the Dispatcher. */
export const dispatcherClientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), status: z.enum(["online", "away"]) }).strict(),
  z.object({ type: z.literal("accept"), chatId }).strict(),
  z.object({ type: z.literal("refuse"), chatId }).strict(),
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

/** Frames the Dispatcher sends to an agent. */
export type DispatcherServerFrame =
  | { type: "status"; status: AgentStatus; activeChats: number; capacity: number }
  | { type: "queue"; chats: QueuedChat[] }
  | { type: "offer"; chatId: string; visitor: VisitorSummary; expiresAt: number }
  | { type: "offer_withdrawn"; chatId: string; reason: OfferWithdrawnReason }
  | { type: "assigned"; chatId: string }
  | { type: "error"; code: DispatcherErrorCode; message: string };

/** Why an offer was taken back: it timed out (or the agent went away), was refused, or the chat ended. */
export type OfferWithdrawnReason = "expired" | "refused" | "ended";

/** Error codes of `error` frames on the console socket. */
export type DispatcherErrorCode =
  | "bad_frame"
  | "frame_too_large"
  | "not_offered"
  | "at_capacity"
  | "forbidden"
  | "unavailable";
