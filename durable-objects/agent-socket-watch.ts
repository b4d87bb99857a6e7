/**
 * The checks a ChatSession runs on its agent sockets while any is connected: sockets of a
 * session that ended close with 1008 (`session-activity.ts`), and monitor sockets whose agent
 * no longer holds the permission or the chat's department close with 1008
 * (`monitor-access.ts`). About every SESSION_CHECK_MS, in memory rather than an alarm: the
 * sockets it guards are not hibernatable, so they live only as long as the object does, and a
 * stored alarm would cost two storage writes per chat every few seconds.
 */
import { jittered } from "./due-items.ts";
import { withdrawnMonitors } from "./monitor-access.ts";
import type { ParticipantIdentity } from "./participant.ts";
import { SESSION_CHECK_MS, type SessionActivity } from "./session-activity.ts";

export interface AgentSocketWatchHost {
  db: D1Database;
  activity: SessionActivity;
  /** The chat's agent sockets now open. */
  agentSockets(): [WebSocket, ParticipantIdentity][];
  /** The chat's department: a monitor must still hold it. */
  department(): string;
  /** Forgets a socket this check closed. */
  forget(ws: WebSocket): void;
  waitUntil(promise: Promise<unknown>): void;
}

export class AgentSocketWatch {
  readonly #host: AgentSocketWatchHost;
  #next: ReturnType<typeof setTimeout> | undefined;

  constructor(host: AgentSocketWatchHost) {
    this.#host = host;
  }

  /**
   * An agent socket opened: checks run while any is connected. The first comes at a random
   * point of the period: chats whose agents connected together (a deploy reconnects everyone
   * at once) would otherwise query D1 together, every period, for as long as they stay
   * connected.
   */
  agentConnected(): void {
    this.#schedule(Math.random() * SESSION_CHECK_MS);
  }

  /** Schedules the next check in `delay` ms, unless one is pending. */
  #schedule(delay = jittered(SESSION_CHECK_MS)): void {
    if (this.#next) return;
    this.#next = setTimeout(() => {
      this.#next = undefined;
      this.#host.waitUntil(this.#check());
    }, delay);
  }

  async #check(): Promise<void> {
    const { activity, agentSockets } = this.#host;
    const agents = agentSockets();
    try {
      await activity.closeEnded(agents.map(([ws, agent]) => [ws, agent.sessionId]));
      await this.#closeWithdrawnMonitors(agents);
    } catch (error) {
      // Nothing is closed on a failed check; the next one tries again.
      console.error("[parley] checking agent sessions failed", error);
    }
    if (agentSockets().length > 0) this.#schedule();
  }

  async #closeWithdrawnMonitors(agents: [WebSocket, ParticipantIdentity][]): Promise<void> {
    const monitors = agents.flatMap(([ws, agent]): [WebSocket, string][] =>
      agent.mode === "monitor" ? [[ws, agent.id]] : [],
    );
    const { db, department, forget } = this.#host;
    for (const ws of (await withdrawnMonitors(db, department(), monitors)) ?? []) {
      forget(ws);
      ws.close(1008, "permission withdrawn");
    }
  }
}
