/**
 * The open sockets of one chat and who receives what: events go to every greeted participant
 * except internal ones (whispers) to the visitor, typing to everyone but the typist, the queue
 * position to the visitor. Memory only, like the sockets themselves (ChatSession accepts them
 * the standard way, so they live exactly as long as the object).
 */
import {
  type ChatEvent,
  type ChatEventKind,
  INTERNAL_EVENT_KINDS,
} from "../src/protocol/chat-frames.ts";
import { send, sender, sendSerialized, serialize } from "./chat-frames-out.ts";
import type { ParticipantIdentity } from "./participant.ts";

/** A participant on one socket; `greeted` once its `hello` was answered with the replay. */
export interface Connection extends ParticipantIdentity {
  greeted: boolean;
}

/** Internal events (whispers) never reach the visitor, live or on replay. */
export function receives(conn: ParticipantIdentity, kind: ChatEventKind): boolean {
  return conn.role !== "visitor" || !INTERNAL_EVENT_KINDS.has(kind);
}

export class ChatSockets {
  readonly #connections = new Map<WebSocket, Connection>();

  /** Registers a socket the object just accepted; it receives nothing until greeted. */
  add(ws: WebSocket, identity: ParticipantIdentity): void {
    this.#connections.set(ws, { ...identity, greeted: false });
  }

  /** The participant on `ws`, or undefined once it closed or was closed by us. */
  get(ws: WebSocket): Connection | undefined {
    return this.#connections.get(ws);
  }

  /** Forgets a socket that closed (or that a check closed). */
  forget(ws: WebSocket): void {
    this.#connections.delete(ws);
  }

  /** The agent sockets now open, monitors included (for the session and permission checks). */
  agents(): [WebSocket, Connection][] {
    return [...this.#connections].filter(([, conn]) => conn.role === "agent");
  }

  /** Sends a stored event to every greeted participant who may see it, serialized once. */
  broadcast(event: ChatEvent): void {
    const frame = serialize({ type: "event", ...event });
    for (const [ws, conn] of this.#connections) {
      if (conn.greeted && receives(conn, event.kind)) sendSerialized(ws, frame);
    }
  }

  /** Tells every other greeted participant (not the typist's other sockets) about typing. */
  typing(from: WebSocket, typist: Connection, on: boolean): void {
    for (const [ws, conn] of this.#connections) {
      if (ws !== from && conn.greeted && conn.id !== typist.id) {
        send(ws, { type: "typing", from: sender(typist), on });
      }
    }
  }

  /** The visitor's new place in the waiting queue, on each of its greeted sockets. */
  queuePosition(position: number): void {
    for (const [ws, conn] of this.#connections) {
      if (conn.role === "visitor" && conn.greeted) send(ws, { type: "queue", position });
    }
  }

  /** Closes the participating sockets of `agentId` (it left, or lost the chat). */
  closeAgent(agentId: string, reason: string): void {
    for (const [ws, conn] of this.#connections) {
      if (conn.role !== "agent" || conn.id !== agentId || conn.mode !== "participate") continue;
      this.#connections.delete(ws);
      ws.close(1000, reason);
    }
  }

  /** Closes every socket with 1000 (the chat ended or was erased) and forgets them. */
  closeAll(reason: string): void {
    for (const ws of this.#connections.keys()) ws.close(1000, reason);
    this.#connections.clear();
  }
}
