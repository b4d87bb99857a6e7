/**
 * Chats changing hands, for the Dispatcher: transfers (to one agent or a department's queue),
 * invitations to join as a second agent, and requeueing the chats of an agent who went
 * offline mid-chat. Ownership always moves in one step — the old owner keeps the chat until
 * the new one has it — so a chat never has no owner while it is being handed over.
 */
import type { ErrorCode } from "../src/protocol/chat-frames.ts";
import type {
  AgentRef,
  DispatcherServerFrame,
  HandoffOutcome,
  OfferWithdrawnReason,
  TransferTarget,
  VisitorSummary,
} from "../src/protocol/dispatcher-frames.ts";
import { departmentExists } from "../src/store/agents.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import { addChatAgent, chatAgentRole } from "../src/store/chat-agents.ts";
import { type ChatRecord, findChat, requeueChat } from "../src/store/chats.ts";
import type { Env } from "../worker/env.ts";
import { appendAudit } from "./audit-log.ts";
import { getChatSession } from "./chat-session.ts";
import { type ConsoleAttachment, sendConsole } from "./console-access.ts";
import type { DispatcherPresence } from "./dispatcher-presence.ts";
import type { DispatcherState, QueueEntry } from "./dispatcher-state.ts";
import type { DueItems } from "./due-items.ts";

/** Why a transfer or invitation could not start (an `error` frame on the chat socket). */
export interface HandoffError {
  code: ErrorCode;
  message: string;
}

type AuditFields = Pick<AuditEntry, "action" | "target" | "outcome" | "details" | "department">;

/** What handoffs need from the Dispatcher. */
export interface HandoffHost {
  env: Env;
  state: DispatcherState;
  presence: DispatcherPresence;
  due: DueItems;
  /** AGENT_RECONNECT_GRACE_SECONDS in ms. */
  graceMs: number;
  offerTimeoutMs: (department: string) => number;
  /** Online, may accept chats, and below capacity. */
  available: (agentId: string) => boolean;
  /** Has an open console socket. */
  connected: (agentId: string) => boolean;
  send: (agentId: string, frame: DispatcherServerFrame) => void;
  sendStatus: (agentId: string) => void;
  withdraw: (entry: QueueEntry, reason: OfferWithdrawnReason) => void;
  route: () => Promise<void>;
  audit: (attachment: ConsoleAttachment, entry: AuditFields) => Promise<void>;
}

export class Handoffs {
  readonly #host: HandoffHost;

  constructor(host: HandoffHost) {
    this.#host = host;
  }

  // ── Transfers ──

