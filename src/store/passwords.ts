/** D1 access to password changes and the password history (PCI DSS 8.3.7). */

/** The hashes an agent's new password may not match: the current one and earlier ones. */
export async function recentPasswordHashes(
  db: D1Database,
  agentId: string,
  count: number,
): Promise<string[]> {
  if (count <= 0) return [];
  const { results } = await db
    .prepare(
      `SELECT hash FROM (
         SELECT password_hash AS hash, password_changed_at AS at FROM agents WHERE id = ?1
         UNION ALL
         SELECT hash, changed_at AS at FROM password_history WHERE agent_id = ?1
       ) ORDER BY at DESC LIMIT ?2`,
    )
    .bind(agentId, count)
    .all<{ hash: string }>();
  return results.map((row) => row.hash);
}

/**
 * Replaces an agent's password: the old hash goes to the history (trimmed to `keep`
 * entries), the agent no longer has to change it. One batch, so it is all or nothing.
 */
export async function setPassword(
  db: D1Database,
  agentId: string,
  newHash: string,
  now: number,
  keep: number,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `INSERT INTO password_history (agent_id, hash, changed_at)
         SELECT id, password_hash, password_changed_at FROM agents WHERE id = ?1`,
      )
      .bind(agentId),
    db
      .prepare(
        `UPDATE agents SET password_hash = ?2, password_changed_at = ?3, must_change_password = 0
         WHERE id = ?1`,
      )
      .bind(agentId, newHash, now),
    db
      .prepare(
        `DELETE FROM password_history WHERE agent_id = ?1 AND rowid NOT IN (
           SELECT rowid FROM password_history WHERE agent_id = ?1 ORDER BY changed_at DESC LIMIT ?2)`,
      )
      .bind(agentId, Math.max(keep, 0)),
  ]);
}

/**
 * Spends a one-time token: marks it used and returns its agent, or null when it is
 * unknown, already used or expired. The UPDATE is the check, so two concurrent uses of
 * the same token cannot both succeed.
 */
export async function spendPasswordToken(
  db: D1Database,
  tokenHash: string,
  now: number,
): Promise<{ agentId: string; purpose: "reset" | "set" } | null> {
  const row = await db
    .prepare(
      `UPDATE password_tokens SET used_at = ?2
       WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
       RETURNING agent_id AS agentId, purpose`,
    )
    .bind(tokenHash, now)
    .first<{ agentId: string; purpose: "reset" | "set" }>();
  return row ?? null;
}
