/**
 * Agent sessions as seen from a Durable Object: activity on sockets keeps a session from
 * idling out (an agent typing in a chat for half an hour is not idle), and sockets of a
 * session that was revoked, expired or whose agent was disabled are closed with 1008 —
 * checked every SESSION_CHECK_MS while the object holds agent sockets.
 */
import { parseConfig } from "../src/config.ts";
import { type SessionLimits, touchSession, validSessionIds } from "../src/store/sessions.ts";

const TOUCH_INTERVAL_MS = 60_000;
/** Sockets of an ended session close within this time. */
export const SESSION_CHECK_MS = 5_000;

/** The session limits of the deployment's configuration. */
export function sessionLimits(env: object): SessionLimits {
  const config = parseConfig(env as Record<string, unknown>);
  return { idleMs: config.sessionIdleMs, absoluteMs: config.sessionAbsoluteMs };
}

export class SessionActivity {
  readonly #db: D1Database;
  readonly #limits: SessionLimits;
  readonly #waitUntil: (promise: Promise<unknown>) => void;
  readonly #lastTouch = new Map<string, number>();

  constructor(
    db: D1Database,
    limits: SessionLimits,
    waitUntil: (promise: Promise<unknown>) => void,
  ) {
    this.#db = db;
    this.#limits = limits;
    this.#waitUntil = waitUntil;
  }

  /**
   * Notes activity of the session (throttled). An already expired session stays expired;
   * a failed write only costs an earlier timeout.
   */
  touch(sessionId: string | undefined): void {
    if (!sessionId) return;
    const now = Date.now();
    if (now - (this.#lastTouch.get(sessionId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.#lastTouch.set(sessionId, now);
    this.#waitUntil(
      touchSession(this.#db, sessionId, now, this.#limits).catch((error: unknown) =>
        console.error("[parley] recording session activity failed", error),
      ),
    );
  }

  /**
   * Closes, with 1008, every socket whose session is no longer valid. A D1 failure closes
   * nothing (the next check tries again) rather than dropping every agent at once.
   */
  async closeEnded(sockets: Iterable<[WebSocket, string | undefined]>): Promise<void> {
    const bySession = new Map<string, WebSocket[]>();
    for (const [ws, sessionId] of sockets) {
      if (!sessionId) continue;
      bySession.set(sessionId, [...(bySession.get(sessionId) ?? []), ws]);
    }
    if (bySession.size === 0) return;
    let valid: Set<string>;
    try {
      valid = await validSessionIds(this.#db, [...bySession.keys()], Date.now(), this.#limits);
    } catch (error) {
      console.error("[parley] checking agent sessions failed", error);
      return;
    }
    for (const [sessionId, list] of bySession) {
      if (valid.has(sessionId)) continue;
      for (const ws of list) {
        try {
          ws.close(1008, "session ended");
        } catch {
          // already closed
        }
      }
    }
  }
}
