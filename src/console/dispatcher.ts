/**
 * The agent's presence socket to the Dispatcher (`/api/agent/ws`): status, queue, offers and
 * assignments. It reconnects with backoff and re-announces the chosen status on every
 * connection, so the server always holds the agent's latest choice.
 */
import { reconnectingSocket, type SocketState } from "../client/reconnecting-socket.ts";
import type {
  AgentStatus,
  DispatcherClientFrame,
  DispatcherServerFrame,
} from "../protocol/dispatcher-frames.ts";
import { SUBPROTOCOL } from "../protocol/limits.ts";
import { wsBase } from "./api-origin.ts";

export interface DispatcherOptions {
  /** The status to announce on (re)connection. */
  status(): AgentStatus;
  onFrame(frame: DispatcherServerFrame): void;
  onState(state: SocketState): void;
  /** Closed for good by the server (1000 or 1008: signed out, session revoked). */
  onClosed(code: number): void;
}

export interface Dispatcher {
  send(frame: DispatcherClientFrame): boolean;
  close(): void;
}

/** Connects the presence socket. */
export function connectDispatcher(opts: DispatcherOptions): Dispatcher {
  let closing = false;
  const socket = reconnectingSocket({
    url: `${wsBase()}/api/agent/ws`,
    protocols: [SUBPROTOCOL],
    onOpen: () =>
      socket.send({ type: "status", status: opts.status() } satisfies DispatcherClientFrame),
    onFrame: (frame) => opts.onFrame(frame as DispatcherServerFrame),
    onState: opts.onState,
    onClosed: (code) => {
      if (!closing) opts.onClosed(code);
    },
  });
  return {
    send: (frame) => socket.send(frame),
    close() {
      closing = true;
      socket.close(1000);
    },
  };
}
