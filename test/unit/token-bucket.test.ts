import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlidingWindow, TokenBucket, TokenBuckets } from "../../src/security/token-bucket.ts";

describe("TokenBucket", () => {
  it("allows a burst of `capacity`, then refuses with the wait until the next token", () => {
    const bucket = new TokenBucket(20, 10_000, 0);
    for (let i = 1; i <= 20; i++) {
      expect(bucket.take(0)).toEqual({ allowed: true, retryAfterSeconds: 0, remaining: 20 - i });
    }
    // 20 per 10 s: one token every 500 ms.
    expect(bucket.take(0)).toEqual({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
    expect(bucket.take(499).allowed).toBe(false);
    expect(bucket.take(500).allowed).toBe(true);
    expect(bucket.take(500).allowed).toBe(false);
  });

  it("refills continuously up to capacity, never beyond", () => {
    const bucket = new TokenBucket(3, 3_000, 0);
    for (let i = 0; i < 3; i++) bucket.take(0);
    expect(bucket.take(2_000)).toMatchObject({ allowed: true, remaining: 1 });
    expect(bucket.isFull(1_000_000)).toBe(true);
    expect(bucket.take(1_000_000)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it("rounds Retry-After up to whole seconds", () => {
    const bucket = new TokenBucket(1, 60_000, 0);
    bucket.take(0);
    expect(bucket.take(0).retryAfterSeconds).toBe(60);
    expect(bucket.take(59_001).retryAfterSeconds).toBe(1);
  });

  it("mints nothing when the clock steps back", () => {
    const bucket = new TokenBucket(2, 1_000, 10_000);
    bucket.take(10_000);
    bucket.take(10_000);
    expect(bucket.take(5_000).allowed).toBe(false);
    expect(bucket.take(10_499).allowed).toBe(false);
    expect(bucket.take(10_500).allowed).toBe(true);
  });

  it("rejects nonsensical settings", () => {
    expect(() => new TokenBucket(0, 1_000, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1.5, 1_000, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });

  it("never lets more than capacity + rate × elapsed through (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 300 }),
        (capacity, periodMs, gaps) => {
          const bucket = new TokenBucket(capacity, periodMs, 0);
          let now = 0;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            if (bucket.take(now).allowed) allowed++;
          }
          expect(allowed).toBeLessThanOrEqual(capacity + Math.floor((now * capacity) / periodMs));
        },
      ),
    );
  });
});

describe("TokenBuckets", () => {
  it("keeps one bucket per key and forgets full ones", () => {
    const buckets = new TokenBuckets(2, 1_000);
    expect(buckets.take("a", 0).allowed).toBe(true);
    expect(buckets.take("a", 0).allowed).toBe(true);
    expect(buckets.take("a", 0).allowed).toBe(false);
    expect(buckets.take("b", 0).allowed).toBe(true); // independent
    expect(buckets.size).toBe(2);
    // Much later, "a" is full again: it is dropped when another key is used.
    expect(buckets.take("b", 5_000).allowed).toBe(true);
    expect(buckets.size).toBe(1);
    expect(buckets.take("a", 5_000)).toMatchObject({ allowed: true, remaining: 1 });
  });
});

describe("SlidingWindow", () => {
  it("allows `limit` takes per window, then refuses until the oldest expires", () => {
    const window = new SlidingWindow(60_000);
    expect(window.slotMs).toBe(1_000);
    for (let i = 1; i <= 10; i++) {
      expect(window.take(10, 0)).toEqual({
        allowed: true,
        retryAfterSeconds: 0,
        remaining: 10 - i,
      });
    }
    // Taken in slot [0, 1000): counted until 61 000 (never early; at most one slot late).
    expect(window.take(10, 0)).toEqual({ allowed: false, retryAfterSeconds: 61, remaining: 0 });
    expect(window.take(10, 60_999)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect(window.take(10, 61_000)).toMatchObject({ allowed: true, remaining: 9 });
  });

  it("is a sliding window, not a fixed one: no double burst across a boundary", () => {
    const window = new SlidingWindow(60_000);
    for (let i = 0; i < 5; i++) window.take(10, 30_000);
    for (let i = 0; i < 5; i++) window.take(10, 59_000);
    // A fixed per-minute window would reset at 60 000 and allow 10 more.
    expect(window.take(10, 60_500).allowed).toBe(false);
    expect(window.take(10, 91_000).allowed).toBe(true); // the five of 30 s expired
    expect(window.count()).toBe(6);
  });

  it("does not count refused takes, so a flood does not extend its own wait", () => {
    const window = new SlidingWindow(1_000);
    window.take(1, 0);
    for (let t = 1; t < 1_000; t += 7) expect(window.take(1, t).allowed).toBe(false);
    expect(window.take(1, 1_017).allowed).toBe(true);
  });

  it("applies a lowered limit at once, with the wait until enough takes expire", () => {
    const window = new SlidingWindow(60_000);
    for (let i = 0; i < 5; i++) window.take(10, i * 10_000);
    // 5 counted (at 0, 10, 20, 30, 40 s); limit now 2: the oldest 4 must expire.
    expect(window.take(2, 45_000)).toMatchObject({ allowed: false, retryAfterSeconds: 46 });
  });

  it("survives serialization, and drops a state of another window length", () => {
    const window = new SlidingWindow(60_000);
    window.take(2, 1_000);
    window.take(2, 1_000);
    const restored = new SlidingWindow(60_000, JSON.parse(JSON.stringify(window.toJSON())));
    expect(restored.take(2, 2_000).allowed).toBe(false);
    expect(new SlidingWindow(1_000, window.toJSON()).count()).toBe(0);
  });

  it("reports when its newest take expires, and null once empty", () => {
    const window = new SlidingWindow(10_000);
    expect(window.expiresAt(0)).toBeNull();
    window.take(5, 1_234);
    window.take(5, 4_000);
    // Counted until the end of its slot plus the window: never early, at most a slot late.
    const slotStart = 4_000 - (4_000 % window.slotMs);
    const expiry = slotStart + window.slotMs + 10_000;
    expect(expiry).toBeGreaterThan(4_000 + 10_000);
    expect(expiry).toBeLessThanOrEqual(4_000 + 10_000 + window.slotMs);
    expect(window.expiresAt(4_000)).toBe(expiry);
    expect(window.expiresAt(expiry - 1)).toBe(expiry);
    expect(window.expiresAt(expiry)).toBeNull();
  });

  it("keeps at most 61 slots whatever the limit", () => {
    const window = new SlidingWindow(60_000);
    for (let t = 0; t < 200_000; t += 100) window.take(100_000, t);
    expect(window.toJSON().slots.length).toBeLessThanOrEqual(61);
  });

  it("never allows more than `limit` in any window-long span (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 300 }),
        (limit, windowMs, gaps) => {
          const window = new SlidingWindow(windowMs);
          const allowed: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const decision = window.take(limit, now);
            if (decision.allowed) allowed.push(now);
            else expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          }
          for (const start of allowed) {
            const inSpan = allowed.filter((t) => t >= start && t < start + windowMs).length;
            expect(inSpan).toBeLessThanOrEqual(limit);
          }
        },
      ),
    );
  });

  it("allows again no later than Retry-After promised (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1_000, max: 120_000 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 100 }),
        (limit, windowMs, gaps) => {
          const window = new SlidingWindow(windowMs);
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const decision = window.take(limit, now);
            if (!decision.allowed) {
              const copy = new SlidingWindow(windowMs, window.toJSON());
              expect(copy.take(limit, now + decision.retryAfterSeconds * 1000).allowed).toBe(true);
            }
          }
        },
      ),
    );
  });
});
