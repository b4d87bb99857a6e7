/**
 * Dispatcher — one per deployment: agents' presence, capacity, the waiting queue, routing
 * and offers. Uses the Hibernation API (`ctx.acceptWebSocket`): agents stay connected for
 * hours, mostly idle, and a hibernated object costs nothing. All state is in SQLite (see
 * dispatcher-state.ts); socket attachments carry the agent's id, session and whether they may
 * receive offers (console-access.ts checks permissions).
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { type Config, parseConfig } from "../src/config.ts";
import {
  type AgentRef,
  type DispatcherServerFrame,
  dispatcherClientFrame,
  type TransferTarget,
  type VisitorSummary,
} from "../src/protocol/dispatcher-frames.ts";
import { SUBPROTOCOL } from "../src/protocol/limits.ts";
import { parseFrame, safeJson } from "../src/protocol/parse-frame.ts";
import { DISPATCHER_ACTIONS } from "../src/security/action-permissions.ts";
import { agentCapacities } from "../src/store/agents.ts";
import { assignChat, transferChat } from "../src/store/chats.ts";
import type { Env } from "../worker/env.ts";
import { getChatSession } from "./chat-session.ts";
import {
  attachmentOf,
  ConsoleAccess,
  type ConsoleAttachment,
  sendConsole,
} from "./console-access.ts";
import { type HandoffError, Handoffs } from "./dispatcher-handoffs.ts";
import { DispatcherPresence } from "./dispatcher-presence.ts";
import { Router } from "./dispatcher-router.ts";
import { DispatcherState } from "./dispatcher-state.ts";
import { DueItems } from "./due-items.ts";
import { type ChatBacklog, FlushBacklog } from "./flush-backlog.ts";
import { PARTICIPANT_HEADER } from "./participant.ts";
import { SESSION_CHECK_MS, SessionActivity, sessionLimits } from "./session-activity.ts";

/** The agent behind a console socket, as authenticated by the Worker. */
export const dispatcherAgent = z.object({
  id: z.string().min(1),
  name: z.string(),
  departments: z.array(z.string()).min(1),
  capacity: z.number().int().min(1),
  sessionId: z.string().max(64),
  /** Effective permissions when the socket opened; refreshed by the session check. */
  permissions: z.array(z.string()),
  ip: z.string().max(64).nullable(),
  userAgent: z.string().max(256).nullable(),
});
export type DispatcherAgent = z.infer<typeof dispatcherAgent>;

export type EnqueueResult = { queued: true; position: number } | { offline: true };

/** The deployment's one Dispatcher. */
export function getDispatcher(env: Env): DurableObjectStub<Dispatcher> {
  return env.DISPATCHER.get(env.DISPATCHER.idFromName("global"));
}

