/**
 * A WebSocket that reconnects with capped, jittered exponential backoff.
 *
 * Close codes 1000 (normal: the chat ended, the agent logged out) and 1008 (policy: bad token,
 * revoked session) are final: retrying could not change the server's answer. Every other close,
 * including 1006 from a dropped network or a failed handshake, schedules a new attempt.
 */

/** Connection states reported to the UI. */
export type SocketState = "connecting" | "open" | "reconnecting" | "closed";

export interface ReconnectingSocketOptions {
  url: string;
  protocols: string[];
  /** Called on every successful (re)connection, before any message. */
  onOpen(): void;
  /** Called with each parsed JSON object the server sends; other data is dropped. */
  onFrame(frame: { type: string }): void;
  onState?(state: SocketState): void;
  /** Called once when the socket is closed for good (final code, `close()`, or gave up). */
  onClosed?(code: number, reason: string): void;
  /** Give up after this many attempts in a row that failed or dropped quickly. */
  maxFailures?: number;
}

export interface ReconnectingSocket {
  /** Sends a JSON frame; returns false (and drops it) when the socket is not open. */
  send(frame: object): boolean;
  /** Closes for good; no reconnection follows. */
  close(code?: number): void;
}

/** A connection that lived this long counts as healthy and resets the backoff. */
const HEALTHY_MS = 10_000;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/** Opens `url` and keeps it open until closed for good. */
export function reconnectingSocket(opts: ReconnectingSocketOptions): ReconnectingSocket {
  let ws: WebSocket | null = null;
  let failures = 0;
  let openedAt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const finish = (code: number, reason: string) => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    opts.onState?.("closed");
    opts.onClosed?.(code, reason);
  };

  const connect = () => {
    opts.onState?.(failures ? "reconnecting" : "connecting");
    const socket = new WebSocket(opts.url, opts.protocols);
    ws = socket;
    socket.onopen = () => {
      openedAt = Date.now();
      opts.onState?.("open");
      opts.onOpen();
    };
    socket.onmessage = (e) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (frame && typeof (frame as { type?: unknown }).type === "string") {
        opts.onFrame(frame as { type: string });
      }
    };
    socket.onclose = (e) => {
      if (ws !== socket || stopped) return;
      ws = null;
      if (e.code === 1000 || e.code === 1008) return finish(e.code, e.reason);
      failures = openedAt && Date.now() - openedAt > HEALTHY_MS ? 1 : failures + 1;
      openedAt = 0;
      if (failures > (opts.maxFailures ?? Number.POSITIVE_INFINITY)) {
        return finish(e.code, e.reason);
      }
      opts.onState?.("reconnecting");
      // Jitter spreads the reconnect wave after an outage or a deploy.
      const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - 1));
      timer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
    };
  };

  connect();
  return {
    send(frame) {
      if (ws?.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    close(code = 1000) {
      const socket = ws;
      ws = null;
      finish(code, "");
      socket?.close(code);
    },
  };
}
