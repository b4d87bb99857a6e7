/** Periodic housekeeping in D1: inactive accounts, spent CAPTCHAs, stale failure counters. */

/**
 * Disables enabled agents who have not logged in (or, never having logged in, were created)
 * before `cutoff`, revokes their sessions, and returns their ids (PCI DSS 8.2.6).
 */
export async function disableInactiveAgents(
  db: D1Database,
  cutoff: number,
  now: number,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `UPDATE agents SET disabled_at = ?2
       WHERE disabled_at IS NULL AND coalesce(last_login_at, created_at) < ?1
       RETURNING id`,
    )
    .bind(cutoff, now)
    .all<{ id: string }>();
  const ids = results.map((row) => row.id);
  if (ids.length > 0) {
    await db.batch(
      ids.map((id) =>
        db
          .prepare("UPDATE sessions SET revoked_at = ?2 WHERE agent_id = ?1 AND revoked_at IS NULL")
          .bind(id, now),
      ),
    );
  }
  return ids;
}

/**
 * Forgets spent CAPTCHA solutions once they have expired anyway, and failure counters that
 * saw no failure for a day and hold no lock (so "consecutive" means within a day).
 */
export async function purgeLoginState(db: D1Database, now: number): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM captcha_used WHERE expires_at < ?1").bind(now),
    db
      .prepare(
        `DELETE FROM login_failures
         WHERE last_failure < ?1 AND (locked_until IS NULL OR locked_until < ?2)`,
      )
      .bind(now - 86_400_000, now),
  ]);
}
