/**
 * Rate-limit counters, pure (the caller passes the clock, in integer milliseconds):
 *
 * - `TokenBucket` / `TokenBuckets`: a burst of `capacity`, refilled continuously at `capacity`
 *   per `periodMs`. Used inside the ChatSession, in memory, for the frames each participant
 *   sends (RATE_MESSAGES_PER_SOCKET_PER_10S): a chat may burst, then flows at a steady rate.
 * - `SlidingWindow`: at most `limit` takes in ANY `windowMs`-long span, never more. Used by
 *   the RateLimiter Durable Object for the HTTP limits, so "20 per minute" means exactly that
 *   (a token bucket of 20 per minute lets ~40 through in the first minute).
 *
 * Both use integer arithmetic only, so a refill or an expiry lands on the exact millisecond.
 */

/** The answer to one take. */
export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until a take can succeed again: 0 when allowed, ≥ 1 when refused. */
  retryAfterSeconds: number;
  /** Takes still allowed right now, after this one. */
  remaining: number;
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}

const refused = (waitMs: number): RateDecision => ({
  allowed: false,
  retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  remaining: 0,
});

/**
 * A token bucket. Tokens are counted in units of 1/periodMs so refills stay integers:
 * one token = `periodMs` units, and every millisecond adds `capacity` units.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly periodMs: number;
  #units: number;
  #last: number;

  /** Starts full at `now`. */
  constructor(capacity: number, periodMs: number, now: number) {
    assertCount("capacity", capacity);
    assertCount("periodMs", periodMs);
    this.capacity = capacity;
    this.periodMs = periodMs;
    this.#units = capacity * periodMs;
    this.#last = now;
  }

  /** Takes one token if there is one. */
  take(now: number): RateDecision {
    this.#refill(now);
    if (this.#units >= this.periodMs) {
      this.#units -= this.periodMs;
      return {
        allowed: true,
        retryAfterSeconds: 0,
        remaining: Math.floor(this.#units / this.periodMs),
      };
    }
    return refused(Math.ceil((this.periodMs - this.#units) / this.capacity));
  }

  /** True when the bucket is back to full, i.e. indistinguishable from a new one. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#units === this.capacity * this.periodMs;
  }

  #refill(now: number): void {
    // A clock that steps back never mints tokens.
    if (now <= this.#last) return;
    const full = this.capacity * this.periodMs;
    this.#units = Math.min(full, this.#units + (now - this.#last) * this.capacity);
    this.#last = now;
  }
}

/** One token bucket per key (e.g. per chat participant), created full on first use. */
export class TokenBuckets {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #capacity: number;
  readonly #periodMs: number;

  constructor(capacity: number, periodMs: number) {
    assertCount("capacity", capacity);
    assertCount("periodMs", periodMs);
    this.#capacity = capacity;
    this.#periodMs = periodMs;
  }

  take(key: string, now: number): RateDecision {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#capacity, this.#periodMs, now);
      this.#buckets.set(key, bucket);
    }
    const decision = bucket.take(now);
    // Full buckets carry no information: forget them so idle keys cost nothing.
    for (const [other, idle] of this.#buckets) {
      if (other !== key && idle.isFull(now)) this.#buckets.delete(other);
    }
    return decision;
  }

  /** Keys currently tracked (for tests and diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }
}

/** The serialized state of a SlidingWindow: `[slotStart, count]` pairs, oldest first. */
export interface SlidingWindowState {
  windowMs: number;
  slots: [number, number][];
}

/** Time resolution of a window: 1/60 of it (1 s for a per-minute limit). */
const SLOTS_PER_WINDOW = 60;

/**
 * An exact sliding-window log with bounded memory. Takes are counted exactly, per slot of
 * `windowMs / 60`; a take in slot `s` counts until `s + slot + windowMs`, so a take is
 * refused for at most one slot longer than strictly needed, and never allowed early:
 * no `windowMs`-long span ever holds more than `limit` allowed takes. State is at most 61
 * pairs whatever the limit, so a limit of 100,000 per minute costs what 10 does.
 */
export class SlidingWindow {
  readonly windowMs: number;
  readonly slotMs: number;
  #slots: [number, number][];

  constructor(windowMs: number, state?: SlidingWindowState) {
    assertCount("windowMs", windowMs);
    this.windowMs = windowMs;
    this.slotMs = Math.max(1, Math.ceil(windowMs / SLOTS_PER_WINDOW));
    // A stored state of another window length is dropped rather than misread.
    this.#slots = state && state.windowMs === windowMs ? state.slots.map(([s, n]) => [s, n]) : [];
  }

  /** Records one take if fewer than `limit` are in the window. */
  take(limit: number, now: number): RateDecision {
    assertCount("limit", limit);
    this.#prune(now);
    const used = this.count();
    if (used < limit) {
      const slot = now - (now % this.slotMs);
      const last = this.#slots[this.#slots.length - 1];
      if (last && last[0] >= slot) last[1] += 1;
      else this.#slots.push([slot, 1]);
      return { allowed: true, retryAfterSeconds: 0, remaining: limit - used - 1 };
    }
    // Free enough of the oldest takes for one more to fit (a lowered limit may need several).
    let toFree = used - limit + 1;
    for (const [start, n] of this.#slots) {
      toFree -= n;
      if (toFree <= 0) return refused(this.#expiry(start) - now);
    }
    return refused(this.windowMs); // unreachable: used ≥ toFree
  }

  /** Takes currently counted. */
  count(): number {
    let total = 0;
    for (const [, n] of this.#slots) total += n;
    return total;
  }

  /** When every counted take has expired (null when none is counted). */
  expiresAt(now: number): number | null {
    this.#prune(now);
    const last = this.#slots[this.#slots.length - 1];
    return last ? this.#expiry(last[0]) : null;
  }

  toJSON(): SlidingWindowState {
    return { windowMs: this.windowMs, slots: this.#slots.map(([s, n]) => [s, n]) };
  }

  #expiry(slotStart: number): number {
    return slotStart + this.slotMs + this.windowMs;
  }

  #prune(now: number): void {
    let drop = 0;
    while (drop < this.#slots.length && this.#expiry(this.#slots[drop]?.[0] ?? 0) <= now) drop++;
    if (drop > 0) this.#slots.splice(0, drop);
  }
}
