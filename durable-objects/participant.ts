/**
 * Who is on the other end of a chat socket. The Worker authenticates the caller and passes
 * this to the ChatSession in an internal header on a request it builds itself, so a client
 * can never set it; the object still validates it.
 */
import { z } from "zod";

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
