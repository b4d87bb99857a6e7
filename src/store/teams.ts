/** D1 access to departments and groups: the two shared levels of grants. */
import type { ManagedSubject } from "../protocol/management.ts";
import { parsePermissionList } from "./grants.ts";

interface SubjectRow {
  id: string;
  name: string;
  grants: string | null;
  members: number;
  mfa_required?: number;
}

function toSubject(row: SubjectRow): ManagedSubject {
  const subject: ManagedSubject = {
    id: row.id,
    name: row.name,
    grants: parsePermissionList(row.grants),
    members: row.members,
  };
  if (row.mfa_required !== undefined) subject.mfaRequired = row.mfa_required === 1;
  return subject;
}

/** Every department with its grants and member count (agents without one count for general). */
export async function listDepartments(db: D1Database): Promise<ManagedSubject[]> {
  const { results } = await db
    .prepare(
      `SELECT d.id, d.name, d.mfa_required,
         (SELECT group_concat(permission) FROM grants
          WHERE subject_type = 'department' AND subject_id = d.id) AS grants,
         (SELECT count(*) FROM agent_departments WHERE department_id = d.id)
           + CASE WHEN d.id = 'general' THEN (SELECT count(*) FROM agents a WHERE NOT EXISTS
               (SELECT 1 FROM agent_departments WHERE agent_id = a.id)) ELSE 0 END AS members
       FROM departments d ORDER BY d.id`,
    )
    .all<SubjectRow>();
  return results.map(toSubject);
}

/** Every group with its grants and member count. */
export async function listGroups(db: D1Database): Promise<ManagedSubject[]> {
  const { results } = await db
    .prepare(
      `SELECT g.id, g.name,
         (SELECT group_concat(permission) FROM grants
          WHERE subject_type = 'group' AND subject_id = g.id) AS grants,
         (SELECT count(*) FROM agent_groups WHERE group_id = g.id) AS members
       FROM groups g ORDER BY g.id`,
    )
    .all<SubjectRow>();
  return results.map(toSubject);
}

/** Creates a department or group; false when the id is taken. */
export async function createTeam(
  db: D1Database,
  table: "departments" | "groups",
  team: { id: string; name: string; mfaRequired?: boolean },
  now: number,
): Promise<boolean> {
  const statement =
    table === "departments"
      ? db
          .prepare(
            `INSERT OR IGNORE INTO departments (id, name, mfa_required, created_at)
             VALUES (?1, ?2, ?3, ?4)`,
          )
          .bind(team.id, team.name, team.mfaRequired ? 1 : 0, now)
      : db
          .prepare("INSERT OR IGNORE INTO groups (id, name, created_at) VALUES (?1, ?2, ?3)")
          .bind(team.id, team.name, now);
  const result = await statement.run();
  return result.meta.changes === 1;
}

/** Renames a department or group (and sets a department's MFA rule); false when unknown. */
export async function updateTeam(
  db: D1Database,
  table: "departments" | "groups",
  id: string,
  changes: { name?: string | undefined; mfaRequired?: boolean | undefined },
): Promise<boolean> {
  const current = await db
    .prepare(`SELECT name FROM ${table} WHERE id = ?1`)
    .bind(id)
    .first<{ name: string }>();
  if (!current) return false;
  const name = changes.name ?? current.name;
  if (table === "departments" && changes.mfaRequired !== undefined) {
    await db
      .prepare("UPDATE departments SET name = ?2, mfa_required = ?3 WHERE id = ?1")
      .bind(id, name, changes.mfaRequired ? 1 : 0)
      .run();
  } else {
    await db.prepare(`UPDATE ${table} SET name = ?2 WHERE id = ?1`).bind(id, name).run();
  }
  return true;
}

/** Statements deleting a group, its grants and memberships. */
export function deleteGroupStatements(db: D1Database, id: string): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM grants WHERE subject_type = 'group' AND subject_id = ?1").bind(id),
    db.prepare("DELETE FROM groups WHERE id = ?1").bind(id),
  ];
}
