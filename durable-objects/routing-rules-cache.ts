/**
 * The Dispatcher's copy of the routing rules. D1 holds them; reading D1 at every routing
 * decision would put a network round trip in front of every offer, so the Dispatcher keeps
 * them in memory: re-read when the API changes them (`routingChanged`) and at most a minute
 * old otherwise (covers changes made outside the API, e.g. with wrangler d1).
 */
import type { RoutingRule, RoutingStrategy } from "../src/protocol/routing.ts";
import { loadRoutingRules } from "../src/store/routing-rules.ts";

const MAX_AGE_MS = 60_000;

export class RoutingRulesCache {
  readonly #db: D1Database;
  #rules = new Map<string, RoutingRule>();
  #loadedAt = Number.NEGATIVE_INFINITY;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** Forgets the copy: the next `refresh` reads D1. */
  invalidate(): void {
    this.#loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Re-reads D1 when the copy is stale; on failure keeps the last good copy (logged). */
  async refresh(now = Date.now()): Promise<void> {
    if (now - this.#loadedAt < MAX_AGE_MS) return;
    try {
      this.#rules = await loadRoutingRules(this.#db);
      this.#loadedAt = now;
    } catch (error) {
      console.error("[parley] dispatcher: reading routing rules failed", error);
    }
  }

  /** A department's rules, or null for the defaults. */
  of(department: string): RoutingRule | null {
    return this.#rules.get(department) ?? null;
  }

  strategy(department: string): RoutingStrategy {
    return this.of(department)?.strategy ?? "least_busy";
  }

  /** The segments whose visitors the department serves first. */
  prioritySegments(department: string): readonly string[] {
    return this.of(department)?.prioritySegments ?? [];
  }

  /** The department's offer timeout in ms, or `fallbackMs` (OFFER_TIMEOUT). */
  offerTimeoutMs(department: string, fallbackMs: number): number {
    const seconds = this.of(department)?.offerTimeoutSeconds;
    return seconds ? seconds * 1000 : fallbackMs;
  }

  /** Where and when a chat waiting in `department` since `enteredAt` overflows, if at all. */
  overflow(
    department: string,
    enteredAt: number,
    overflowedFrom: readonly string[],
  ): { to: string; at: number } | null {
    const rule = this.of(department);
    if (!rule?.overflowTo || rule.overflowAfterSeconds === null) return null;
    // Each chat overflows at most once out of each department: rules that form a cycle
    // cannot bounce it around forever.
    if (rule.overflowTo === department || overflowedFrom.includes(department)) return null;
    return { to: rule.overflowTo, at: enteredAt + rule.overflowAfterSeconds * 1000 };
  }
}
