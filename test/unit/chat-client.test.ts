/**
 * The shared browser client (`src/client`) against a scripted socket: the transport is the
 * outside world here, so a fake stands in for it (`createSocket`). Timers are faked to walk
 * through backoff and the handshake timeout.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { connectChat } from "../../src/client/chat-connection.ts";
import { reconnectingSocket } from "../../src/client/reconnecting-socket.ts";
import type { ChatEvent } from "../../src/protocol/chat-frames.ts";

/** A scripted WebSocket: the test opens, feeds and closes it. */
class FakeSocket {
  readyState: number = WebSocket.CONNECTING;
  readonly sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  closedByClient: number | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000): void {
    this.closedByClient = code;
    this.readyState = WebSocket.CLOSING;
  }
  open(): void {
    this.readyState = WebSocket.OPEN;
    this.onopen?.();
  }
  feed(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    this.readyState = WebSocket.CLOSED;
    this.onclose?.({ code, reason: "" });
  }
}

let sockets: FakeSocket[];
const createSocket = () => {
  const socket = new FakeSocket();
  sockets.push(socket);
  return socket as unknown as WebSocket;
};
const latest = () => sockets.at(-1) as FakeSocket;

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const base = { url: "ws://x/ws", protocols: ["parley.v1"], createSocket };

describe("reconnectingSocket", () => {
  it("reconnects after a drop with growing, capped backoff, and stops on 1000 or 1008", () => {
    const closed = vi.fn();
    reconnectingSocket({ ...base, onOpen: () => {}, onFrame: () => {}, onClosed: closed });
    latest().drop();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      delays.push(waited);
      latest().drop();
    }
    // Base 500 ms doubling, jittered to 50–100 %, capped at 30 s.
    expect(delays[0]).toBeLessThanOrEqual(500);
    expect(delays[3]).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000);
    expect(closed).not.toHaveBeenCalled();

    const before = sockets.length;
    while (sockets.length === before) vi.advanceTimersByTime(100);
    latest().open();
    latest().drop(1008);
    vi.advanceTimersByTime(60_000);
    expect(closed).toHaveBeenCalledWith(1008, "");
    const count = sockets.length;
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(count);
  });

  it("abandons a handshake that never finishes and tries again", () => {
    reconnectingSocket({ ...base, onOpen: () => {}, onFrame: () => {} });
    const stuck = latest();
    vi.advanceTimersByTime(9_999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(stuck.closedByClient).not.toBeNull();
    // It never reports its close (some implementations do not); the retry comes anyway.
    vi.advanceTimersByTime(1_000);
    expect(sockets).toHaveLength(2);
    latest().open();
    // A late event from the abandoned socket changes nothing.
    stuck.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });
});

describe("reconnect()", () => {
  it("drops the socket without waiting for its close, and connects again", () => {
    const opened = vi.fn();
    const socket = reconnectingSocket({ ...base, onOpen: opened, onFrame: () => {} });
    const first = latest();
    first.open();
    socket.reconnect();
    expect(first.closedByClient).toBe(4000);
    vi.advanceTimersByTime(1_000);
    expect(sockets).toHaveLength(2);
    latest().open();
    expect(opened).toHaveBeenCalledTimes(2);
    // The old socket's late close is ignored.
    first.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });
});

describe("connectChat", () => {
  function chat(lastSeq = 0) {
    const events: ChatEvent[] = [];
    const acks: [string, number][] = [];
    const connection = connectChat({
      ...base,
      lastSeq,
      onEvent: (e) => events.push(e),
      onAck: (clientId, seq) => acks.push([clientId, seq]),
    });
    return { connection, events, acks };
  }
  const event = (seq: number, extra: object = {}) => ({
    type: "event",
    seq,
    at: seq,
    kind: "message",
    from: { role: "agent", id: "a", name: "A" },
    text: `m${seq}`,
    ...extra,
  });

  it("greets with the last seq on every connection and delivers each event once, in order", () => {
    const { events } = chat(2);
    latest().open();
    expect(latest().sent).toEqual([{ type: "hello", lastSeq: 2 }]);
    for (const seq of [1, 2, 3, 3, 4]) latest().feed(event(seq));
    latest().feed({ type: "ready", lastSeq: 4, status: "open" });
    latest().drop();
    vi.advanceTimersByTime(1_000);
    latest().open();
    expect(latest().sent).toEqual([{ type: "hello", lastSeq: 4 }]);
    latest().feed(event(4));
    latest().feed(event(5));
    expect(events.map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it("queues messages while disconnected and resends them with the same clientId after ready", () => {
    const { connection, acks } = chat();
    const early = connection.send("before the socket opened");
    latest().open();
    expect(latest().sent).toEqual([{ type: "hello", lastSeq: 0 }]);
    latest().feed({ type: "ready", lastSeq: 0, status: "open" });
    expect(latest().sent.at(-1)).toEqual({
      type: "message",
      clientId: early,
      text: "before the socket opened",
    });
    const lost = connection.send("its ack is lost");
    latest().drop();
    const later = connection.send("typed while offline");
    vi.advanceTimersByTime(1_000);
    latest().open();
    // The replay shows the first message was stored: confirmed without being sent again.
    latest().feed(event(1, { from: { role: "visitor", id: "v", name: null }, clientId: early }));
    latest().feed({ type: "ready", lastSeq: 1, status: "open" });
    expect(latest().sent).toEqual([
      { type: "hello", lastSeq: 0 },
      { type: "message", clientId: lost, text: "its ack is lost" },
      { type: "message", clientId: later, text: "typed while offline" },
    ]);
    latest().feed({ type: "ack", clientId: lost, seq: 2 });
    latest().feed(event(2, { clientId: lost }));
    expect(acks).toEqual([
      [early, 1],
      [lost, 2],
    ]);
  });

  it("drops queued messages when the chat turns out to have ended", () => {
    const { connection } = chat();
    connection.send("too late");
    latest().open();
    latest().feed({ type: "ready", lastSeq: 0, status: "ended" });
    expect(latest().sent).toEqual([{ type: "hello", lastSeq: 0 }]);
  });
});
