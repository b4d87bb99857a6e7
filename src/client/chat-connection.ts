/**
 * The chat-socket client shared by the widget and the console (DESIGN "Data flow" 5–6).
 *
 * - Greets with `hello {lastSeq}` on every (re)connection, so the server replays what was missed.
 * - Delivers each event once, in order: events at or below the last seen `seq` are dropped.
 * - Keeps sent-but-unconfirmed messages in memory and resends them, with the same `clientId`,
 *   once the replay after a reconnect is done (`ready`); the server dedupes by `clientId`, and
 *   the replay has already confirmed whatever it stored before the drop.
 * - Throttles typing notices: `on:true` at most every 2 s, `on:false` after 3 s idle or on send.
 * - Sends secure-form frames only while connected, and never queues or resends them: they carry
 *   card data (a submission) or a one-time action, so the user decides whether to try again.
 */
import type {
  ChatClientFrame,
  ChatEvent,
  ChatServerFrame,
  ChatStatus,
  ErrorCode,
  EventSender,
} from "../protocol/chat-frames.ts";
import { reconnectingSocket, type SocketState } from "./reconnecting-socket.ts";

export interface ChatConnectionOptions {
  /** Full `ws:`/`wss:` URL of the chat socket. */
  url: string;
  /** Subprotocols: `parley.v1`, plus `bearer.<token>` for visitors. */
  protocols: string[];
  /** Highest seq already shown; 0 (the default) replays the whole chat. */
  lastSeq?: number;
  /** Give up reconnecting after this many failed attempts in a row (default: never). */
  maxFailures?: number;
  /** Opens the underlying socket (see `reconnectingSocket`); browsers leave it out. */
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  /** A new event, in seq order, never twice. */
  onEvent(event: ChatEvent): void;
  /**
   * The server stored a message of ours: its `ack`, or, when the ack was lost with a dropped
   * socket, its own event in the replay (once per message either way).
   */
  onAck?(clientId: string, seq: number): void;
  /** The replay after a (re)connection is complete. */
  onReady?(status: ChatStatus): void;
  onTyping?(from: EventSender, on: boolean): void;
  /** The visitor's position in the waiting queue (visitor sockets only). */
  onQueue?(position: number): void;
  /** An `error` frame; `fields` names the refused fields of an `invalid_secure_form`. */
  onError?(code: ErrorCode, message: string, fields?: Record<string, string>): void;
  /** Secure-form values an agent asked to view (agent sockets only; never stored). */
  onSecureValues?(frame: SecureFormValues): void;
  onState?(state: SocketState): void;
  /** The socket closed for good (chat ended, access revoked, or reconnection gave up). */
  onClosed?(code: number): void;
}

/** The frame that carries secure-form values to the agent who asked to view them. */
export type SecureFormValues = Extract<ChatServerFrame, { type: "secure_form.values" }>;

/** Secure-form frames: request and view (agents), submit (visitors). */
export type SecureFormFrame = Extract<
  ChatClientFrame,
  { type: "secure_form.request" | "secure_form.submit" | "secure_form.view" }
>;

/** An agent's desk actions on a chat: hand it over, invite a colleague, leave it. */
export type DeskFrame = Extract<ChatClientFrame, { type: "transfer" | "invite" | "leave" }>;

export interface ChatConnection {
  /**
   * Sends a message — or, for agents, a `whisper` the visitor never sees — (queued until
   * reconnected) and returns its `clientId`.
   */
  send(text: string, kind?: "message" | "whisper"): string;
  /** Sends a secure-form frame now; false when not connected (nothing was sent or kept). */
  sendForm(frame: SecureFormFrame): boolean;
  /** Sends a desk action now; false when not connected (nothing was sent or kept). */
  act(frame: DeskFrame): boolean;
  /** Call on every keystroke; sends throttled typing notices. */
  typing(): void;
  /** Asks the server to end the chat; false when not connected (nothing was sent). */
  end(): boolean;
  /** Closes the socket for good, without ending the chat. */
  close(): void;
  /** Drops the connection and resumes on a new one (see `ReconnectingSocket.reconnect`). */
  reconnect(): void;
  /** Highest event seq received so far. */
  lastSeq(): number;
}

