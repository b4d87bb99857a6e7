/** D1 access to agents and their departments. */
import type { AgentProfile } from "../protocol/http.ts";
import { EFFECTIVE_PERMISSIONS_SQL, parsePermissionList } from "./grants.ts";

export interface AgentRecord extends AgentProfile {
  passwordHash: string;
  passwordChangedAt: number;
  /** Set for passwords an administrator chose or reset: the agent must change it. */
  mustChangePassword: boolean;
  maxChats: number | null;
  disabledAt: number | null;
  lastLoginAt: number | null;
  /** Enrolled in TOTP. */
  mfaEnabled: boolean;
  /** One of the agent's departments requires MFA. */
  mfaRequiredByDepartment: boolean;
}

interface AgentRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  password_changed_at: number;
  must_change_password: number;
  max_chats: number | null;
  disabled_at: number | null;
  last_login_at: number | null;
  mfa_enabled: number;
  mfa_required_by_department: number;
  departments: string | null;
  groups: string | null;
  permissions: string | null;
}

const SELECT_AGENT = `
  SELECT a.id, a.email, a.name, a.password_hash, a.password_changed_at,
         a.must_change_password, a.max_chats, a.disabled_at, a.last_login_at,
         a.totp_secret IS NOT NULL AS mfa_enabled,
         EXISTS (SELECT 1 FROM departments d
                 WHERE d.mfa_required = 1 AND d.id IN (
                   SELECT department_id FROM agent_departments WHERE agent_id = a.id
                   UNION ALL SELECT 'general'
                   WHERE NOT EXISTS (SELECT 1 FROM agent_departments WHERE agent_id = a.id)))
           AS mfa_required_by_department,
         (SELECT group_concat(department_id) FROM agent_departments WHERE agent_id = a.id) AS departments,
         (SELECT group_concat(group_id) FROM agent_groups WHERE agent_id = a.id) AS groups,
         ${EFFECTIVE_PERMISSIONS_SQL} AS permissions
  FROM agents a`;

function toRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    passwordChangedAt: row.password_changed_at,
    mustChangePassword: row.must_change_password === 1,
    maxChats: row.max_chats,
    disabledAt: row.disabled_at,
    lastLoginAt: row.last_login_at,
    mfaEnabled: row.mfa_enabled === 1,
    mfaRequiredByDepartment: row.mfa_required_by_department === 1,
    // An agent without a department belongs to the default one.
    departments: row.departments ? row.departments.split(",").sort() : ["general"],
    groups: row.groups ? row.groups.split(",").sort() : [],
    // Read fresh on every request: a change of grants applies from the agent's next action.
    permissions: parsePermissionList(row.permissions),
  };
}

/** Finds an agent by email (case-insensitive), enabled or not. */
export async function findAgentByEmail(db: D1Database, email: string): Promise<AgentRecord | null> {
  const row = await db.prepare(`${SELECT_AGENT} WHERE a.email = ?1`).bind(email).first<AgentRow>();
  return row ? toRecord(row) : null;
}

/** Finds an agent by id, enabled or not. */
export async function findAgentById(db: D1Database, id: string): Promise<AgentRecord | null> {
  const row = await db.prepare(`${SELECT_AGENT} WHERE a.id = ?1`).bind(id).first<AgentRow>();
  return row ? toRecord(row) : null;
}

/** The public profile of an agent (never the password hash). */
export function toProfile(agent: AgentRecord): AgentProfile {
  return {
    id: agent.id,
    email: agent.email,
    name: agent.name,
    departments: agent.departments,
    groups: agent.groups,
    permissions: agent.permissions,
  };
}

/** True when the department exists. */
export async function departmentExists(db: D1Database, id: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS found FROM departments WHERE id = ?1").bind(id).first();
  return row !== null;
}

/** Records a successful login (drives the inactive-account rule). */
export async function recordLogin(db: D1Database, id: string, now: number): Promise<void> {
  await db.prepare("UPDATE agents SET last_login_at = ?2 WHERE id = ?1").bind(id, now).run();
}

/** True when the agent must enrol in MFA before doing anything else. */
export function mfaEnrollmentRequired(agent: AgentRecord, requiredEverywhere: boolean): boolean {
  return !agent.mfaEnabled && (requiredEverywhere || agent.mfaRequiredByDepartment);
}

/** True when the agent must change the password before doing anything else. */
export function passwordExpired(agent: AgentRecord, maxAgeMs: number, now: number): boolean {
  return agent.mustChangePassword || (maxAgeMs > 0 && now - agent.passwordChangedAt > maxAgeMs);
}

/** Each agent's own chat limit (`max_chats`; null: AGENT_MAX_CHATS). */
export async function agentCapacities(
  db: D1Database,
  ids: readonly string[],
): Promise<Map<string, number | null>> {
  if (ids.length === 0) return new Map();
  const { results } = await db
    .prepare("SELECT id, max_chats FROM agents WHERE id IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(ids))
    .all<{ id: string; max_chats: number | null }>();
  return new Map(results.map((row) => [row.id, row.max_chats]));
}
