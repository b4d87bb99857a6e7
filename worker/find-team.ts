/** Departments and groups by id, for their management routes (same lookup, own 404 codes). */
import type { ManagedSubject } from "../src/protocol/management.ts";
import { listDepartments, listGroups } from "../src/store/teams.ts";
import { ApiError } from "./api-error.ts";

type TeamTable = "departments" | "groups";

/** The 404 of a department or group that does not exist. */
export function teamNotFound(table: TeamTable): ApiError {
  return table === "departments"
    ? new ApiError(404, "department_not_found", "No such department.")
    : new ApiError(404, "group_not_found", "No such group.");
}

/** The department or group with its grants and member count; a 404 when there is none. */
export async function findTeam(
  db: D1Database,
  table: TeamTable,
  id: string,
): Promise<ManagedSubject> {
  const list = table === "departments" ? listDepartments : listGroups;
  const found = (await list(db)).find((team) => team.id === id);
  if (!found) throw teamNotFound(table);
  return found;
}
