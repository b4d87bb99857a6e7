/**
 * The desk actions inside a chat, for the ChatSession: transfer and invite (decided by the
 * Dispatcher, which knows who is online and who owns the chat), leave, and the notices the
 * Dispatcher sends back when the chat changes hands.
 */
import type { EventSender } from "../src/protocol/chat-frames.ts";
import type { AgentRef, TransferTarget } from "../src/protocol/dispatcher-frames.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import { chatAgentRole, leaveChatAgent } from "../src/store/chat-agents.ts";
import type { Env } from "../worker/env.ts";
import { sendError, sender } from "./chat-frames-out.ts";
import type { ChatMeta } from "./chat-meta.ts";
import { type Dispatcher, getDispatcher } from "./dispatcher.ts";
import type { HandoffError } from "./dispatcher-handoffs.ts";
import type { NewEvent } from "./event-log.ts";
import type { ParticipantIdentity } from "./participant.ts";

/** The desk itself, as the sender of events nobody in the chat caused. */
const SYSTEM: EventSender = { role: "system", id: null, name: null };

/** What the desk actions need from the ChatSession. */
export interface ChatDeskHost {
  env: Env;
  meta: ChatMeta;
  append: (event: NewEvent) => void;
  /** Closes an agent's participating sockets: they are no longer in the chat. */
  closeAgent: (agentId: string, reason: string) => void;
  audit: (
    conn: ParticipantIdentity,
    action: string,
    outcome: AuditEntry["outcome"],
    details?: Record<string, unknown>,
  ) => Promise<void>;
}

export class ChatDesk {
  readonly #host: ChatDeskHost;

  constructor(host: ChatDeskHost) {
    this.#host = host;
  }

  /** The owner hands the chat over; the Dispatcher offers it and reports on the console. */
  transfer(ws: WebSocket, conn: ParticipantIdentity, to: TransferTarget): Promise<void> {
    return this.#handOff(ws, conn, "chat.transfer", { to }, (dispatcher, chatId, from) =>
      dispatcher.transfer({ chatId, from, to }),
    );
  }

  /** The owner invites another agent; the invitation goes to their console. */
  invite(ws: WebSocket, conn: ParticipantIdentity, agentId: string): Promise<void> {
    return this.#handOff(ws, conn, "chat.invite", { agentId }, (dispatcher, chatId, from) =>
      dispatcher.invite({ chatId, from, agentId }),
    );
  }

  /**
   * Asks the Dispatcher (who knows owners and who is online) to start a handoff; audits the
   * attempt and answers a refusal with an `error` frame.
   */
  async #handOff(
    ws: WebSocket,
    conn: ParticipantIdentity,
    action: string,
    details: Record<string, unknown>,
    ask: (
      dispatcher: DurableObjectStub<Dispatcher>,
      chatId: string,
      from: AgentRef,
    ) => Promise<HandoffError | null>,
  ): Promise<void> {
    const chatId = this.#host.meta.chatId ?? "";
    let refused: HandoffError | null;
    try {
      refused = await ask(getDispatcher(this.#host.env), chatId, agentRef(conn));
    } catch (error) {
      console.error(`[parley] chat ${chatId}: ${action} failed`, error);
      return sendError(ws, "unavailable", "Try again in a moment.");
    }
    await this.#host.audit(conn, action, refused ? "failure" : "success", {
      ...details,
      ...(refused ? { reason: refused.code } : {}),
    });
    if (refused) sendError(ws, refused.code, refused.message);
  }

  /** A joined or invited agent leaves; the owner cannot (they transfer or end the chat). */
  async leave(ws: WebSocket, conn: ParticipantIdentity): Promise<void> {
    const chatId = this.#host.meta.chatId ?? "";
    const db = this.#host.env.DB;
    try {
      const role = await chatAgentRole(db, chatId, conn.id);
      if (role === "owner") {
        return sendError(ws, "not_allowed", "The owner transfers or ends the chat.");
      }
      if (!(await leaveChatAgent(db, chatId, conn.id, Date.now()))) {
        return sendError(ws, "not_allowed", "You are not in this chat.");
      }
    } catch (error) {
      console.error(`[parley] chat ${chatId}: leaving failed`, error);
      return sendError(ws, "unavailable", "Try again in a moment.");
    }
    this.#host.meta.removeParticipant(conn.id);
    this.#host.append({ kind: "left", from: sender(conn) });
    await this.#host.audit(conn, "chat.leave", "success");
    this.#host.closeAgent(conn.id, "left the chat");
  }

  /** A transfer was accepted: the visitor sees a neutral notice, the old owner is let go. */
  ownerChanged(change: {
    previous: string;
    owner: AgentRef;
    department: string;
    reason: "agent" | "department";
  }): void {
    const { meta } = this.#host;
    meta.setDepartment(change.department);
    meta.removeParticipant(change.previous);
    // The new owner is announced by this event, not again when their socket says hello.
    meta.addParticipant({ id: change.owner.id, role: "agent", name: change.owner.name });
    this.#host.append({
      kind: "transferred",
      from: { role: "agent", ...change.owner },
      reason: change.reason,
    });
    this.#host.closeAgent(change.previous, "transferred");
  }

  /** The owner went offline: the chat waits in the queue again, and the visitor is told. */
  requeued(agentId: string): void {
    this.#host.meta.removeParticipant(agentId);
    this.#host.append({ kind: "requeued", from: SYSTEM, reason: "agent_offline" });
    this.#host.closeAgent(agentId, "requeued");
  }
}

function agentRef(conn: ParticipantIdentity): AgentRef {
  return { id: conn.id, name: conn.name ?? "" };
}
