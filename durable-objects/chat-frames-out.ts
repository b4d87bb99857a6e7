/** Sending on a chat socket: shared by the ChatSession and its secure form. */
import type { ChatServerFrame, EventSender } from "../src/protocol/chat-frames.ts";
import type { ParticipantIdentity } from "./participant.ts";

/** The sender of an event, as every participant sees it. */
export function sender(who: ParticipantIdentity): EventSender {
  return { role: who.role, id: who.id, name: who.name };
}

/** A frame serialized once, for sending to many sockets (`sendSerialized`). */
export type SerializedFrame = string & { readonly serializedFrame: true };

export function serialize(frame: ChatServerFrame): SerializedFrame {
  return JSON.stringify(frame) as SerializedFrame;
}

/** Sends a frame; a socket that closed under us is simply skipped (its close handler runs). */
export function send(ws: WebSocket, frame: ChatServerFrame): void {
  sendSerialized(ws, serialize(frame));
}

/**
 * Sends a serialized frame. An event goes to every participant, and a message is the hot
 * path: serializing it once per event rather than once per socket spares work and garbage.
 */
export function sendSerialized(ws: WebSocket, frame: SerializedFrame): void {
  try {
    ws.send(frame);
  } catch {
    // Closed.
  }
}

/** Sends an `error` frame. */
export function sendError(
  ws: WebSocket,
  code: Extract<ChatServerFrame, { type: "error" }>["code"],
  message: string,
): void {
  send(ws, { type: "error", code, message });
}
