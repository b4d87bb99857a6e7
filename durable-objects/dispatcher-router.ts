/**
 * Routing for the Dispatcher: offers waiting chats to agents under each department's rules
 * (strategy, offer timeout, overflow), takes offers back, and keeps agents' queue lists and
 * visitors' queue positions current. The Dispatcher owns the sockets and the entry points.
 */
import type { Config } from "../src/config.ts";
import type {
  DispatcherServerFrame,
  HandoffOutcome,
  OfferWithdrawnReason,
  QueuedChat,
} from "../src/protocol/dispatcher-frames.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import type { Env } from "../worker/env.ts";
import { getChatSession } from "./chat-session.ts";
import { attachmentOf, sendConsole } from "./console-access.ts";
import type { DispatcherState, QueueEntry } from "./dispatcher-state.ts";
import type { DueItems } from "./due-items.ts";
import { type Candidate, pickAgent } from "./routing.ts";
import { RoutingRulesCache } from "./routing-rules-cache.ts";

/** What routing needs from the Dispatcher. */
export interface RouterHost {
  env: Env;
  config: Config;
  state: DispatcherState;
  due: DueItems;
  /** Every console socket, and an agent's open ones. */
  sockets: () => WebSocket[];
  socketsOf: (agentId: string) => WebSocket[];
  send: (agentId: string, frame: DispatcherServerFrame) => void;
  waitUntil: (promise: Promise<unknown>) => void;
  transferEnded: (entry: QueueEntry, outcome: HandoffOutcome) => void;
  auditSystem: (
    entry: Pick<AuditEntry, "action" | "target" | "outcome" | "details" | "department">,
  ) => Promise<void>;
}

export class Router {
  readonly #host: RouterHost;
  /** The routing rules, cached from D1. */
  readonly rules: RoutingRulesCache;

  constructor(host: RouterHost) {
    this.#host = host;
    this.rules = new RoutingRulesCache(host.env.DB);
  }

