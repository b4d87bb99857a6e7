/**
 * Consecutive login failures per account and per client IP, counted exactly in D1 (one
 * atomic UPDATE … RETURNING per failure), not with the approximate rate-limit binding.
 */

export type FailureKind = "account" | "ip";

export interface FailureState {
  failures: number;
  lockedUntil: number | null;
  /** Set by recordFailure when this very failure locked the account. */
  justLocked?: boolean;
}

const NONE: FailureState = { failures: 0, lockedUntil: null };

/** The current state of one counter. */
export async function readFailures(
  db: D1Database,
  kind: FailureKind,
  key: string,
): Promise<FailureState> {
  const row = await db
    .prepare("SELECT failures, locked_until FROM login_failures WHERE kind = ?1 AND key = ?2")
    .bind(kind, key)
    .first<{ failures: number; locked_until: number | null }>();
  return row ? { failures: row.failures, lockedUntil: row.locked_until } : NONE;
}

/**
 * Adds one failure and returns the new count. When an account reaches `lockAfter`, it is
 * locked until `now + lockMs` (and its count starts again from zero when the lock ends).
 */
export async function recordFailure(
  db: D1Database,
  kind: FailureKind,
  key: string,
  now: number,
  lock: { after: number; ms: number } | null,
): Promise<FailureState> {
  const row = await db
    .prepare(
      `INSERT INTO login_failures (kind, key, failures, last_failure) VALUES (?1, ?2, 1, ?3)
       ON CONFLICT (kind, key) DO UPDATE SET failures = failures + 1, last_failure = ?3
       RETURNING failures, locked_until`,
    )
    .bind(kind, key, now)
    .first<{ failures: number; locked_until: number | null }>();
  const failures = row?.failures ?? 1;
  const lockedUntil = row?.locked_until ?? null;
  // Lock once at the threshold; failures during a lock never extend it.
  if (lock && failures >= lock.after && (lockedUntil === null || lockedUntil <= now)) {
    await db
      .prepare("UPDATE login_failures SET locked_until = ?3 WHERE kind = ?1 AND key = ?2")
      .bind(kind, key, now + lock.ms)
      .run();
    return { failures, lockedUntil: now + lock.ms, justLocked: true };
  }
  return { failures, lockedUntil };
}

/** Clears a counter (successful login, expired lock, or an administrator's unlock). */
export async function clearFailures(db: D1Database, kind: FailureKind, key: string): Promise<void> {
  await db.prepare("DELETE FROM login_failures WHERE kind = ?1 AND key = ?2").bind(kind, key).run();
}
