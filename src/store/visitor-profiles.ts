/**
 * D1 access to visitor profiles (table `visitor_profiles`, migration 0013): the visit count of
 * each pseudonymous visitor id, written by the Visitors Durable Object when a visit starts and
 * ends, read for "returning" and by segment rules.
 */

/** A visit ends after this long without the visitor on the site; the next one counts anew. */
export const NEW_VISIT_AFTER_MS = 30 * 60_000;

/**
 * Records that `visitorId` is on the site at `now` and answers its visit count, this visit
 * included: 1 for a new visitor, one more than before when the visitor was last seen more
 * than NEW_VISIT_AFTER_MS ago, unchanged otherwise (a reload, another tab).
 */
export async function recordVisit(db: D1Database, visitorId: string, now: number): Promise<number> {
  // In an UPDATE every expression reads the old row, so `visits` compares the previous
  // last_seen_at, before it is moved to now.
  const row = await db
    .prepare(
      `INSERT INTO visitor_profiles (visitor_id, first_seen_at, last_seen_at, visits)
       VALUES (?1, ?2, ?2, 1)
       ON CONFLICT (visitor_id) DO UPDATE SET
         visits = visits + (CASE WHEN last_seen_at < ?2 - ?3 THEN 1 ELSE 0 END),
         last_seen_at = max(last_seen_at, ?2)
       RETURNING visits`,
    )
    .bind(visitorId, now, NEW_VISIT_AFTER_MS)
    .first<{ visits: number }>();
  return row?.visits ?? 1;
}

/** Records when visitors left the site (the end of their visits). */
export async function recordDepartures(
  db: D1Database,
  departures: readonly { visitorId: string; at: number }[],
): Promise<void> {
  if (departures.length === 0) return;
  const update = db.prepare(
    "UPDATE visitor_profiles SET last_seen_at = max(last_seen_at, ?2) WHERE visitor_id = ?1",
  );
  await db.batch(departures.map(({ visitorId, at }) => update.bind(visitorId, at)));
}

/** Profiles deleted per cron run at most (one indexed DELETE); a backlog goes run by run. */
export const PROFILE_PURGE_BATCH = 10_000;

/**
 * Deletes up to `limit` profiles of visitors last seen before `cutoff`, the longest unseen
 * first, and answers how many. The cron passes a presence token's lifetime: every token that
 * named such a visitor has expired, so the id can never come back and its profile is personal
 * data kept for nothing.
 */
export async function purgeStaleProfiles(
  db: D1Database,
  cutoff: number,
  limit = PROFILE_PURGE_BATCH,
): Promise<number> {
  const result = await db
    .prepare(
      `DELETE FROM visitor_profiles WHERE visitor_id IN (
         SELECT visitor_id FROM visitor_profiles WHERE last_seen_at < ?1
         ORDER BY last_seen_at LIMIT ?2)`,
    )
    .bind(cutoff, limit)
    .run();
  return result.meta.changes;
}

/** A visitor's visit count: 0 for a visitor never seen on the presence socket. */
export async function visitCount(db: D1Database, visitorId: string): Promise<number> {
  const row = await db
    .prepare("SELECT visits FROM visitor_profiles WHERE visitor_id = ?1")
    .bind(visitorId)
    .first<{ visits: number }>();
  return row?.visits ?? 0;
}

/**
 * Which of `visitorIds` have a queued or active chat. One bound parameter (a JSON array), so
 * a list of 500 visitors stays within D1's 100 parameters per statement.
 */
export async function visitorsChatting(
  db: D1Database,
  visitorIds: readonly string[],
): Promise<Set<string>> {
  if (visitorIds.length === 0) return new Set();
  const { results } = await db
    .prepare(
      `SELECT DISTINCT visitor_id FROM chats
       WHERE visitor_id IN (SELECT value FROM json_each(?1)) AND status IN ('queued', 'active')`,
    )
    .bind(JSON.stringify(visitorIds))
    .all<{ visitor_id: string }>();
  return new Set(results.map((row) => row.visitor_id));
}
