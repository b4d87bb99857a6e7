/** Sending on a chat socket: shared by the ChatSession and its secure form. */
import type { ChatServerFrame, EventSender } from "../src/protocol/chat-frames.ts";
import type { ParticipantIdentity } from "./participant.ts";

/** The sender of an event, as every participant sees it. */
export function sender(who: ParticipantIdentity): EventSender {
  return { role: who.role, id: who.id, name: who.name };
}

/** Sends a frame; a socket that closed under us is simply skipped (its close handler runs). */
export function send(ws: WebSocket, frame: ChatServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
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
