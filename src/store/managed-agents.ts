/**
 * D1 access for agent management: listing agents with their memberships and grants,
 * creating them, disabling and enabling them, and one-time password links.
 */
import type { ManagedAgent } from "../protocol/management.ts";
import { hashToken, randomToken } from "../security/tokens.ts";
import { EFFECTIVE_PERMISSIONS_SQL, parsePermissionList } from "./grants.ts";

const SELECT_MANAGED = `
  SELECT a.id, a.email, a.name, a.disabled_at, a.last_login_at,
         a.totp_secret IS NOT NULL AS mfa_enabled,
         (SELECT locked_until FROM login_failures
          WHERE kind = 'account' AND key = lower(a.email)) AS locked_until,
         (SELECT group_concat(department_id) FROM agent_departments WHERE agent_id = a.id)
           AS departments,
         (SELECT group_concat(group_id) FROM agent_groups WHERE agent_id = a.id) AS groups,
         (SELECT group_concat(permission) FROM grants
          WHERE subject_type = 'agent' AND subject_id = a.id) AS grants,
         ${EFFECTIVE_PERMISSIONS_SQL} AS permissions
  FROM agents a`;

interface ManagedRow {
  id: string;
  email: string;
  name: string;
  disabled_at: number | null;
  last_login_at: number | null;
  mfa_enabled: number;
  locked_until: number | null;
  departments: string | null;
  groups: string | null;
  grants: string | null;
  permissions: string | null;
}

function toManaged(row: ManagedRow): ManagedAgent {
  const list = (value: string | null) => (value ? value.split(",").sort() : []);
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    departments: row.departments ? list(row.departments) : ["general"],
    groups: list(row.groups),
    grants: parsePermissionList(row.grants),
    permissions: parsePermissionList(row.permissions),
    disabledAt: row.disabled_at,
    lastLoginAt: row.last_login_at,
    mfaEnabled: row.mfa_enabled === 1,
    // A lock that has run out is no lock (the next login clears it).
    lockedUntil:
      row.locked_until !== null && row.locked_until > Date.now() ? row.locked_until : null,
  };
}

/** Every agent, by email. */
export async function listManagedAgents(db: D1Database): Promise<ManagedAgent[]> {
  const { results } = await db
    .prepare(`${SELECT_MANAGED} ORDER BY a.email COLLATE NOCASE`)
    .all<ManagedRow>();
  return results.map(toManaged);
}

/** One agent, or null. */
export async function findManagedAgent(db: D1Database, id: string): Promise<ManagedAgent | null> {
  const row = await db.prepare(`${SELECT_MANAGED} WHERE a.id = ?1`).bind(id).first<ManagedRow>();
  return row ? toManaged(row) : null;
}

/** True when an agent (enabled or not) has this email. */
export async function emailTaken(db: D1Database, email: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM agents WHERE email = ?1").bind(email).first()) !== null;
}

/** The ids among `ids` that exist in `table` (departments or groups). */
export async function existingIds(
  db: D1Database,
  table: "departments" | "groups",
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { results } = await db
    .prepare(`SELECT id FROM ${table} WHERE id IN (SELECT value FROM json_each(?1))`)
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/**
 * Statement that inserts an agent whose password is `unusableHash` (a hash of a random
 * secret nobody knows) and must be chosen through a set-password link.
 */
export function insertAgent(
  db: D1Database,
  agent: { id: string; email: string; name: string; unusableHash: string; now: number },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO agents (id, email, name, password_hash, password_changed_at,
         must_change_password, last_login_at, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 1, ?5, ?5)`,
    )
    .bind(agent.id, agent.email, agent.name, agent.unusableHash, agent.now);
}

/** Statements that disable an agent and end every session at once. */
export function disableAgentStatements(
  db: D1Database,
  id: string,
  now: number,
): D1PreparedStatement[] {
  return [
    db
      .prepare("UPDATE agents SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL")
      .bind(id, now),
    db
      .prepare("UPDATE sessions SET revoked_at = ?2 WHERE agent_id = ?1 AND revoked_at IS NULL")
      .bind(id, now),
  ];
}

/** Enables an agent; the inactivity clock starts again now (or the next cron disables them). */
export function enableAgent(db: D1Database, id: string, now: number): D1PreparedStatement {
  return db
    .prepare("UPDATE agents SET disabled_at = NULL, last_login_at = ?2 WHERE id = ?1")
    .bind(id, now);
}

/** How long a set-password or reset link stays valid. */
export const PASSWORD_LINK_MINUTES = 30;

/** Password links issued for the agent in the last 24 hours (PASSWORD_RESETS_PER_DAY). */
export async function recentPasswordLinks(
  db: D1Database,
  agentId: string,
  now: number,
): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM password_tokens WHERE agent_id = ?1 AND created_at > ?2")
    .bind(agentId, now - 86_400_000)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Statements issuing a one-time password link; earlier unused links of the agent stop
 * working. Only the token's SHA-256 is stored: the token goes to the caller once.
 */
export async function passwordLinkStatements(
  db: D1Database,
  agentId: string,
  purpose: "set" | "reset",
  now: number,
): Promise<{ token: string; expiresAt: number; statements: D1PreparedStatement[] }> {
  const token = randomToken();
  const expiresAt = now + PASSWORD_LINK_MINUTES * 60_000;
  return {
    token,
    expiresAt,
    statements: [
      db
        .prepare("UPDATE password_tokens SET used_at = ?2 WHERE agent_id = ?1 AND used_at IS NULL")
        .bind(agentId, now),
      db
        .prepare(
          `INSERT INTO password_tokens (token_hash, agent_id, purpose, created_at, expires_at)
           VALUES (?1, ?2, ?3, ?4, ?5)`,
        )
        .bind(await hashToken(token), agentId, purpose, now, expiresAt),
    ],
  };
}
