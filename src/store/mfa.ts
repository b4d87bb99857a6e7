/** D1 access to agents' TOTP enrolment and recovery codes. */

export interface MfaSecrets {
  secret: string | null;
  pendingSecret: string | null;
}

/** The agent's TOTP secrets (active and pending). */
export async function readMfaSecrets(db: D1Database, agentId: string): Promise<MfaSecrets> {
  const row = await db
    .prepare(
      "SELECT totp_secret AS secret, totp_pending_secret AS pendingSecret FROM agents WHERE id = ?1",
    )
    .bind(agentId)
    .first<MfaSecrets>();
  return { secret: row?.secret ?? null, pendingSecret: row?.pendingSecret ?? null };
}

/** Stores a secret offered by setup (not active until confirmed). */
export async function setPendingSecret(db: D1Database, agentId: string, secret: string) {
  await db
    .prepare("UPDATE agents SET totp_pending_secret = ?2 WHERE id = ?1")
    .bind(agentId, secret)
    .run();
}

/** Activates the pending secret and replaces the recovery codes, in one batch. */
export async function enableMfa(
  db: D1Database,
  agentId: string,
  secret: string,
  step: number,
  codeHashes: string[],
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `UPDATE agents SET totp_secret = ?2, totp_pending_secret = NULL, totp_last_step = ?3
         WHERE id = ?1`,
      )
      .bind(agentId, secret, step),
    db.prepare("DELETE FROM mfa_recovery_codes WHERE agent_id = ?1").bind(agentId),
    ...codeHashes.map((hash) =>
      db
        .prepare("INSERT INTO mfa_recovery_codes (agent_id, code_hash) VALUES (?1, ?2)")
        .bind(agentId, hash),
    ),
  ]);
}

/** Removes the agent's MFA enrolment and recovery codes. */
export async function disableMfa(db: D1Database, agentId: string): Promise<void> {
  await db.batch([
    db
      .prepare(
        `UPDATE agents SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL
         WHERE id = ?1`,
      )
      .bind(agentId),
    db.prepare("DELETE FROM mfa_recovery_codes WHERE agent_id = ?1").bind(agentId),
  ]);
}

/**
 * Records an accepted TOTP step; false when that step (or a later one) was already used,
 * so the same code never works twice. The UPDATE is the check, so it is race-free.
 */
export async function claimTotpStep(db: D1Database, agentId: string, step: number) {
  const { meta } = await db
    .prepare(
      `UPDATE agents SET totp_last_step = ?2
       WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)`,
    )
    .bind(agentId, step)
    .run();
  return meta.changes === 1;
}

/** Spends a recovery code; false when the agent has no such unused code. */
export async function spendRecoveryCode(db: D1Database, agentId: string, codeHash: string) {
  const { meta } = await db
    .prepare("DELETE FROM mfa_recovery_codes WHERE agent_id = ?1 AND code_hash = ?2")
    .bind(agentId, codeHash)
    .run();
  return meta.changes === 1;
}
