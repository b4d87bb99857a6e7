/**
 * Frames spoken on a chat socket (visitor or agent ↔ ChatSession).
 * One discriminated union per direction, shared by the server and the browser apps.
 */
import { z } from "zod";
import { MAX_MESSAGE_CHARS } from "./limits.ts";
import { maskedText } from "./masked-text.ts";

// Masked too: a client id is echoed to every participant (invariant 1 covers all of a frame).
const clientId = maskedText(z.string().min(1).max(64));

/** Frames a visitor or agent sends to the ChatSession. */
export const chatClientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), lastSeq: z.number().int().min(0) }).strict(),
  z
    .object({
      type: z.literal("message"),
      clientId,
      text: maskedText(z.string().trim().min(1).max(MAX_MESSAGE_CHARS)),
    })
    .strict(),
  z.object({ type: z.literal("typing"), on: z.boolean() }).strict(),
  z.object({ type: z.literal("end") }).strict(),
]);
export type ChatClientFrame = z.infer<typeof chatClientFrame>;

/** Who caused an event. */
export type ParticipantRole = "visitor" | "agent";
export interface EventSender {
  role: ParticipantRole;
  id: string | null;
  name: string | null;
}

/** Kinds of stored chat events. */
export type ChatEventKind = "message" | "joined" | "ended";

/** A stored, sequenced chat event as every participant receives it. */
export interface ChatEvent {
  seq: number;
  /** Milliseconds since the Unix epoch (UTC). */
  at: number;
  kind: ChatEventKind;
  from: EventSender;
  text?: string;
  /** Set on the sender's own messages so its copy can replace the pending one. */
  clientId?: string;
  /** Why the chat ended (kind `ended`): "visitor", "agent". */
  reason?: string;
}

/** Frames the ChatSession sends. */
export type ChatServerFrame =
  | ({ type: "event" } & ChatEvent)
  | { type: "ack"; clientId: string; seq: number }
  | { type: "ready"; lastSeq: number; status: ChatStatus }
  | { type: "typing"; from: EventSender; on: boolean }
  | { type: "queue"; position: number }
  | { type: "error"; code: ErrorCode; message: string };

export type ChatStatus = "open" | "ended";

/** Error codes of `error` frames on a chat socket. */
export type ErrorCode =
  | "bad_frame"
  | "frame_too_large"
  | "hello_required"
  | "already_greeted"
  | "chat_ended"
  | "read_only";
