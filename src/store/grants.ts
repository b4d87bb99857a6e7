/**
 * D1 access to grants, groups and memberships. Reads the whole grant graph for management
 * checks (agents number in the hundreds, so one snapshot is cheap) and writes a reviewed
 * change as one batch (a D1 batch is a transaction).
 */
import type { GrantGraph, GrantSubjectType } from "../security/grant-graph.ts";
import { subjectKey } from "../security/grant-graph.ts";
import { isPermission, type Permission } from "../security/permissions.ts";

/**
 * SQL of an agent's effective permissions, comma-separated, for the agent aliased `a`:
 * own grants, the grants of each department (or of `general` when the agent has none) and
 * of each group.
 */
export const EFFECTIVE_PERMISSIONS_SQL = `(
  SELECT group_concat(DISTINCT g.permission) FROM grants g
  WHERE (g.subject_type = 'agent' AND g.subject_id = a.id)
     OR (g.subject_type = 'group' AND g.subject_id IN
           (SELECT group_id FROM agent_groups WHERE agent_id = a.id))
     OR (g.subject_type = 'department' AND g.subject_id IN (
           SELECT department_id FROM agent_departments WHERE agent_id = a.id
           UNION ALL SELECT 'general'
           WHERE NOT EXISTS (SELECT 1 FROM agent_departments WHERE agent_id = a.id))))`;

/** Parses the comma-separated list of EFFECTIVE_PERMISSIONS_SQL, dropping unknown ids. */
export function parsePermissionList(list: string | null): Permission[] {
  if (!list) return [];
  return list.split(",").filter(isPermission).sort();
}

/** Loads every agent's memberships and every grant. */
export async function loadGrantGraph(db: D1Database): Promise<GrantGraph> {
  const [agents, departments, groups, grants] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT id, disabled_at FROM agents"),
    db.prepare("SELECT agent_id, department_id AS subject FROM agent_departments"),
    db.prepare("SELECT agent_id, group_id AS subject FROM agent_groups"),
    db.prepare("SELECT subject_type, subject_id, permission FROM grants"),
  ]);
  const graph: GrantGraph = { agents: new Map(), grants: new Map() };
  for (const row of agents?.results ?? []) {
    const id = String(row.id);
    graph.agents.set(id, { id, disabled: row.disabled_at !== null, departments: [], groups: [] });
  }
  for (const row of departments?.results ?? []) {
    graph.agents.get(String(row.agent_id))?.departments.push(String(row.subject));
  }
  for (const row of groups?.results ?? []) {
    graph.agents.get(String(row.agent_id))?.groups.push(String(row.subject));
  }
  for (const row of grants?.results ?? []) {
    const permission = String(row.permission);
    if (!isPermission(permission)) continue;
    const key = subjectKey(row.subject_type as GrantSubjectType, String(row.subject_id));
    const set = graph.grants.get(key) ?? new Set<Permission>();
    set.add(permission);
    graph.grants.set(key, set);
  }
  return graph;
}

/** The grants given directly to one subject. */
export async function subjectGrants(
  db: D1Database,
  type: GrantSubjectType,
  id: string,
): Promise<Permission[]> {
  const { results } = await db
    .prepare("SELECT permission FROM grants WHERE subject_type = ?1 AND subject_id = ?2")
    .bind(type, id)
    .all<{ permission: string }>();
  return results
    .map((r) => r.permission)
    .filter(isPermission)
    .sort();
}

/** Statements that replace a subject's grants. */
export function replaceGrants(
  db: D1Database,
  type: GrantSubjectType,
  id: string,
  permissions: readonly Permission[],
): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM grants WHERE subject_type = ?1 AND subject_id = ?2").bind(type, id),
    ...[...new Set(permissions)].map((p) =>
      db
        .prepare("INSERT INTO grants (subject_type, subject_id, permission) VALUES (?1, ?2, ?3)")
        .bind(type, id, p),
    ),
  ];
}

/** Statements that replace an agent's departments. */
export function replaceAgentDepartments(
  db: D1Database,
  agentId: string,
  departments: readonly string[],
): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM agent_departments WHERE agent_id = ?1").bind(agentId),
    ...[...new Set(departments)].map((d) =>
      db
        .prepare("INSERT INTO agent_departments (agent_id, department_id) VALUES (?1, ?2)")
        .bind(agentId, d),
    ),
  ];
}

/** Statements that replace an agent's groups. */
export function replaceAgentGroups(
  db: D1Database,
  agentId: string,
  groups: readonly string[],
): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM agent_groups WHERE agent_id = ?1").bind(agentId),
    ...[...new Set(groups)].map((g) =>
      db.prepare("INSERT INTO agent_groups (agent_id, group_id) VALUES (?1, ?2)").bind(agentId, g),
    ),
  ];
}

/** What an agent may do and see right now. */
export interface AgentAccess {
  permissions: Permission[];
  /** The agent's departments (`general` when none): they scope chats, queue and transcripts. */
  departments: string[];
}

/**
 * The current access of several agents, read at the moment of an action (disabled and
 * unknown agents get no permissions and no departments).
 */
export async function accessOf(
  db: D1Database,
  agentIds: readonly string[],
): Promise<Map<string, AgentAccess>> {
  const none = (): AgentAccess => ({ permissions: [], departments: [] });
  const result = new Map<string, AgentAccess>(agentIds.map((id) => [id, none()]));
  if (agentIds.length === 0) return result;
  // One bound parameter however many agents (D1 allows 100 per statement).
  const { results } = await db
    .prepare(
      `SELECT a.id, ${EFFECTIVE_PERMISSIONS_SQL} AS permissions,
         (SELECT group_concat(department_id) FROM agent_departments WHERE agent_id = a.id)
           AS departments
       FROM agents a
       WHERE a.disabled_at IS NULL AND a.id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify([...new Set(agentIds)]))
    .all<{ id: string; permissions: string | null; departments: string | null }>();
  for (const row of results) {
    result.set(row.id, {
      permissions: parsePermissionList(row.permissions),
      departments: row.departments ? row.departments.split(",").sort() : ["general"],
    });
  }
  return result;
}
