/** D1 access to agent sessions: the server-side rows that session JWTs name. */

export interface SessionRecord {
  id: string;
  agentId: string;
  createdAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
  /** The last time the agent proved who they are (login or re-authentication). */
  authenticatedAt: number;
}

interface SessionRow {
  id: string;
  agent_id: string;
  created_at: number;
  last_seen_at: number;
  revoked_at: number | null;
  authenticated_at: number | null;
}

/** Creates a session row. */
export async function createSession(
  db: D1Database,
  session: {
    id: string;
    agentId: string;
    ip: string | null;
    userAgent: string | null;
    now: number;
  },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at, authenticated_at, ip, user_agent)
       VALUES (?1, ?2, ?3, ?3, ?3, ?4, ?5)`,
    )
    .bind(session.id, session.agentId, session.now, session.ip, session.userAgent)
    .run();
}

/** Reads a session row. */
export async function findSession(db: D1Database, id: string): Promise<SessionRecord | null> {
  const row = await db
    .prepare(
      `SELECT id, agent_id, created_at, last_seen_at, revoked_at, authenticated_at
       FROM sessions WHERE id = ?1`,
    )
    .bind(id)
    .first<SessionRow>();
  if (!row) return null;
  return {
    id: row.id,
    agentId: row.agent_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    revokedAt: row.revoked_at,
    authenticatedAt: row.authenticated_at ?? row.created_at,
  };
}

/** How long a session may idle, and live at all (from Config). */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/**
 * Records activity on a session (drives the idle timeout) — only while the session is still
 * valid: activity must never bring an idle-expired, expired or revoked session back.
 */
export async function touchSession(
  db: D1Database,
  id: string,
  now: number,
  limits: SessionLimits,
): Promise<void> {
  await db
    .prepare(
      `UPDATE sessions SET last_seen_at = ?2
       WHERE id = ?1 AND revoked_at IS NULL AND last_seen_at >= ?3 AND created_at >= ?4`,
    )
    .bind(id, now, now - limits.idleMs, now - limits.absoluteMs)
    .run();
}

/** Records a successful re-authentication on the session. */
export async function markAuthenticated(db: D1Database, id: string, now: number): Promise<void> {
  await db.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE id = ?1").bind(id, now).run();
}

/** Revokes a session; later requests with its token are refused. */
export async function revokeSession(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
    .bind(id, now)
    .run();
}

/**
 * Revokes every live session of an agent, except `keep` (e.g. the one changing the
 * password), and every personal API token: what a password change, a reset or a lockout
 * answers must not live on in a token made with the old credentials.
 */
export async function revokeAgentSessions(
  db: D1Database,
  agentId: string,
  now: number,
  keep: string | null = null,
): Promise<void> {
  await db.batch([
    db
      .prepare(
        `UPDATE sessions SET revoked_at = ?2
         WHERE agent_id = ?1 AND revoked_at IS NULL AND id IS NOT ?3`,
      )
      .bind(agentId, now, keep),
    db
      .prepare("UPDATE api_tokens SET revoked_at = ?2 WHERE agent_id = ?1 AND revoked_at IS NULL")
      .bind(agentId, now),
  ]);
}

export interface SessionListing {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
}

/** An agent's live sessions (not revoked, within both timeouts), newest first. */
export async function listLiveSessions(
  db: D1Database,
  agentId: string,
  now: number,
  limits: SessionLimits,
): Promise<SessionListing[]> {
  const { results } = await db
    .prepare(
      `SELECT id, created_at AS createdAt, last_seen_at AS lastSeenAt, ip, user_agent AS userAgent
       FROM sessions
       WHERE agent_id = ?1 AND revoked_at IS NULL AND last_seen_at >= ?2 AND created_at >= ?3
       ORDER BY last_seen_at DESC`,
    )
    .bind(agentId, now - limits.idleMs, now - limits.absoluteMs)
    .all<SessionListing>();
  return results;
}

/** Of `ids`, the sessions still valid now (unrevoked, within limits, agent enabled). */
export async function validSessionIds(
  db: D1Database,
  ids: string[],
  now: number,
  limits: SessionLimits,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const valid = new Set<string>();
  // D1 allows 100 bound parameters per statement.
  for (let start = 0; start < ids.length; start += 90) {
    const chunk = ids.slice(start, start + 90);
    const { results } = await db
      .prepare(
        `SELECT s.id FROM sessions s JOIN agents a ON a.id = s.agent_id
         WHERE s.id IN (${chunk.map(() => "?").join(", ")})
           AND s.revoked_at IS NULL AND a.disabled_at IS NULL
           AND s.last_seen_at >= ? AND s.created_at >= ?`,
      )
      .bind(...chunk, now - limits.idleMs, now - limits.absoluteMs)
      .all<{ id: string }>();
    for (const row of results) valid.add(row.id);
  }
  return valid;
}

/** How recent a login or re-authentication must be for security-critical actions. */
export const RECENT_AUTH_MS = 5 * 60_000;

/** True when the session is live and its agent proved who they are within RECENT_AUTH_MS. */
export async function authenticatedRecently(
  db: D1Database,
  sessionId: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT coalesce(authenticated_at, created_at) AS at FROM sessions
       WHERE id = ?1 AND revoked_at IS NULL`,
    )
    .bind(sessionId)
    .first<{ at: number }>();
  return row !== null && now - row.at <= RECENT_AUTH_MS;
}