export class Dispatcher extends DurableObject<Env> {
  readonly #state: DispatcherState;
  readonly #activity: SessionActivity;
  readonly #due: DueItems;
  readonly #access: ConsoleAccess;
  readonly #router: Router;
  readonly #handoffs: Handoffs;
  readonly #config: Config;
  readonly #backlog: FlushBacklog;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = parseConfig(env as unknown as Record<string, unknown>);
    this.#state = new DispatcherState(ctx.storage.sql);
    this.#due = new DueItems(ctx.storage);
    this.#backlog = new FlushBacklog(ctx.storage.sql);
    this.#router = new Router({
      env,
      config: this.#config,
      state: this.#state,
      due: this.#due,
      sockets: () => ctx.getWebSockets(),
      socketsOf: (agentId) => this.#socketsOf(agentId),
      send: (agentId, frame) => this.#sendToAgent(agentId, frame),
      waitUntil: (promise) => ctx.waitUntil(promise),
      transferEnded: (entry, outcome) => this.#handoffs.transferEnded(entry, outcome),
      auditSystem: (entry) => this.#handoffs.auditSystem(entry),
    });
    this.#handoffs = new Handoffs({
      env,
      state: this.#state,
      presence: new DispatcherPresence(ctx.storage.sql),
      due: this.#due,
      graceMs: this.#config.agentReconnectGraceMs,
      offerTimeoutMs: (department) => this.#router.offerTimeoutMs(department),
      available: (agentId) =>
        this.#router.candidates().some((c) => c.id === agentId && c.online && c.load < c.capacity),
      connected: (agentId) => this.#socketsOf(agentId).length > 0,
      send: (agentId, frame) => this.#sendToAgent(agentId, frame),
      sendStatus: (agentId) => this.#sendStatus(agentId),
      withdraw: (entry, reason) => this.#router.withdraw(entry, reason),
      route: () => this.#router.route(),
      audit: (attachment, entry) => this.#access.audit(attachment, entry),
    });
    this.#access = new ConsoleAccess({
      env,
      socketsOf: (agentId) => this.#socketsOf(agentId),
      withdrawOffers: (agentId) => {
        let any = false;
        for (const entry of this.#state.queue()) {
          if (entry.offeredTo !== agentId) continue;
          this.#router.withdraw(entry, "expired");
          any = true;
        }
        return any;
      },
      setDepartments: (agentId, departments) =>
        departments.length > 0 && this.#state.setDepartments(agentId, departments),
    });
    this.#activity = new SessionActivity(env.DB, sessionLimits(env), (promise) =>
      ctx.waitUntil(promise),
    );
  }

  // ── Entry points: RPC ───────────────────────────────────────────────────────

  /**
   * Puts a new chat in the queue and offers it, or answers offline when no agent of the
   * department is online (the visitor then gets the offline-message form). A chat the visitor
   * started from an agent's invitation names that agent: it is offered to them first.
   */
  async enqueue(chat: {
    chatId: string;
    department: string;
    visitor: VisitorSummary;
    createdAt: number;
    preferredAgent?: string | null;
  }): Promise<EnqueueResult> {
    if (!this.#staffed(chat.department, chat.preferredAgent)) return { offline: true };
    this.#state.enqueue(chat);
    await this.#router.route();
    const position = this.#router.positions().get(chat.chatId) ?? 1;
    this.#state.setNotifiedPosition(chat.chatId, position);
    return { queued: true, position };
  }

  /**
   * The departments among `departments` where a chat started now would not be answered
   * offline (the widget's department picker, `GET /api/widget/availability`).
   */
  staffedDepartments(departments: string[]): string[] {
    return departments.filter((department) => this.#staffed(department));
  }

  /**
   * Whether an agent who could be offered a chat of `department` is online (busy or not: the
   * chat then waits in the queue); the inviting agent counts for any department.
   */
  #staffed(department: string, preferredAgent?: string | null): boolean {
    return this.#router
      .candidates()
      .some(
        (agent) =>
          agent.online && (agent.departments.includes(department) || agent.id === preferredAgent),
      );
  }

  /** A chat ended: free its agent's capacity, or drop it from the queue. */
  async chatEnded(chatId: string): Promise<void> {
    const entry = this.#state.queued(chatId);
    if (entry?.offeredTo) this.#router.withdraw(entry, "ended");
    if (entry?.transferFrom) this.#handoffs.transferEnded(entry, "ended");
    this.#state.dequeue(chatId);
    this.#handoffs.invitationsEnded(chatId);
    const agentId = this.#state.unassign(chatId);
    if (agentId) this.#sendStatus(agentId);
    await this.#router.route();
  }

  /**
   * Routing rules or an agent's capacity changed (the routing API): re-read both from D1 and
   * route again under the new rules.
   */
  async routingChanged(): Promise<void> {
    this.#router.rules.invalidate();
    await this.#refreshCapacities();
    await this.#router.route();
  }

  /**
   * The owner of a chat hands it to one agent (offered to them alone) or to a department's
   * queue. The owner keeps the chat until someone accepts, so it never has no owner.
   */
  async transfer(request: {
    chatId: string;
    from: AgentRef;
    to: TransferTarget;
  }): Promise<HandoffError | null> {
    await this.#router.rules.refresh();
    return this.#handoffs.transfer(request);
  }

  /** The owner of a chat invites another agent into it as a second agent. */
  async invite(request: {
    chatId: string;
    from: AgentRef;
    agentId: string;
  }): Promise<HandoffError | null> {
    return this.#handoffs.invite(request);
  }

  /** Pushes a frame to every open console socket of the given agents. */
  async deliverToAgents(agentIds: readonly string[], frame: DispatcherServerFrame): Promise<void> {
    for (const agentId of new Set(agentIds)) this.#sendToAgent(agentId, frame);
  }

  /** A ChatSession's D1 copy is failing (`events` waiting) or, with 0, caught up again. */
  async reportChatBacklog(chatId: string, events: number): Promise<void> {
    this.#backlog.report(chatId, events, Date.now());
  }

  /**
   * `/healthz`'s round trip: answering proves the object is constructed (configuration
   * parsed, tables opened) and reachable; the answer is the chats' D1 backlog.
   */
  async chatBacklog(): Promise<ChatBacklog> {
    return this.#backlog.total();
  }

  // ── Entry points: sockets (Hibernation API) ─────────────────────────────────

  override async fetch(request: Request): Promise<Response> {
    const parsed = dispatcherAgent.safeParse(safeJson(request.headers.get(PARTICIPANT_HEADER)));
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !parsed.success) {
      return Response.json(
        { error: { code: "bad_request", message: "Expected an agent socket." } },
        { status: 400 },
      );
    }
    const agent = parsed.data;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [agent.id]);
    server.serializeAttachment({
      agentId: agent.id,
      sessionId: agent.sessionId,
      canAccept: agent.permissions.includes(DISPATCHER_ACTIONS.accept),
      ip: agent.ip,
      userAgent: agent.userAgent,
    } satisfies ConsoleAttachment);
    this.#state.upsertAgent(agent);
    this.#handoffs.returned(agent.id);
    await this.#due.schedule("sessions", Date.now() + SESSION_CHECK_MS);
    this.#sendStatus(agent.id);
    sendConsole(server, { type: "queue", chats: this.#router.queueFor(agent.id) });
    await this.#router.route();
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "Sec-WebSocket-Protocol": SUBPROTOCOL },
    });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const { agentId, sessionId } = attachmentOf(ws);
    const parsed = parseFrame(dispatcherClientFrame, data);
    if (!parsed.ok)
      return sendConsole(ws, { type: "error", code: parsed.code, message: parsed.message });
    const frame = parsed.frame;
    this.#activity.touch(sessionId);
    const needed = DISPATCHER_ACTIONS[frame.type];
    if (needed) {
      const { allowed, changed } = await this.#access.permits(ws, needed, frame);
      if (changed) await this.#router.route();
      if (!allowed) return;
    }
    switch (frame.type) {
      case "status":
        return this.#onStatus(agentId, frame.status);
      case "accept":
        return this.#onAccept(ws, agentId, frame.chatId);
      case "refuse":
        return this.#onRefuse(ws, agentId, frame.chatId);
      case "accept_invitation":
        return this.#handoffs.acceptInvitation(ws, attachmentOf(ws), frame.chatId);
      case "decline_invitation":
        return this.#handoffs.declineInvitation(ws, attachmentOf(ws), frame.chatId);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Reciprocate the close (the runtime does not do it for hibernatable sockets).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
    await this.#onDisconnect(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#onDisconnect(ws);
  }

  /**
   * Runs due items: offer and invitation timeouts, overflow, requeueing the chats of agents
   * who did not come back, and the check of agents' sessions. Idempotent.
   */
  override async alarm(): Promise<void> {
    for (const item of this.#due.due(Date.now())) {
      if (item === "offers") await this.#router.expireOffers();
      else if (item === "overflow") await this.#router.overflow();
      else if (item === "invitations") await this.#handoffs.expireInvitations();
      else if (item === "departures") await this.#handoffs.requeueDeparted();
      else if (item === "sessions") await this.#checkSessions();
    }
    await this.#due.rearm();
  }

  // ── Socket handlers ─────────────────────────────────────────────────────────

  async #onStatus(agentId: string, status: "online" | "away"): Promise<void> {
    this.#state.setStatus(agentId, status);
    if (status === "away") {
      for (const entry of this.#state.queue()) {
        if (entry.offeredTo === agentId) this.#router.withdraw(entry, "expired");
      }
    }
    this.#sendStatus(agentId);
    await this.#router.route();
  }

  async #onAccept(ws: WebSocket, agentId: string, chatId: string): Promise<void> {
    const entry = this.#state.queued(chatId);
    const agent = this.#state.agent(agentId);
    const pickable =
      entry !== null &&
      agent !== null &&
      (entry.offeredTo === agentId ||
        (entry.offeredTo === null && agent.departments.includes(entry.department)));
    if (!entry || !agent || !pickable) {
      return sendConsole(ws, {
        type: "error",
        code: "not_offered",
        message: "This chat is not offered to you.",
      });
    }
    const ownOffer = entry.offeredTo === agentId ? 1 : 0;
    if (
      this.#state.activeChats(agentId) + this.#state.pendingOffers(agentId) - ownOffer >=
      agent.capacity
    ) {
      return sendConsole(ws, {
        type: "error",
        code: "at_capacity",
        message: "You are at your chat limit.",
      });
    }
    // Claim the chat before the first await: D1 I/O lets other events run (an offer alarm,
    // another accept, the chat ending), and they must find the chat already taken. A
    // transferred chat changes owner in one step: it never has none.
    const now = Date.now();
    const previous = entry.transferFrom;
    this.#state.dequeue(chatId);
    this.#state.assign(chatId, agentId, now);
    let stored = true;
    try {
      // The Worker checks the owner in D1 when the agent opens the chat socket.
      if (previous) {
        const to = { from: previous, to: agentId, department: entry.department };
        stored = await transferChat(this.env.DB, chatId, to);
      } else {
        await assignChat(this.env.DB, chatId, agentId, entry.department, now);
      }
    } catch (error) {
      console.error(`[parley] dispatcher: assigning chat ${chatId} failed`, error);
      stored = false;
    }
    // The chat may have ended while D1 answered: chatEnded() then removed the assignment.
    const stillOurs = this.#state.assignee(chatId) === agentId;
    if (!stored) {
      if (stillOurs) {
        this.#state.unassign(chatId);
        if (previous) this.#state.assign(chatId, previous, now);
        this.#state.setLastAssignedAt(agentId, agent.lastAssignedAt);
        this.#state.enqueue(entry);
        this.#state.saveDeclines(entry);
        this.#state.setOffer(chatId, entry.offeredTo, entry.offerExpiresAt);
      }
      sendConsole(ws, { type: "error", code: "unavailable", message: "Try again in a moment." });
    } else if (!stillOurs) {
      this.#sendToAgent(agentId, { type: "offer_withdrawn", chatId, reason: "ended" });
    } else {
      this.#sendToAgent(agentId, { type: "assigned", chatId });
      if (previous) {
        const name = agent.name;
        this.ctx.waitUntil(this.#handoffs.transferred(entry, { id: agentId, name }));
      } else {
        this.ctx.waitUntil(this.#notifyAssigned(chatId, entry.department));
      }
      await this.#access.audit(attachmentOf(ws), {
        action: "chat.accept",
        target: chatId,
        outcome: "success",
        department: entry.department,
        ...(previous ? { details: { transferFrom: previous } } : {}),
      });
    }
    this.#sendStatus(agentId);
    await this.#router.route();
  }

  async #onRefuse(ws: WebSocket, agentId: string, chatId: string): Promise<void> {
    const entry = this.#state.queued(chatId);
    if (!entry || entry.offeredTo !== agentId) return;
    entry.refusedBy = [...new Set([...entry.refusedBy, agentId])];
    this.#state.saveDeclines(entry);
    this.#router.withdraw(entry, "refused");
    await this.#router.route();
    await this.#access.audit(attachmentOf(ws), {
      action: "chat.refuse",
      target: chatId,
      outcome: "success",
      department: entry.department,
    });
  }

  async #onDisconnect(ws: WebSocket): Promise<void> {
    const { agentId } = attachmentOf(ws);
    if (this.#socketsOf(agentId, ws).length > 0) return;
    // The agent's last socket is gone: their pending offers go to someone else, and their
    // chats wait for them for the reconnect grace period before they are requeued.
    for (const entry of this.#state.queue()) {
      if (entry.offeredTo === agentId) this.#router.withdraw(entry, "expired");
    }
    await this.#handoffs.departed(agentId);
    await this.#router.route();
  }

  // ── Routing ─────────────────────────────────────────────────────────────────

  /** Re-reads connected agents' capacities (`max_chats`, else AGENT_MAX_CHATS) from D1. */
  async #refreshCapacities(): Promise<void> {
    const ids = this.#state.agents().map((agent) => agent.id);
    const capacities = await agentCapacities(this.env.DB, ids);
    for (const [agentId, maxChats] of capacities) {
      if (this.#state.setCapacity(agentId, maxChats ?? this.#config.agentMaxChats)) {
        this.#sendStatus(agentId);
      }
    }
  }

  /**
   * Closes console sockets whose session ended and refreshes who may receive offers; checks
   * again while any agent is connected.
   */
  async #checkSessions(): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    await this.#activity.closeEnded(sockets.map((ws) => [ws, attachmentOf(ws).sessionId]));
    if (await this.#access.refresh(sockets)) await this.#router.route();
    if (sockets.length > 0) await this.#due.reschedule("sessions", Date.now() + SESSION_CHECK_MS);
    else await this.#due.cancel("sessions");
  }

  /** Tells the ChatSession its chat was taken (and in which department, after overflow). */
  async #notifyAssigned(chatId: string, department: string): Promise<void> {
    try {
      await getChatSession(this.env, chatId).assigned(department);
    } catch (error) {
      console.error(`[parley] dispatcher: assignment notice for chat ${chatId} failed`, error);
    }
  }

  #sendStatus(agentId: string): void {
    const agent = this.#state.agent(agentId);
    if (!agent) return;
    this.#sendToAgent(agentId, {
      type: "status",
      status: agent.status,
      activeChats: this.#state.activeChats(agentId),
      capacity: agent.capacity,
    });
  }

  #socketsOf(agentId: string, except?: WebSocket): WebSocket[] {
    return this.ctx
      .getWebSockets(agentId)
      .filter((ws) => ws !== except && ws.readyState === WebSocket.READY_STATE_OPEN);
  }

  #sendToAgent(agentId: string, frame: DispatcherServerFrame): void {
    for (const ws of this.#socketsOf(agentId)) sendConsole(ws, frame);
  }
}