  /** Starts a transfer; null when it is under way (the owner hears `transfer_result`). */
  async transfer(request: {
    chatId: string;
    from: AgentRef;
    to: TransferTarget;
  }): Promise<HandoffError | null> {
    const { state } = this.#host;
    const { chatId, from, to } = request;
    if (state.assignee(chatId) !== from.id) {
      return { code: "not_owner", message: "Only the chat's owner can transfer it." };
    }
    if (state.queued(chatId)) {
      return { code: "transfer_pending", message: "This chat is already being transferred." };
    }
    const chat = await findChat(this.#host.env.DB, chatId);
    if (!chat) return { code: "not_found", message: "No such chat." };
    if ("agentId" in to) {
      if (to.agentId === from.id || !this.#host.available(to.agentId)) {
        return { code: "agent_unavailable", message: "That agent cannot take the chat now." };
      }
    } else if (!(await departmentExists(this.#host.env.DB, to.department))) {
      return { code: "not_found", message: "No such department." };
    } else if (!this.#someoneAvailableIn(to.department, from.id)) {
      return { code: "no_agents", message: "Nobody in that department can take the chat now." };
    }
    // Re-check after the awaits: the chat may have ended or changed hands meanwhile.
    if (state.assignee(chatId) !== from.id || state.queued(chatId)) {
      return { code: "not_owner", message: "Only the chat's owner can transfer it." };
    }
    const department = "department" in to ? to.department : chat.departmentId;
    const targetAgent = "agentId" in to ? to.agentId : null;
    state.enqueue({
      chatId,
      department,
      visitor: { ...visitorSummaryOf(chat), department },
      createdAt: Date.now(),
      transferFrom: from.id,
      transferTo: targetAgent,
      // The owner is never offered their own chat.
      refusedBy: [from.id],
    });
    this.#host.send(from.id, { type: "transfer_result", chatId, to, outcome: "pending" });
    if (targetAgent) {
      const entry = state.queued(chatId);
      if (entry) this.#offerTo(entry, targetAgent, from);
    }
    await this.#host.route();
    return null;
  }

  /** A transfer ended without a new owner (refused, expired, or the chat ended). */
  transferEnded(entry: QueueEntry, outcome: HandoffOutcome): void {
    if (!entry.transferFrom) return;
    const to = entry.transferTo ? { agentId: entry.transferTo } : { department: entry.department };
    this.#host.send(entry.transferFrom, {
      type: "transfer_result",
      chatId: entry.chatId,
      to,
      outcome,
    });
  }

  /** A transfer was accepted (D1 already names the new owner): tell everyone. */
  async transferred(entry: QueueEntry, owner: AgentRef): Promise<void> {
    const previous = entry.transferFrom;
    if (!previous) return;
    const to = entry.transferTo ? { agentId: entry.transferTo } : { department: entry.department };
    this.#host.send(previous, {
      type: "transfer_result",
      chatId: entry.chatId,
      to,
      outcome: "accepted",
    });
    this.#host.sendStatus(previous);
    try {
      await getChatSession(this.#host.env, entry.chatId).ownerChanged({
        previous,
        owner,
        department: entry.department,
        reason: entry.transferTo ? "agent" : "department",
      });
    } catch (error) {
      // The new owner's socket still works (D1 names them); the notice is what is lost.
      console.error(`[parley] dispatcher: transfer notice for chat ${entry.chatId} failed`, error);
    }
  }

  #offerTo(entry: QueueEntry, agentId: string, from: AgentRef): void {
    const expiresAt = Date.now() + this.#host.offerTimeoutMs(entry.department);
    this.#host.state.setOffer(entry.chatId, agentId, expiresAt);
    this.#host.send(agentId, {
      type: "offer",
      chatId: entry.chatId,
      visitor: entry.visitor,
      expiresAt,
      transfer: { from },
    });
  }

  #someoneAvailableIn(department: string, except: string): boolean {
    return this.#host.state
      .agents()
      .some(
        (agent) =>
          agent.id !== except &&
          agent.departments.includes(department) &&
          this.#host.available(agent.id),
      );
  }

  // ── Invitations ──

  /** Invites an agent into the owner's chat; null when the invitation was sent. */
  async invite(request: {
    chatId: string;
    from: AgentRef;
    agentId: string;
  }): Promise<HandoffError | null> {
    const { state, presence, env } = this.#host;
    const { chatId, from, agentId } = request;
    if (state.assignee(chatId) !== from.id) {
      return { code: "not_owner", message: "Only the chat's owner can invite agents." };
    }
    if (agentId === from.id || !this.#host.connected(agentId)) {
      return { code: "agent_unavailable", message: "That agent is not online." };
    }
    if (presence.invitation(chatId, agentId)) {
      return { code: "invitation_pending", message: "That agent was already invited." };
    }
    const [chat, role] = await Promise.all([
      findChat(env.DB, chatId),
      chatAgentRole(env.DB, chatId, agentId),
    ]);
    if (chat?.status !== "active") return { code: "not_found", message: "No such chat." };
    if (role !== null) {
      return { code: "already_participating", message: "That agent is already in the chat." };
    }
    const expiresAt = Date.now() + this.#host.offerTimeoutMs(chat.departmentId);
    presence.invite({ chatId, agentId, fromId: from.id, fromName: from.name, expiresAt });
    this.#host.send(agentId, {
      type: "invitation",
      chatId,
      from,
      visitor: visitorSummaryOf(chat),
      expiresAt,
    });
    await this.#scheduleInvitations();
    return null;
  }

  /** The invited agent joins: they may now open the chat socket as a participant. */
  async acceptInvitation(ws: WebSocket, me: ConsoleAttachment, chatId: string): Promise<void> {
    const { presence, env } = this.#host;
    const invitation = presence.invitation(chatId, me.agentId);
    if (!invitation || invitation.expiresAt <= Date.now()) {
      return sendConsole(ws, {
        type: "error",
        code: "not_invited",
        message: "There is no open invitation to this chat.",
      });
    }
    // Taken before the await: a second accept, or the expiry alarm, finds it gone.
    presence.dropInvitation(chatId, me.agentId);
    try {
      await addChatAgent(env.DB, {
        chatId,
        agentId: me.agentId,
        role: "invited",
        addedBy: invitation.fromId,
        now: Date.now(),
      });
    } catch (error) {
      console.error(`[parley] dispatcher: adding agent to chat ${chatId} failed`, error);
      presence.invite(invitation);
      return sendConsole(ws, {
        type: "error",
        code: "unavailable",
        message: "Try again in a moment.",
      });
    }
    this.#host.send(me.agentId, { type: "assigned", chatId });
    this.#host.send(invitation.fromId, {
      type: "invitation_result",
      chatId,
      agentId: me.agentId,
      outcome: "accepted",
    });
    await this.#host.audit(me, {
      action: "chat.invitation_accept",
      target: chatId,
      outcome: "success",
      details: { invitedBy: invitation.fromId },
    });
    await this.#scheduleInvitations();
  }

  async declineInvitation(ws: WebSocket, me: ConsoleAttachment, chatId: string): Promise<void> {
    const invitation = this.#host.presence.invitation(chatId, me.agentId);
    if (!invitation) {
      return sendConsole(ws, {
        type: "error",
        code: "not_invited",
        message: "There is no open invitation to this chat.",
      });
    }
    this.#host.presence.dropInvitation(chatId, me.agentId);
    this.#host.send(invitation.fromId, {
      type: "invitation_result",
      chatId,
      agentId: me.agentId,
      outcome: "declined",
    });
    await this.#host.audit(me, {
      action: "chat.invitation_decline",
      target: chatId,
      outcome: "success",
      details: { invitedBy: invitation.fromId },
    });
    await this.#scheduleInvitations();
  }

  /** Invitations past their time are withdrawn, and the inviters told. */
  async expireInvitations(): Promise<void> {
    const now = Date.now();
    for (const invitation of this.#host.presence.invitations()) {
      if (invitation.expiresAt <= now)
        this.#endInvitation(invitation.chatId, invitation.agentId, "expired");
    }
    await this.#scheduleInvitations();
  }

  /** The chat ended: its open invitations are withdrawn. */
  invitationsEnded(chatId: string): void {
    for (const invitation of this.#host.presence.invitations(chatId)) {
      this.#endInvitation(chatId, invitation.agentId, "ended");
    }
  }

  #endInvitation(chatId: string, agentId: string, reason: "expired" | "ended"): void {
    const invitation = this.#host.presence.invitation(chatId, agentId);
    if (!invitation) return;
    this.#host.presence.dropInvitation(chatId, agentId);
    this.#host.send(agentId, { type: "invitation_withdrawn", chatId, reason });
    this.#host.send(invitation.fromId, {
      type: "invitation_result",
      chatId,
      agentId,
      outcome: reason,
    });
  }

  async #scheduleInvitations(): Promise<void> {
    const next = this.#host.presence.nextInvitationExpiry();
    if (next === null) await this.#host.due.cancel("invitations");
    else await this.#host.due.reschedule("invitations", next);
  }

  // ── Agents going offline mid-chat ──

  /** The agent's last console socket closed: their chats wait out the grace period. */
  async departed(agentId: string): Promise<void> {
    if (this.#host.state.activeChats(agentId) === 0) return;
    this.#host.presence.departed(agentId, Date.now());
    await this.#scheduleDepartures();
  }

  /** The agent is back (a console socket opened): nothing of theirs is requeued. */
  returned(agentId: string): void {
    this.#host.presence.returned(agentId);
  }

  /** Requeues the chats of agents gone longer than the grace period; the visitors are told. */
  async requeueDeparted(): Promise<void> {
    const { presence, state } = this.#host;
    for (const agentId of presence.departedBefore(Date.now() - this.#host.graceMs)) {
      if (!this.#host.connected(agentId)) {
        for (const chatId of state.assignedTo(agentId)) {
          try {
            await this.#requeue(chatId, agentId);
          } catch (error) {
            // The departure stays recorded: the next alarm tries again.
            console.error(`[parley] dispatcher: requeueing chat ${chatId} failed`, error);
            return this.#scheduleDepartures(Date.now() + 5_000);
          }
        }
      }
      presence.returned(agentId);
    }
    await this.#scheduleDepartures();
    await this.#host.route();
  }

  async #requeue(chatId: string, agentId: string): Promise<void> {
    const { state, env } = this.#host;
    const chat = await findChat(env.DB, chatId);
    if (state.assignee(chatId) !== agentId) return; // ended or handed over meanwhile
    if (!chat || chat.status === "ended" || chat.status === "missed") {
      state.unassign(chatId);
      return;
    }
    await requeueChat(env.DB, chatId, agentId);
    if (state.assignee(chatId) !== agentId) return;
    // A transfer the departed owner started becomes an ordinary wait.
    const pending = state.queued(chatId);
    if (pending) {
      this.#host.withdraw(pending, "expired");
      state.dequeue(chatId);
    }
    state.unassign(chatId);
    state.enqueue({
      chatId,
      department: chat.departmentId,
      visitor: visitorSummaryOf(chat),
      // Its original start: the chat goes ahead of chats that arrived after it.
      createdAt: chat.createdAt,
      enteredAt: Date.now(),
    });
    this.#host.sendStatus(agentId);
    await getChatSession(env, chatId).requeued(agentId);
    await this.auditSystem({
      action: "chat.requeue",
      target: chatId,
      outcome: "success",
      department: chat.departmentId,
      details: { agentId, reason: "agent_offline" },
    });
  }

  async #scheduleDepartures(at?: number): Promise<void> {
    const next = this.#host.presence.nextDeparture();
    if (next === null) await this.#host.due.cancel("departures");
    else await this.#host.due.reschedule("departures", at ?? next + this.#host.graceMs);
  }

  /** Writes an audit row for something the desk did by itself. */
  async auditSystem(entry: AuditFields): Promise<void> {
    await appendAudit(this.#host.env, {
      actorType: "system",
      actorId: null,
      ip: null,
      userAgent: null,
      at: Date.now(),
      ...entry,
    });
  }
}

/** What agents are told about a chat's visitor, from its D1 row. */
function visitorSummaryOf(chat: ChatRecord): VisitorSummary {
  return {
    name: chat.visitorName,
    email: chat.visitorEmail,
    department: chat.departmentId,
    pageUrl: chat.pageUrl,
    verified: chat.identitySub !== null,
  };
}
