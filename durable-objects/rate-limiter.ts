/**
 * RateLimiter — one Durable Object per rate-limited key (`${bucket}:${key}`, e.g.
 * `login-ip:203.0.113.9`), so keys never contend and each object sees a handful of
 * requests per second at most. One RPC per checked request: `take(limit, windowMs)`.
 *
 * Counting is an exact sliding window (`SlidingWindow`): at most `limit` allowed takes in
 * any `windowMs` span. Why storage, not memory only: an object that holds no socket and no
 * timer is hibernateable, and the runtime drops it from memory after ~10 s without
 * requests, far shorter than a one-minute window — a caller pausing 10 s between bursts
 * would get a fresh window each time. So the window (≤ 61 small pairs) is written to the
 * object's SQLite storage with the synchronous KV API on every allowed take (a refused take
 * changes nothing and writes nothing); memory only caches it.
 *
 * Idle keys cost nothing: no timer keeps the object awake, and an alarm set for the moment
 * the newest take expires deletes the stored window, so a key nobody uses holds no storage.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type RateDecision,
  SlidingWindow,
  type SlidingWindowState,
} from "../src/security/token-bucket.ts";
import type { Env } from "../worker/env.ts";

const STATE_KEY = "window";
/** Longest window accepted (a day: e.g. password resets per day). */
const MAX_WINDOW_MS = 86_400_000;
const MAX_LIMIT = 1_000_000;

export type { RateDecision };

export class RateLimiter extends DurableObject<Env> {
  #window: SlidingWindow | null = null;
  /** An alarm is pending (set by this instance or found by the alarm handler). */
  #alarmSet = false;

  /**
   * Counts one request against `limit` per `windowMs`; refused requests are not counted
   * (a flood cannot extend its own wait). Throws a RangeError on a nonsensical limit.
   */
  async take(limit: number, windowMs: number): Promise<RateDecision> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new RangeError(`limit out of range: ${limit}`);
    }
    if (!Number.isSafeInteger(windowMs) || windowMs < 1 || windowMs > MAX_WINDOW_MS) {
      throw new RangeError(`windowMs out of range: ${windowMs}`);
    }
    const now = Date.now();
    const window = this.#load(windowMs);
    // Decided and recorded in one synchronous turn: concurrent takes cannot interleave.
    const decision = window.take(limit, now);
    if (!decision.allowed) return decision;
    this.ctx.storage.kv.put(STATE_KEY, window.toJSON());
    if (!this.#alarmSet) {
      this.#alarmSet = true;
      await this.ctx.storage.setAlarm(window.expiresAt(now) ?? now + windowMs);
    }
    return decision;
  }

  /** TTL: forgets the key once its newest take expired, else checks again then. */
  override async alarm(): Promise<void> {
    const state = this.ctx.storage.kv.get<SlidingWindowState>(STATE_KEY);
    const now = Date.now();
    const expiresAt = state ? this.#load(state.windowMs).expiresAt(now) : null;
    if (expiresAt === null) {
      this.#window = null;
      this.#alarmSet = false;
      await this.ctx.storage.deleteAll();
      return;
    }
    this.#alarmSet = true;
    await this.ctx.storage.setAlarm(expiresAt);
  }

  #load(windowMs: number): SlidingWindow {
    if (this.#window?.windowMs !== windowMs) {
      const stored = this.ctx.storage.kv.get<SlidingWindowState>(STATE_KEY);
      this.#window = new SlidingWindow(windowMs, stored);
    }
    return this.#window;
  }
}

/** The RateLimiter of one key in one bucket. */
export function getRateLimiter(
  env: Pick<Env, "RATE_LIMITER">,
  bucket: string,
  key: string,
): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${bucket}:${key}`));
}
