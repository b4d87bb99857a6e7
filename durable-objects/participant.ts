/**
 * Who is on the other end of a chat socket. The Worker authenticates the caller and passes
 * this to the ChatSession in an internal header on a request it builds itself, so a client
 * can never set it; the object still validates it.
 */
import { z } from "zod";
import { safeJson } from "../src/protocol/parse-frame.ts";

export const PARTICIPANT_HEADER = "x-parley-participant";

export const participantIdentity = z.object({
  role: z.enum(["visitor", "agent"]),
  id: z.string().min(1).max(64),
  name: z.string().max(100).nullable(),
  /** `monitor`: receives everything, sends nothing, announces nothing. */
  mode: z.enum(["participate", "monitor"]),
  /** The agent's session: activity on the socket keeps it from idling out. */
  sessionId: z.string().max(64).optional(),
  /** Where the participant connected from, for audit rows of their actions. */
  ip: z.string().max(64).nullable().optional(),
  userAgent: z.string().max(256).nullable().optional(),
});
export type ParticipantIdentity = z.infer<typeof participantIdentity>;

/** Builds the internal upgrade request the Worker forwards to a Durable Object. */
export function internalUpgrade(url: string, identity: unknown): Request {
  return new Request(url, {
    headers: { upgrade: "websocket", [PARTICIPANT_HEADER]: JSON.stringify(identity) },
  });
}

/** What a chat's object knows of its chat when a participant connects. */
export interface ChatToJoin {
  exists: boolean;
  visitorId: string | null;
  visitorName: string | null;
}

/**
 * Checks an upgrade the Worker forwarded: a WebSocket upgrade (426), a valid identity (403), a
 * chat that exists (404) and, defence in depth, a visitor who is this chat's visitor (403),
 * named as the chat knows them. Returns the identity to accept, or the answer to refuse with.
 */
export function admitParticipant(
  request: Request,
  chat: ChatToJoin,
): ParticipantIdentity | Response {
  const refuse = (status: number, code: string, message: string) =>
    Response.json({ error: { code, message } }, { status });
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return refuse(426, "upgrade_required", "Expected a WebSocket upgrade.");
  }
  const parsed = participantIdentity.safeParse(safeJson(request.headers.get(PARTICIPANT_HEADER)));
  if (!parsed.success) return refuse(403, "forbidden", "Unknown participant.");
  if (!chat.exists) return refuse(404, "chat_not_found", "No such chat.");
  const identity = parsed.data;
  if (identity.role === "visitor") {
    if (identity.id !== chat.visitorId) return refuse(403, "forbidden", "Not this chat's visitor.");
    identity.name = chat.visitorName;
  }
  return identity;
}
