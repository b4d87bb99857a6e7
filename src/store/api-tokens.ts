/**
 * D1 access to personal API tokens (mobile app, integrations). A token is shown once; only
 * its SHA-256 is stored, so a database reader cannot use one.
 */

export interface ApiTokenListing {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

interface TokenRow {
  id: string;
  agent_id: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** Stores a new token's hash. */
export async function insertApiToken(
  db: D1Database,
  token: {
    id: string;
    agentId: string;
    name: string;
    hash: string;
    now: number;
    expiresAt: number;
  },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO api_tokens (id, agent_id, name, token_hash, created_at, expires_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
    )
    .bind(token.id, token.agentId, token.name, token.hash, token.now, token.expiresAt)
    .run();
}

/** The live token with this hash (not revoked, not expired), or null. */
export async function findLiveApiToken(
  db: D1Database,
  hash: string,
  now: number,
): Promise<{ id: string; agentId: string; createdAt: number; lastUsedAt: number | null } | null> {
  const row = await db
    .prepare(
      `SELECT id, agent_id, name, created_at, expires_at, last_used_at FROM api_tokens
       WHERE token_hash = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)`,
    )
    .bind(hash, now)
    .first<TokenRow>();
  return row
    ? { id: row.id, agentId: row.agent_id, createdAt: row.created_at, lastUsedAt: row.last_used_at }
    : null;
}

/** Notes that the token was used (callers throttle this). */
export async function touchApiToken(db: D1Database, id: string, now: number): Promise<void> {
  await db.prepare("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1").bind(id, now).run();
}

/** An agent's live tokens, newest first. */
export async function listApiTokens(
  db: D1Database,
  agentId: string,
  now: number,
): Promise<ApiTokenListing[]> {
  const { results } = await db
    .prepare(
      `SELECT id, agent_id, name, created_at, expires_at, last_used_at FROM api_tokens
       WHERE agent_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
       ORDER BY created_at DESC`,
    )
    .bind(agentId, now)
    .all<TokenRow>();
  return results.map((row) => ({
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  }));
}

/** Revokes one of the agent's tokens; false when it is not theirs or already revoked. */
export async function revokeApiToken(
  db: D1Database,
  agentId: string,
  id: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE api_tokens SET revoked_at = ?3 WHERE id = ?1 AND agent_id = ?2 AND revoked_at IS NULL",
    )
    .bind(id, agentId, now)
    .run();
  return result.meta.changes === 1;
}
