/**
 * Departments (`departments.manage`): list, create, rename, require MFA, set grants. The
 * list is also readable with `agents.manage`, to assign agents. Grant changes pass the same
 * review as agents' (`applyGrantChange`) and need a recent re-authentication.
 */
import { Hono } from "hono";
import {
  createDepartmentRequest,
  setGrantsRequest,
  updateDepartmentRequest,
} from "../../src/protocol/management.ts";
import { subjectKey } from "../../src/security/grant-graph.ts";
import { replaceGrants } from "../../src/store/grants.ts";
import { createTeam, listDepartments, updateTeam } from "../../src/store/teams.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { findTeam, teamNotFound } from "../find-team.ts";
import { applyGrantChange } from "../grant-change.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const departmentsRoutes = new Hono<AppEnv>();

departmentsRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("departments.manage");

departmentsRoutes.get("/", requirePermission("departments.manage", "agents.manage"), async (c) =>
  c.json({ departments: await listDepartments(c.env.DB) }),
);

departmentsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createDepartmentRequest);
  if (!(await createTeam(c.env.DB, "departments", input, Date.now()))) {
    throw new ApiError(409, "department_exists", "A department with this id already exists.");
  }
  await auditAction(c, {
    action: "department.create",
    target: input.id,
    outcome: "success",
    department: input.id,
    details: input,
  });
  return c.json({ department: await findTeam(c.env.DB, "departments", input.id) }, 201);
});

departmentsRoutes.patch("/:id", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const input = await readJson(c, updateDepartmentRequest);
  if (!(await updateTeam(c.env.DB, "departments", id, input))) throw teamNotFound("departments");
  await auditAction(c, {
    action: "department.update",
    target: id,
    outcome: "success",
    department: id,
    details: input,
  });
  return c.json({ department: await findTeam(c.env.DB, "departments", id) });
});

departmentsRoutes.put("/:id/grants", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const { permissions } = await readJson(c, setGrantsRequest);
  const before = await findTeam(c.env.DB, "departments", id);
  await applyGrantChange(c, {
    action: "department.grants",
    target: id,
    details: { before: before.grants, after: permissions },
    apply: (graph) => graph.grants.set(subjectKey("department", id), new Set(permissions)),
    statements: (db) => replaceGrants(db, "department", id, permissions),
  });
  return c.json({ department: await findTeam(c.env.DB, "departments", id) });
});