const TYPING_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;

/**
 * A random message id. `crypto.randomUUID` exists only in secure contexts, and the widget may
 * be embedded in a plain-http page, so fall back to 128 random bits in hex.
 */
function newClientId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Opens a chat socket; see the module comment for the delivery guarantees. */
export function connectChat(opts: ChatConnectionOptions): ChatConnection {
  let lastSeq = opts.lastSeq ?? 0;
  let ready = false;
  let typingSentAt = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  // Insertion order is send order, so a resend keeps the visitor's message order.
  const unacked = new Map<string, { text: string; kind: "message" | "whisper" }>();

  const send = (frame: ChatClientFrame) => socket.send(frame);
  const sendMessage = (
    clientId: string,
    { text, kind }: { text: string; kind: "message" | "whisper" },
  ) => send({ type: kind, clientId, text });

  const stopTyping = () => {
    clearTimeout(idleTimer);
    if (typingSentAt && ready) send({ type: "typing", on: false });
    typingSentAt = 0;
  };

  const onFrame = (frame: ChatServerFrame) => {
    switch (frame.type) {
      case "event": {
        if (!(frame.seq > lastSeq)) return;
        lastSeq = frame.seq;
        const { type: _type, ...event } = frame;
        opts.onEvent(event);
        // A message of ours stored just before a drop is confirmed by the replay, not by an
        // ack (that was lost with the socket): report it the same way.
        if (frame.clientId && unacked.delete(frame.clientId)) {
          opts.onAck?.(frame.clientId, frame.seq);
        }
        return;
      }
      case "ack":
        unacked.delete(frame.clientId);
        opts.onAck?.(frame.clientId, frame.seq);
        return;
      case "ready":
        ready = true;
        // An ended chat rejects new messages: resending would only earn errors.
        if (frame.status === "ended") unacked.clear();
        for (const [clientId, message] of unacked) sendMessage(clientId, message);
        opts.onReady?.(frame.status);
        return;
      case "typing":
        opts.onTyping?.(frame.from, frame.on);
        return;
      case "queue":
        opts.onQueue?.(frame.position);
        return;
      case "secure_form.values":
        opts.onSecureValues?.(frame);
        return;
      case "error":
        opts.onError?.(frame.code, frame.message, frame.fields);
        return;
    }
  };

  const socket = reconnectingSocket({
    url: opts.url,
    protocols: opts.protocols,
    maxFailures: opts.maxFailures,
    createSocket: opts.createSocket,
    onOpen: () => {
      ready = false;
      typingSentAt = 0;
      send({ type: "hello", lastSeq });
    },
    onFrame: (frame) => onFrame(frame as ChatServerFrame),
    onState: (state) => {
      if (state !== "open") ready = false;
      opts.onState?.(state);
    },
    onClosed: (code) => {
      clearTimeout(idleTimer);
      opts.onClosed?.(code);
    },
  });

  return {
    send(text, kind = "message") {
      stopTyping();
      const clientId = newClientId();
      const message = { text, kind };
      unacked.set(clientId, message);
      // Before `ready` the message waits in `unacked`; `ready` sends it.
      if (ready) sendMessage(clientId, message);
      return clientId;
    },
    sendForm(frame) {
      return ready && send(frame);
    },
    act(frame) {
      return ready && send(frame);
    },
    typing() {
      if (!ready) return;
      const now = Date.now();
      if (now - typingSentAt >= TYPING_EVERY_MS) {
        typingSentAt = now;
        send({ type: "typing", on: true });
      }
      clearTimeout(idleTimer);
      idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
    },
    end() {
      stopTyping();
      return send({ type: "end" });
    },
    close() {
      clearTimeout(idleTimer);
      socket.close(1000);
    },
    reconnect: () => socket.reconnect(),
    lastSeq: () => lastSeq,
  };
}
