/**
 * ChatSession — one Durable Object per chat: the sockets of the visitor and agents, the
 * ordered event log, and who receives what. Helpers: chat-sockets (the open sockets and who
 * receives what), chat-persistence (flush to D1, the erase of an ended chat's copy), chat-desk
 * (transfer, invite, leave), secure-forms, agent-socket-watch (session and monitor checks);
 * chat-erase erases copies from outside.
 *
 * Sockets are accepted the standard way (`ws.accept()`), not through the Hibernation API:
 * an object with open standard sockets stays resident, so memory-only state (the secure
 * form's values) survives idle minutes. Everything that must survive eviction lives in
 * SQLite storage and is rebuilt in the constructor.
 */
import { DurableObject } from "cloudflare:workers";
import { type Config, parseConfig } from "../src/config.ts";
import {
  type ChatClientFrame,
  type ChatEvent,
  chatClientFrameFor,
} from "../src/protocol/chat-frames.ts";
import type { AgentRef } from "../src/protocol/dispatcher-frames.ts";
import { SUBPROTOCOL } from "../src/protocol/limits.ts";
import { parseFrame } from "../src/protocol/parse-frame.ts";
import { CHAT_ACTIONS } from "../src/security/action-permissions.ts";
import type { Permission } from "../src/security/permissions.ts";
import { TokenBuckets } from "../src/security/token-bucket.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import { accessOf } from "../src/store/grants.ts";
import type { Env } from "../worker/env.ts";
import { AgentSocketWatch } from "./agent-socket-watch.ts";
import { appendAudit } from "./audit-log.ts";
import { ChatDesk } from "./chat-desk.ts";
import { send, sendError, sender } from "./chat-frames-out.ts";
import { ChatMeta, type ChatMetaInit } from "./chat-meta.ts";
import { ChatPersistence } from "./chat-persistence.ts";
import { ChatSockets, type Connection, receives } from "./chat-sockets.ts";
import { DueItems } from "./due-items.ts";
import { EventLog } from "./event-log.ts";
import { admitParticipant, type ParticipantIdentity } from "./participant.ts";
import { SecureForms } from "./secure-forms.ts";
import { SessionActivity } from "./session-activity.ts";

/** An ended chat whose copy in D1 is not complete yet tries its erase again this much later. */
const ERASE_RETRY_MS = 60 * 60_000;
/** RATE_MESSAGES_PER_SOCKET_PER_10S counts frames over this period. */
const FRAME_RATE_PERIOD_MS = 10_000;

