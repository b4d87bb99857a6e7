/**
 * Frames spoken on a chat socket (visitor or agent ↔ ChatSession).
 * One discriminated union per direction, shared by the server and the browser apps.
 */
import { z } from "zod";
import type { SecureFormField } from "../security/secure-form.ts";
import { departmentId } from "./http.ts";
import { MAX_MESSAGE_CHARS } from "./limits.ts";
import { maskedText, perMode } from "./masked-text.ts";

const requestId = z.string().uuid();
const agentId = z.string().min(1).max(64);
const fieldName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "a field name (lowercase slug)");

/** Frames a visitor or agent sends to the ChatSession, per CARD_MASKING mode. */
export const chatClientFrameFor = perMode((mode) => {
  // Masked too: a client id is echoed to every participant (invariant 1 covers all of a frame).
  const clientId = maskedText(z.string().min(1).max(64), mode);
  const secureField = z
    .object({
      name: fieldName,
      kind: z.enum(["card_number", "expiry", "security_code", "cardholder_name", "text"]),
      label: maskedText(z.string().trim().min(1).max(60), mode),
    })
    .strict();
  return z.discriminatedUnion("type", [
    z.object({ type: z.literal("hello"), lastSeq: z.number().int().min(0) }).strict(),
    z
      .object({
        type: z.literal("message"),
        clientId,
        text: maskedText(z.string().trim().min(1).max(MAX_MESSAGE_CHARS), mode),
      })
      .strict(),
    z.object({ type: z.literal("typing"), on: z.boolean() }).strict(),
    z.object({ type: z.literal("end") }).strict(),
    /** Agent: ask the visitor for card data in the secure form. */
    z
      .object({
        type: z.literal("secure_form.request"),
        fields: z
          .array(secureField)
          .min(1)
          .max(8)
          .refine((f) => new Set(f.map((x) => x.name)).size === f.length, "unique field names"),
      })
      .strict(),
    /**
     * Visitor: the form's values. NOT masked: they go to the object's memory only, never to
     * storage, logs or other frames (DESIGN invariant 2).
     */
    z
      .object({
        type: z.literal("secure_form.submit"),
        requestId,
        values: z
          .record(fieldName, z.string().max(200))
          .refine((v) => Object.keys(v).length <= 8, "at most 8 values"),
      })
      .strict(),
    /** Agent: show me the submitted values (needs `secure_form.view` and a recent login). */
    z.object({ type: z.literal("secure_form.view"), requestId }).strict(),
    /** Agent: a note for the agents in the chat only; never reaches the visitor. */
    z
      .object({
        type: z.literal("whisper"),
        clientId,
        text: maskedText(z.string().trim().min(1).max(MAX_MESSAGE_CHARS), mode),
      })
      .strict(),
    /** Owner: hand the chat to one agent or to a department's queue. */
    z
      .object({
        type: z.literal("transfer"),
        agentId: agentId.optional(),
        department: departmentId.optional(),
      })
      .strict()
      .refine(
        (f) => (f.agentId === undefined) !== (f.department === undefined),
        "name either agentId or department",
      ),
    /** Owner: invite another agent into the chat as a second agent. */
    z.object({ type: z.literal("invite"), agentId }).strict(),
    /** A joined or invited agent leaves the chat (the owner transfers or ends it). */
    z.object({ type: z.literal("leave") }).strict(),
  ]);
});
/** The chat frames in standard masking mode. */
export const chatClientFrame = chatClientFrameFor("standard");
export type ChatClientFrame = z.infer<typeof chatClientFrame>;

/** Who caused an event. */
export type ParticipantRole = "visitor" | "agent";
export interface EventSender {
  /** `system`: the desk itself (e.g. a chat requeued when its agent went offline). */
  role: ParticipantRole | "system";
  id: string | null;
  name: string | null;
}

/** Kinds of stored chat events. */
export type ChatEventKind =
  | "message"
  | "joined"
  /** A joined or invited agent left the chat. */
  | "left"
  /** Agents only: never sent or replayed to the visitor, marked internal in the transcript. */
  | "whisper"
  /** The chat has a new owner (`from`): a neutral notice for the visitor. */
  | "transferred"
  /** The owner went offline: the chat waits for another agent (`from` is the system). */
  | "requeued"
  | "ended"
  | "secure_form.requested"
  | "secure_form.submitted";

/** Event kinds the visitor never receives (live or on replay). */
export const INTERNAL_EVENT_KINDS: ReadonlySet<ChatEventKind> = new Set(["whisper"]);

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
  /**
   * Why the chat ended (kind `ended`): "visitor", "agent"; why it was requeued:
   * "agent_offline"; how it was transferred: "agent", "department".
   */
  reason?: string;
  /**
   * Kinds `secure_form.*`: which form (and, when requested, its fields). Never values:
   * `text` holds the masked summary of a submission (`card •••• 1111, exp 12/29`).
   */
  form?: { requestId: string; fields?: SecureFormField[] };
}

/** Frames the ChatSession sends. */
export type ChatServerFrame =
  | ({ type: "event" } & ChatEvent)
  | { type: "ack"; clientId: string; seq: number }
  | { type: "ready"; lastSeq: number; status: ChatStatus }
  | { type: "typing"; from: EventSender; on: boolean }
  | { type: "queue"; position: number }
  /** To the viewing agent's socket only; never stored, never replayed. */
  | {
      type: "secure_form.values";
      requestId: string;
      values: Record<string, string>;
      expiresAt: number;
    }
  | {
      type: "error";
      code: ErrorCode;
      message: string;
      /** `invalid_secure_form`: the problem of each refused field (never the values). */
      fields?: Record<string, string>;
    };

export type ChatStatus = "open" | "ended";

/** Error codes of `error` frames on a chat socket. */
export type ErrorCode =
  | "bad_frame"
  | "frame_too_large"
  | "hello_required"
  | "already_greeted"
  | "chat_ended"
  | "read_only"
  /** The frame is not one this participant (visitor or agent) may send. */
  | "not_allowed"
  | "forbidden"
  /** Viewing secure-form values needs a login or re-authentication within 5 minutes. */
  | "reauth_required"
  | "not_found"
  /** The values were wiped: chat ended, TTL passed, or the object restarted. */
  | "gone"
  | "already_submitted"
  | "invalid_secure_form"
  /** Transfer and invite: only the chat's owner may hand it over or invite. */
  | "not_owner"
  /** The agent named is offline, away, at capacity or cannot take chats. */
  | "agent_unavailable"
  /** Nobody who could take the chat is online in that department. */
  | "no_agents"
  | "transfer_pending"
  | "invitation_pending"
  | "already_participating"
  | "unavailable"
  /** Too many frames from this participant (RATE_MESSAGES_PER_SOCKET_PER_10S); nothing was done. */
  | "rate_limited";
