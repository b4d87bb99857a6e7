/**
 * Dispatcher — one per deployment: agents' presence, capacity, the waiting queue, routing
 * and offers. Uses the Hibernation API (`ctx.acceptWebSocket`): agents stay connected for
 * hours, mostly idle, and a hibernated object costs nothing. All state is in SQLite (see
 * dispatcher-state.ts); socket attachments carry the agent's id, session and whether they may
 * receive offers (console-access.ts checks permissions).
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { parseConfig } from "../src/config.ts";
import {
  type DispatcherServerFrame,
  dispatcherClientFrame,
  type OfferWithdrawnReason,
  type QueuedChat,
  type VisitorSummary,
} from "../src/protocol/dispatcher-frames.ts";
import { SUBPROTOCOL } from "../src/protocol/limits.ts";
import { parseFrame, safeJson } from "../src/protocol/parse-frame.ts";
import { DISPATCHER_ACTIONS } from "../src/security/action-permissions.ts";
import { assignChat } from "../src/store/chats.ts";
import type { Env } from "../worker/env.ts";
import { getChatSession } from "./chat-session.ts";
import {
  attachmentOf,
  ConsoleAccess,
  type ConsoleAttachment,
  sendConsole,
} from "./console-access.ts";
import { DispatcherState, type QueueEntry } from "./dispatcher-state.ts";
import { DueItems } from "./due-items.ts";
import { PARTICIPANT_HEADER } from "./participant.ts";
import { type Candidate, pickAgent } from "./routing.ts";
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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#state = new DispatcherState(ctx.storage.sql);
    this.#due = new DueItems(ctx.storage);
    this.#access = new ConsoleAccess({
      env,
      socketsOf: (agentId) => this.#socketsOf(agentId),
      withdrawOffers: (agentId) => {
        let any = false;
        for (const entry of this.#state.queue()) {
          if (entry.offeredTo !== agentId) continue;
          this.#withdraw(entry, "expired");
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
   * department is online (the visitor then gets the offline-message form).
   */
  async enqueue(chat: {
    chatId: string;
    department: string;
    visitor: VisitorSummary;
    createdAt: number;
  }): Promise<EnqueueResult> {
    const online = this.#candidates().some(
      (agent) => agent.online && agent.departments.includes(chat.department),
    );
    if (!online) return { offline: true };
    this.#state.enqueue(chat);
    await this.#route();
    const position = this.#state.positions().get(chat.chatId) ?? 1;
    this.#state.setNotifiedPosition(chat.chatId, position);
    return { queued: true, position };
  }

  /** A chat ended: free its agent's capacity, or drop it from the queue. */
  async chatEnded(chatId: string): Promise<void> {
    const entry = this.#state.queued(chatId);
    if (entry?.offeredTo) this.#withdraw(entry, "ended");
    this.#state.dequeue(chatId);
    const agentId = this.#state.unassign(chatId);
    if (agentId) this.#sendStatus(agentId);
    await this.#route();
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
    await this.#due.schedule("sessions", Date.now() + SESSION_CHECK_MS);
    this.#sendStatus(agent.id);
    sendConsole(server, { type: "queue", chats: this.#queueFor(agent.id) });
    await this.#route();
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
      if (changed) await this.#route();
      if (!allowed) return;
    }
    switch (frame.type) {
      case "status":
        return this.#onStatus(agentId, frame.status);
      case "accept":
        return this.#onAccept(ws, agentId, frame.chatId);
      case "refuse":
        return this.#onRefuse(ws, agentId, frame.chatId);
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

  /** Runs due items: offer timeouts and the check of agents' sessions. Idempotent. */
  override async alarm(): Promise<void> {
    for (const item of this.#due.due(Date.now())) {
      if (item === "offers") await this.#expireOffers();
      else if (item === "sessions") await this.#checkSessions();
    }
    await this.#due.rearm();
  }

  /** Each expired offer goes to the next agent. */
  async #expireOffers(): Promise<void> {
    const now = Date.now();
    for (const entry of this.#state.queue()) {
      if (entry.offeredTo && entry.offerExpiresAt !== null && entry.offerExpiresAt <= now) {
        entry.expiredFor = [...new Set([...entry.expiredFor, entry.offeredTo])];
        this.#state.saveDeclines(entry);
        this.#withdraw(entry, "expired");
      }
    }
    await this.#route();
  }

  // ── Socket handlers ─────────────────────────────────────────────────────────

  async #onStatus(agentId: string, status: "online" | "away"): Promise<void> {
    this.#state.setStatus(agentId, status);
    if (status === "away") {
      for (const entry of this.#state.queue()) {
        if (entry.offeredTo === agentId) this.#withdraw(entry, "expired");
      }
    }
    this.#sendStatus(agentId);
    await this.#route();
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
    // another accept, the chat ending), and they must find the chat already taken.
    const now = Date.now();
    this.#state.dequeue(chatId);
    this.#state.assign(chatId, agentId, now);
    let stored = true;
    try {
      // The Worker checks the assignment in D1 when the agent opens the chat socket.
      await assignChat(this.env.DB, chatId, agentId, now);
    } catch (error) {
      console.error(`[parley] dispatcher: assigning chat ${chatId} failed`, error);
      stored = false;
    }
    // The chat may have ended while D1 answered: chatEnded() then removed the assignment.
    const stillOurs = this.#state.assignee(chatId) === agentId;
    if (!stored) {
      if (stillOurs) {
        this.#state.unassign(chatId);
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
      this.ctx.waitUntil(this.#notifyChat(chatId, null));
      await this.#access.audit(attachmentOf(ws), {
        action: "chat.accept",
        target: chatId,
        outcome: "success",
        department: entry.department,
      });
    }
    this.#sendStatus(agentId);
    await this.#route();
  }

  async #onRefuse(ws: WebSocket, agentId: string, chatId: string): Promise<void> {
    const entry = this.#state.queued(chatId);
    if (!entry || entry.offeredTo !== agentId) return;
    entry.refusedBy = [...new Set([...entry.refusedBy, agentId])];
    this.#state.saveDeclines(entry);
    this.#withdraw(entry, "refused");
    await this.#route();
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
    // The agent's last socket is gone: their pending offers go to someone else.
    for (const entry of this.#state.queue()) {
      if (entry.offeredTo === agentId) this.#withdraw(entry, "expired");
    }
    await this.#route();
  }

  // ── Routing ─────────────────────────────────────────────────────────────────

  /** Offers every waiting chat without a live offer, then re-arms the offer-timeout alarm. */
  async #route(): Promise<void> {
    const timeout = parseConfig(this.env as unknown as Record<string, unknown>).offerTimeoutMs;
    for (const entry of this.#state.queue()) {
      if (entry.offeredTo) continue;
      const agentId = pickAgent(this.#candidates(), entry);
      if (!agentId) continue;
      const expiresAt = Date.now() + timeout;
      this.#state.setOffer(entry.chatId, agentId, expiresAt);
      this.#sendToAgent(agentId, {
        type: "offer",
        chatId: entry.chatId,
        visitor: entry.visitor,
        expiresAt,
      });
    }
    this.#broadcastQueue();
    await this.#notifyPositions();
    const next = this.#state.nextOfferExpiry();
    if (next === null) await this.#due.cancel("offers");
    else await this.#due.reschedule("offers", next);
  }

  /**
   * Closes console sockets whose session ended and refreshes who may receive offers; checks
   * again while any agent is connected.
   */
  async #checkSessions(): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    await this.#activity.closeEnded(sockets.map((ws) => [ws, attachmentOf(ws).sessionId]));
    if (await this.#access.refresh(sockets)) await this.#route();
    if (sockets.length > 0) await this.#due.reschedule("sessions", Date.now() + SESSION_CHECK_MS);
    else await this.#due.cancel("sessions");
  }

  #candidates(): Candidate[] {
    return this.#state.agents().map((agent) => ({
      id: agent.id,
      departments: agent.departments,
      capacity: agent.capacity,
      load: this.#state.activeChats(agent.id) + this.#state.pendingOffers(agent.id),
      lastAssignedAt: agent.lastAssignedAt,
      online:
        agent.status === "online" &&
        this.#socketsOf(agent.id).some((ws) => attachmentOf(ws).canAccept),
    }));
  }

  #withdraw(entry: QueueEntry, reason: OfferWithdrawnReason): void {
    if (!entry.offeredTo) return;
    this.#state.setOffer(entry.chatId, null, null);
    this.#sendToAgent(entry.offeredTo, { type: "offer_withdrawn", chatId: entry.chatId, reason });
    entry.offeredTo = null;
  }

  #queueFor(agentId: string): QueuedChat[] {
    // Waiting visitors' details are for agents who may take them.
    if (!this.#socketsOf(agentId).some((ws) => attachmentOf(ws).canAccept)) return [];
    const departments = this.#state.agent(agentId)?.departments ?? [];
    const positions = this.#state.positions();
    return this.#state
      .queue()
      .filter((entry) => departments.includes(entry.department))
      .map((entry) => ({
        chatId: entry.chatId,
        department: entry.department,
        visitor: entry.visitor,
        waitingSince: entry.createdAt,
        position: positions.get(entry.chatId) ?? 0,
      }));
  }

  #broadcastQueue(): void {
    for (const ws of this.ctx.getWebSockets()) {
      const { agentId } = attachmentOf(ws);
      sendConsole(ws, { type: "queue", chats: this.#queueFor(agentId) });
    }
  }

  /** Tells each waiting visitor's ChatSession about a changed queue position. */
  async #notifyPositions(): Promise<void> {
    for (const [chatId, position] of this.#state.positions()) {
      const entry = this.#state.queued(chatId);
      if (!entry || entry.notifiedPosition === position) continue;
      this.#state.setNotifiedPosition(chatId, position);
      this.ctx.waitUntil(this.#notifyChat(chatId, position));
    }
  }

  async #notifyChat(chatId: string, position: number | null): Promise<void> {
    try {
      await getChatSession(this.env, chatId).notifyQueuePosition(position);
    } catch (error) {
      // Advisory only: the visitor simply sees the position a little later or not at all.
      console.error(`[parley] dispatcher: queue notice for chat ${chatId} failed`, error);
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