export class ChatSession extends DurableObject<Env> {
  readonly #log: EventLog;
  readonly #meta: ChatMeta;
  readonly #due: DueItems;
  readonly #sockets = new ChatSockets();
  readonly #activity: SessionActivity;
  readonly #agentWatch: AgentSocketWatch;
  readonly #config: Config;
  /** Memory only: gone with the object, by design. */
  readonly #forms: SecureForms;
  /**
   * Frames each participant may send: a token bucket per participant, in memory. Keyed by
   * participant rather than by socket, so reconnecting does not refill it.
   */
  readonly #frameBudget: TokenBuckets;
  readonly #desk: ChatDesk;
  readonly #persistence: ChatPersistence;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = parseConfig(env as unknown as Record<string, unknown>);
    this.#log = new EventLog(ctx.storage.sql);
    this.#meta = new ChatMeta(ctx.storage.sql);
    this.#due = new DueItems(ctx.storage);
    this.#persistence = new ChatPersistence({
      env,
      log: this.#log,
      meta: this.#meta,
      due: this.#due,
      waitUntil: (promise) => ctx.waitUntil(promise),
      endedCopyMs: this.#config.visitorTokenSeconds * 1000,
    });
    this.#frameBudget = new TokenBuckets(
      this.#config.rateLimits.messagesPerSocketPer10s,
      FRAME_RATE_PERIOD_MS,
    );
    this.#forms = new SecureForms({
      db: env.DB,
      log: this.#log,
      due: this.#due,
      ttlMs: this.#config.secureFormTtlMs,
      append: (event) => this.#append(event),
      audit: (conn, action, outcome, details) => this.#audit(conn, action, outcome, details),
    });
    this.#desk = new ChatDesk({
      env,
      meta: this.#meta,
      append: (event) => this.#append(event),
      closeAgent: (agentId, reason) => this.#sockets.closeAgent(agentId, reason),
      audit: (conn, action, outcome, details) => this.#audit(conn, action, outcome, details),
    });
    const limits = {
      idleMs: this.#config.sessionIdleMs,
      absoluteMs: this.#config.sessionAbsoluteMs,
    };
    this.#activity = new SessionActivity(env.DB, limits, (promise) => ctx.waitUntil(promise));
    this.#agentWatch = new AgentSocketWatch({
      db: env.DB,
      activity: this.#activity,
      agentSockets: () => this.#sockets.agents(),
      department: () => this.#meta.department ?? "",
      forget: (ws) => this.#sockets.forget(ws),
      waitUntil: (promise) => ctx.waitUntil(promise),
    });
  }

  // ── Entry points ────────────────────────────────────────────────────────────

  /** Called by the Worker when the chat is created. Idempotent. */
  async init(meta: ChatMetaInit): Promise<void> {
    this.#meta.init(meta);
  }

  /** Called by the Worker when nobody could take the chat: nothing of it is kept here. */
  async discard(): Promise<void> {
    if (this.#log.lastSeq > 0) return; // a chat that has begun is never thrown away
    this.#meta.clear();
    await this.ctx.storage.deleteAlarm();
  }

  /**
   * Called when the chat's transcript was deleted from D1 (and by the alarm, once D1 holds the
   * whole chat and no visitor token can ask for a replay): the events, participants and meta
   * kept here go too, so a deletion or a retention purge leaves no copy behind. Sockets close
   * with 1000 and the object then answers 404 like an unknown chat. An open chat is never
   * erased: false. Erasing again (or an object that never held the chat) only clears what
   * is left, its alarm included.
   */
  async erase(): Promise<boolean> {
    if (this.#meta.exists && !this.#meta.ended) return false;
    await this.#persistence.forget();
    this.#sockets.closeAll("chat erased");
    this.#log.clear();
    this.#meta.clear();
    await this.#due.clear();
    return true;
  }

  /** Called by the Dispatcher when the visitor's place in the queue changes. */
  async notifyQueuePosition(position: number | null): Promise<void> {
    this.#meta.setQueuePosition(position);
    if (position !== null) this.#sockets.queuePosition(position);
  }

  /** Called by the Dispatcher when an agent took the chat from the queue of `department`. */
  async assigned(department: string): Promise<void> {
    this.#meta.setDepartment(department);
    this.#meta.setQueuePosition(null);
  }

  /** Called by the Dispatcher when a transfer was accepted. */
  async ownerChanged(change: {
    previous: string;
    owner: AgentRef;
    department: string;
    reason: "agent" | "department";
  }): Promise<void> {
    if (!this.#meta.ended) this.#desk.ownerChanged(change);
  }

  /** Called by the Dispatcher when the owner went offline and the chat waits again. */
  async requeued(agentId: string): Promise<void> {
    if (!this.#meta.ended) this.#desk.requeued(agentId);
  }

  /** A WebSocket upgrade forwarded by the Worker after it authenticated the caller. */
  override async fetch(request: Request): Promise<Response> {
    const identity = admitParticipant(request, this.#meta);
    if (identity instanceof Response) return identity;
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    this.#sockets.add(server, identity);
    if (identity.role === "agent") this.#agentWatch.agentConnected();
    server.addEventListener("message", (event) => this.#onMessage(server, event.data));
    server.addEventListener("close", (event) => this.#onClose(server, event.code));
    server.addEventListener("error", () => this.#onClose(server, 1011));
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "Sec-WebSocket-Protocol": SUBPROTOCOL },
    });
  }

  /** Runs due items: D1 flush retries and the end-of-chat bookkeeping. */
  override async alarm(): Promise<void> {
    for (const item of this.#due.due(Date.now())) {
      if (item === "flush") await this.#persistence.retry();
      else if (item === "finalize") await this.#persistence.finalize();
      else if (item === "secure_form") await this.#forms.wipeExpired();
      else if (item === "erase") await this.#eraseOwnCopy();
      // An item this version no longer schedules (objects from before session checks moved
      // to memory kept a "sessions" row): left in place, it would fire the alarm forever.
      else await this.#due.cancel(item);
    }
    await this.#due.rearm();
  }

  /**
   * The alarm's erase: once D1 holds the whole chat, else an hour later. A chat erased meanwhile
   * (a deletion while the alarm ran) has nothing left but the item itself.
   */
  async #eraseOwnCopy(): Promise<void> {
    if (!this.#meta.exists || this.#persistence.copied) await this.erase();
    else await this.#due.reschedule("erase", Date.now() + ERASE_RETRY_MS);
  }

  // ── Socket handlers ─────────────────────────────────────────────────────────

  #onMessage(ws: WebSocket, data: string | ArrayBuffer): void {
    const conn = this.#sockets.get(ws);
    if (!conn) return;
    const parsed = parseFrame(chatClientFrameFor(this.#config.cardMasking), data);
    // Every frame counts, bad ones too, except a connection's first hello: a client that
    // flooded, then reconnected, can still resume.
    if (!(parsed.ok && parsed.frame.type === "hello" && !conn.greeted)) {
      const budget = this.#frameBudget.take(`${conn.role}:${conn.id}`, Date.now());
      if (!budget.allowed) {
        const wait = budget.retryAfterSeconds;
        sendError(ws, "rate_limited", `Too many messages; wait ${wait} s and send again.`);
        return;
      }
    }
    if (!parsed.ok) {
      sendError(ws, parsed.code, parsed.message);
    } else if (parsed.frame.type === "hello") {
      this.#onHello(ws, conn, parsed.frame.lastSeq);
    } else if (!conn.greeted) {
      sendError(ws, "hello_required", "Send hello first.");
    } else if (this.#meta.ended && parsed.frame.type === "secure_form.view") {
      this.ctx.waitUntil(this.#forms.viewAfterEnd(ws, conn, parsed.frame.requestId));
    } else if (this.#meta.ended) {
      sendError(ws, "chat_ended", "This chat has ended.");
    } else if (conn.mode === "monitor") {
      sendError(ws, "read_only", "Monitoring is read-only.");
    } else {
      const rule = CHAT_ACTIONS[parsed.frame.type];
      const needed = conn.role === "visitor" ? rule.visitor || false : rule.agent;
      if (needed === false) {
        sendError(ws, "not_allowed", `A ${conn.role} cannot send ${parsed.frame.type}.`);
      } else if (needed === null || needed === true) {
        // Only work the participant may do keeps their session alive.
        this.#activity.touch(conn.sessionId);
        this.#dispatch(ws, conn, parsed.frame);
      } else {
        this.ctx.waitUntil(this.#dispatchPermitted(ws, conn, needed, parsed.frame));
      }
    }
  }

  /**
   * Runs a frame that needs a permission, checked against D1 now: a grant withdrawn while
   * the socket is open stops the very next frame. A denial is an `error` and an audit row.
   */
  async #dispatchPermitted(
    ws: WebSocket,
    conn: Connection,
    needed: Permission,
    frame: Exclude<ChatClientFrame, { type: "hello" }>,
  ): Promise<void> {
    let held: Permission[];
    try {
      held = (await accessOf(this.env.DB, [conn.id])).get(conn.id)?.permissions ?? [];
    } catch (error) {
      console.error("[parley] chat: reading permissions failed", error);
      return sendError(ws, "unavailable", "Try again in a moment.");
    }
    if (!held.includes(needed)) {
      await this.#audit(conn, frame.type, "denied", { required: [needed] });
      return sendError(ws, "forbidden", "You do not have permission to do this.");
    }
    this.#activity.touch(conn.sessionId);
    this.#dispatch(ws, conn, frame);
  }

  #dispatch(ws: WebSocket, conn: Connection, frame: Exclude<ChatClientFrame, { type: "hello" }>) {
    switch (frame.type) {
      case "secure_form.request":
        this.ctx.waitUntil(this.#forms.request(conn, frame.fields));
        break;
      case "secure_form.submit":
        this.ctx.waitUntil(this.#forms.submit(ws, conn, frame.requestId, frame.values));
        break;
      case "secure_form.view":
        this.ctx.waitUntil(this.#forms.view(ws, conn, frame.requestId));
        break;
      case "message":
      case "whisper":
        this.#onChatMessage(ws, conn, frame.type, frame.clientId, frame.text);
        break;
      case "transfer": {
        const to = frame.agentId
          ? { agentId: frame.agentId }
          : { department: frame.department ?? "" };
        this.ctx.waitUntil(this.#desk.transfer(ws, conn, to));
        break;
      }
      case "invite":
        this.ctx.waitUntil(this.#desk.invite(ws, conn, frame.agentId));
        break;
      case "leave":
        this.ctx.waitUntil(this.#desk.leave(ws, conn));
        break;
      case "typing":
        this.#sockets.typing(ws, conn, frame.on);
        break;
      case "end":
        this.ctx.waitUntil(this.#onEnd(conn));
        break;
    }
  }

  /** Replays every event after `lastSeq`, in order, then streams live events. */
  #onHello(ws: WebSocket, conn: Connection, lastSeq: number): void {
    if (conn.greeted) {
      sendError(ws, "already_greeted", "hello was already received.");
      return;
    }
    conn.greeted = true;
    // Replay and the switch to live delivery happen in one synchronous turn, so no event
    // can fall between them (none is sent twice: live delivery only reaches greeted sockets).
    for (const event of this.#log.after(lastSeq)) {
      if (receives(conn, event.kind)) send(ws, { type: "event", ...event });
    }
    send(ws, { type: "ready", lastSeq: this.#log.lastSeq, status: this.#meta.status });
    if (this.#meta.ended) {
      ws.close(1000, "chat ended");
      return;
    }
    const position = this.#meta.queuePosition;
    if (conn.role === "visitor" && position !== null) send(ws, { type: "queue", position });
    if (conn.role === "agent" && conn.mode === "participate" && this.#meta.addParticipant(conn)) {
      this.#append({ kind: "joined", from: sender(conn) });
    }
  }

  #onChatMessage(
    ws: WebSocket,
    conn: Connection,
    kind: "message" | "whisper",
    clientId: string,
    text: string,
  ): void {
    const event = this.#log.appendOnce({ kind, from: sender(conn), text, clientId });
    // A resend of a message already stored (the ack was lost): ack again, store nothing.
    if (typeof event === "number") {
      send(ws, { type: "ack", clientId, seq: event });
      return;
    }
    send(ws, { type: "ack", clientId, seq: event.seq });
    this.#broadcast(event);
  }

  async #onEnd(conn: Connection): Promise<void> {
    const now = Date.now();
    this.#meta.markEnded(now);
    // Before anything awaits: from this moment no view can see the values.
    await this.#forms.wipeAll();
    this.#append({ kind: "ended", from: sender(conn), reason: conn.role });
    await this.#due.schedule("finalize", now);
    await this.#audit(conn, "chat.end", "success");
    await this.#persistence.flush();
    await this.#persistence.finalize();
    this.#sockets.closeAll("chat ended");
  }

  async #audit(
    conn: ParticipantIdentity,
    action: string,
    outcome: AuditEntry["outcome"],
    details?: Record<string, unknown>,
  ): Promise<void> {
    await appendAudit(this.env, {
      actorType: conn.role,
      actorId: conn.id,
      action,
      target: this.#meta.chatId,
      outcome,
      ip: conn.ip ?? null,
      userAgent: conn.userAgent ?? null,
      department: this.#meta.department,
      ...(details ? { details } : {}),
      at: Date.now(),
    });
  }

  #onClose(ws: WebSocket, code: number): void {
    this.#sockets.forget(ws);
    // Answer the client's close frame, so its close completes at once instead of waiting
    // for the connection to time out (and only then reconnecting).
    try {
      ws.close(code === 1005 || code === 1006 || code === 1011 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
  }

  // ── Events and persistence ──────────────────────────────────────────────────

  /** Stores an event and sends it to every greeted participant. */
  #append(event: Parameters<EventLog["append"]>[0]): ChatEvent {
    const stored = this.#log.append(event);
    this.#broadcast(stored);
    return stored;
  }

  /** Sends a stored event to whoever may see it, and has it copied to D1 soon. */
  #broadcast(event: ChatEvent): void {
    this.#sockets.broadcast(event);
    this.#persistence.scheduleFlush();
  }
}

/** The ChatSession of a chat. */
export function getChatSession(env: Env, chatId: string): DurableObjectStub<ChatSession> {
  return env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chatId));
}
