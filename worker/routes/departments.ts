/**
 * Departments (`departments.manage`): list, create, rename, require MFA, set grants. The
 * list is also readable with `agents.manage`, to assign agents. Grant changes pass the same
 * review as agents' (`applyGrantChange`) and need a recent re-authentication.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
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
import { clientInfo } from "../client-info.ts";
import { applyGrantChange } from "../grant-change.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const departmentsRoutes = new Hono<AppEnv>();

departmentsRoutes.use(requireAgent());
const manage = requirePermission("departments.manage");

departmentsRoutes.get("/", requirePermission("departments.manage", "agents.manage"), async (c) =>
  c.json({ departments: await listDepartments(c.env.DB) }),
);

departmentsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createDepartmentRequest);
  if (!(await createTeam(c.env.DB, "departments", input, Date.now()))) {
    throw new ApiError(409, "department_exists", "A department with this id already exists.");
  }
  await audit(c, "department.create", input.id, input);
  return c.json({ department: await findDepartment(c, input.id) }, 201);
});

departmentsRoutes.patch("/:id", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const input = await readJson(c, updateDepartmentRequest);
  if (!(await updateTeam(c.env.DB, "departments", id, input))) throw notFound();
  await audit(c, "department.update", id, input);
  return c.json({ department: await findDepartment(c, id) });
});

departmentsRoutes.put("/:id/grants", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const { permissions } = await readJson(c, setGrantsRequest);
  const before = await findDepartment(c, id);
  await applyGrantChange(c, {
    action: "department.grants",
    target: id,
    details: { before: before.grants, after: permissions },
    apply: (graph) => graph.grants.set(subjectKey("department", id), new Set(permissions)),
    statements: (db) => replaceGrants(db, "department", id, permissions),
  });
  return c.json({ department: await findDepartment(c, id) });
});

function notFound(): ApiError {
  return new ApiError(404, "department_not_found", "No such department.");
}

async function findDepartment(c: Context<AppEnv>, id: string) {
  const found = (await listDepartments(c.env.DB)).find((d) => d.id === id);
  if (!found) throw notFound();
  return found;
}

async function audit(c: Context<AppEnv>, action: string, target: string, details: object) {
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action,
    target,
    outcome: "success",
    ...clientInfo(c),
    department: target,
    details: { ...details },
    at: Date.now(),
  });
}
