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
  /**
   * Opens the underlying socket (default: `new WebSocket(url, protocols)`). Node clients
   * (tests, benchmarks) pass one that sets headers a browser would (Origin, Cookie).
   */
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

export interface ReconnectingSocket {
  /** Sends a JSON frame; returns false (and drops it) when the socket is not open. */
  send(frame: object): boolean;
  /** Closes for good; no reconnection follows. */
  close(code?: number): void;
  /**
   * Drops the current connection and connects again, as after a network drop (e.g. when the
   * browser reports it is back online, or a test simulating a drop). Does not wait for the
   * old socket's close, which a dead peer may never confirm.
   */
  reconnect(): void;
}

/** A connection that lived this long counts as healthy and resets the backoff. */
const HEALTHY_MS = 10_000;
const BASE_DELAY_MS = 500;
/**
 * A handshake still pending after this long is abandoned and retried: a connection that
 * reached a server in the middle of a restart, or a network that swallows packets, would
 * otherwise leave the client waiting forever.
 */
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_DELAY_MS = 30_000;

/** Opens `url` and keeps it open until closed for good. */
export function reconnectingSocket(opts: ReconnectingSocketOptions): ReconnectingSocket {
  let ws: WebSocket | null = null;
  let failures = 0;
  let openedAt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Gives up the current connection (set by each `connect`). */
  let drop: ((code: number, reason: string) => void) | undefined;

  const finish = (code: number, reason: string) => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    opts.onState?.("closed");
    opts.onClosed?.(code, reason);
  };

  const connect = () => {
    opts.onState?.(failures ? "reconnecting" : "connecting");
    const socket = opts.createSocket
      ? opts.createSocket(opts.url, opts.protocols)
      : new WebSocket(opts.url, opts.protocols);
    ws = socket;
    /** The connection is gone (closed, or a handshake that never finished): retry or stop. */
    const dropped = (code: number, reason: string) => {
      clearTimeout(handshake);
      if (ws !== socket || stopped) return;
      ws = null;
      if (code === 1000 || code === 1008) return finish(code, reason);
      failures = openedAt && Date.now() - openedAt > HEALTHY_MS ? 1 : failures + 1;
      openedAt = 0;
      if (failures > (opts.maxFailures ?? Number.POSITIVE_INFINITY)) {
        return finish(code, reason);
      }
      opts.onState?.("reconnecting");
      // Jitter spreads the reconnect wave after an outage or a deploy.
      const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - 1));
      timer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
    };
    // Some WebSocket implementations never report the close of an abandoned handshake, so
    // the attempt counts as dropped here rather than in `onclose`.
    const handshake = setTimeout(() => {
      if (socket.readyState !== WebSocket.CONNECTING) return;
      dropped(1006, "handshake timed out");
      socket.close();
    }, CONNECT_TIMEOUT_MS);
    socket.onopen = () => {
      clearTimeout(handshake);
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
    socket.onclose = (e) => dropped(e.code, e.reason);
    drop = dropped;
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
    reconnect() {
      const socket = ws;
      if (!socket || stopped) return;
      drop?.(4000, "reconnect");
      socket.close(4000, "reconnect");
    },
  };
}