  /** Waiting chats past their department's overflow time move to the overflow department. */
  async overflow(): Promise<void> {
    await this.rules.refresh();
    const now = Date.now();
    for (const entry of this.#host.state.queue()) {
      if (entry.transferFrom) continue;
      const overflow = this.rules.overflow(entry.department, entry.enteredAt, entry.overflowedFrom);
      if (!overflow || overflow.at > now) continue;
      this.withdraw(entry, "expired");
      this.#host.state.moveToDepartment(entry, overflow.to, now);
      await this.#host.auditSystem({
        action: "chat.overflow",
        target: entry.chatId,
        outcome: "success",
        department: overflow.to,
        details: { from: entry.department, to: overflow.to },
      });
    }
    await this.route();
  }

  /** Each expired offer goes to the next agent. */
  async expireOffers(): Promise<void> {
    const now = Date.now();
    for (const entry of this.#host.state.queue()) {
      if (entry.offeredTo && entry.offerExpiresAt !== null && entry.offerExpiresAt <= now) {
        entry.expiredFor = [...new Set([...entry.expiredFor, entry.offeredTo])];
        this.#host.state.saveDeclines(entry);
        this.withdraw(entry, "expired");
      }
    }
    await this.route();
  }

  /**
   * Offers every waiting chat without a live offer under its department's rules, then
   * re-arms the offer-timeout and overflow alarms.
   */
  async route(): Promise<void> {
    // Before reading any state: this may await D1, and other events may run meanwhile.
    await this.rules.refresh();
    for (const entry of this.ordered()) {
      // A transfer to one agent is offered to them alone, once (dispatcher-handoffs.ts).
      if (entry.offeredTo || entry.transferTo) continue;
      const strategy = this.rules.strategy(entry.department);
      const agentId = pickAgent(this.candidates(), { ...entry, strategy });
      if (!agentId) continue;
      this.#offer(entry, agentId);
    }
    this.#broadcastQueue();
    await this.#notifyPositions();
    await this.#scheduleAt("offers", this.#host.state.nextOfferExpiry());
    await this.#scheduleAt("overflow", this.#nextOverflow());
  }

  /** Offers a waiting chat to one agent until the department's offer timeout. */
  #offer(entry: QueueEntry, agentId: string): void {
    const expiresAt = Date.now() + this.offerTimeoutMs(entry.department);
    this.#host.state.setOffer(entry.chatId, agentId, expiresAt);
    const from = entry.transferFrom ? this.#host.state.agent(entry.transferFrom) : null;
    this.#host.send(agentId, {
      type: "offer",
      chatId: entry.chatId,
      visitor: entry.visitor,
      expiresAt,
      ...(entry.transferFrom
        ? { transfer: { from: { id: entry.transferFrom, name: from?.name ?? "" } } }
        : {}),
    });
  }

  offerTimeoutMs(department: string): number {
    return this.rules.offerTimeoutMs(department, this.#host.config.offerTimeoutMs);
  }

  /** The earliest time a waiting chat overflows, or null. */
  #nextOverflow(): number | null {
    let next: number | null = null;
    for (const entry of this.#host.state.queue()) {
      if (entry.transferFrom) continue;
      const at = this.rules.overflow(entry.department, entry.enteredAt, entry.overflowedFrom)?.at;
      if (at !== undefined && (next === null || at < next)) next = at;
    }
    return next;
  }

  async #scheduleAt(item: string, at: number | null): Promise<void> {
    if (at === null) await this.#host.due.cancel(item);
    else await this.#host.due.reschedule(item, at);
  }

  candidates(): Candidate[] {
    return this.#host.state.agents().map((agent) => ({
      id: agent.id,
      departments: agent.departments,
      capacity: agent.capacity,
      load: this.#host.state.activeChats(agent.id) + this.#host.state.pendingOffers(agent.id),
      lastAssignedAt: agent.lastAssignedAt,
      online:
        agent.status === "online" &&
        this.#host.socketsOf(agent.id).some((ws) => attachmentOf(ws).canAccept),
    }));
  }

  withdraw(entry: QueueEntry, reason: OfferWithdrawnReason): void {
    if (!entry.offeredTo) return;
    this.#host.state.setOffer(entry.chatId, null, null);
    this.#host.send(entry.offeredTo, { type: "offer_withdrawn", chatId: entry.chatId, reason });
    entry.offeredTo = null;
    // A transfer to one agent who did not take it is over: the owner keeps the chat.
    if (entry.transferTo && reason !== "ended") {
      this.#host.state.dequeue(entry.chatId);
      this.#host.transferEnded(entry, reason);
    }
  }

  /**
   * The queue in serving order: in each department, chats of visitors in one of its priority
   * segments first, then oldest first.
   */
  ordered(): QueueEntry[] {
    const first = (entry: QueueEntry) => {
      const wanted = this.rules.prioritySegments(entry.department);
      return entry.visitor.segments?.some((id) => wanted.includes(id)) ? 0 : 1;
    };
    // Array.prototype.sort is stable: the oldest-first order holds within each rank.
    return this.#host.state.queue().sort((a, b) => first(a) - first(b));
  }

  /** Visitors' queue positions, in serving order. */
  positions(): Map<string, number> {
    return this.#host.state.positions(this.ordered());
  }

  queueFor(agentId: string): QueuedChat[] {
    // Waiting visitors' details are for agents who may take them.
    if (!this.#host.socketsOf(agentId).some((ws) => attachmentOf(ws).canAccept)) return [];
    const departments = this.#host.state.agent(agentId)?.departments ?? [];
    const ordered = this.ordered();
    const positions = this.#host.state.positions(ordered);
    return ordered
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
    for (const ws of this.#host.sockets()) {
      const { agentId } = attachmentOf(ws);
      sendConsole(ws, { type: "queue", chats: this.queueFor(agentId) });
    }
  }

  /** Tells each waiting visitor's ChatSession about a changed queue position. */
  async #notifyPositions(): Promise<void> {
    for (const [chatId, position] of this.positions()) {
      const entry = this.#host.state.queued(chatId);
      if (!entry || entry.notifiedPosition === position) continue;
      this.#host.state.setNotifiedPosition(chatId, position);
      this.#host.waitUntil(this.#notifyChat(chatId, position));
    }
  }

  async #notifyChat(chatId: string, position: number): Promise<void> {
    try {
      await getChatSession(this.#host.env, chatId).notifyQueuePosition(position);
    } catch (error) {
      // Advisory only: the visitor simply sees the position a little later or not at all.
      console.error(`[parley] dispatcher: queue notice for chat ${chatId} failed`, error);
    }
  }
}
