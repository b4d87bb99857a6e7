/**
 * Agent activity on sockets counts for the session's idle timeout: an agent typing in a chat
 * for half an hour is not idle. Records it in D1 at most once a minute per session.
 */
import { touchSession } from "../src/store/sessions.ts";

const TOUCH_INTERVAL_MS = 60_000;

export class SessionActivity {
  readonly #db: D1Database;
  readonly #waitUntil: (promise: Promise<unknown>) => void;
  readonly #lastTouch = new Map<string, number>();

  constructor(db: D1Database, waitUntil: (promise: Promise<unknown>) => void) {
    this.#db = db;
    this.#waitUntil = waitUntil;
  }

  /** Notes activity of the session (throttled); failures only cost an earlier timeout. */
  touch(sessionId: string | undefined): void {
    if (!sessionId) return;
    const now = Date.now();
    if (now - (this.#lastTouch.get(sessionId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.#lastTouch.set(sessionId, now);
    this.#waitUntil(
      touchSession(this.#db, sessionId, now).catch((error: unknown) =>
        console.error("[parley] recording session activity failed", error),
      ),
    );
  }
}
