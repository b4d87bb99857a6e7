/**
 * Agent activity on sockets counts for the session's idle timeout: an agent typing in a chat
 * for half an hour is not idle. Records it in D1 at most once a minute per session.
 */
import { parseConfig } from "../src/config.ts";
import { type SessionLimits, touchSession } from "../src/store/sessions.ts";

const TOUCH_INTERVAL_MS = 60_000;

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
}
