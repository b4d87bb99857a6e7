/**
 * Groups (`groups.manage`): list, create, rename, delete, set grants. The presets
 * (administrators, supervisors, agents) are ordinary groups. The list is also readable with
 * `agents.manage`, to assign agents. Grant changes and deletions pass the same review as
 * agents' (`applyGrantChange`) and need a recent re-authentication.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import {
  createGroupRequest,
  setGrantsRequest,
  updateGroupRequest,
} from "../../src/protocol/management.ts";
import { subjectKey } from "../../src/security/grant-graph.ts";
import { replaceGrants } from "../../src/store/grants.ts";
import {
  createTeam,
  deleteGroupStatements,
  listGroups,
  updateTeam,
} from "../../src/store/teams.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { applyGrantChange } from "../grant-change.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const groupsRoutes = new Hono<AppEnv>();

groupsRoutes.use(requireAgent());
const manage = requirePermission("groups.manage");

groupsRoutes.get("/", requirePermission("groups.manage", "agents.manage"), async (c) =>
  c.json({ groups: await listGroups(c.env.DB) }),
);

groupsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createGroupRequest);
  if (!(await createTeam(c.env.DB, "groups", input, Date.now()))) {
    throw new ApiError(409, "group_exists", "A group with this id already exists.");
  }
  await audit(c, "group.create", input.id, input);
  return c.json({ group: await findGroup(c, input.id) }, 201);
});

groupsRoutes.patch("/:id", manage, consoleOrigin(), async (c) => {
  const id = c.req.param("id");
  const input = await readJson(c, updateGroupRequest);
  if (!(await updateTeam(c.env.DB, "groups", id, input))) throw notFound();
  await audit(c, "group.update", id, input);
  return c.json({ group: await findGroup(c, id) });
});

groupsRoutes.put("/:id/grants", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const { permissions } = await readJson(c, setGrantsRequest);
  const before = await findGroup(c, id);
  await applyGrantChange(c, {
    action: "group.grants",
    target: id,
    details: { before: before.grants, after: permissions },
    apply: (graph) => graph.grants.set(subjectKey("group", id), new Set(permissions)),
    statements: (db) => replaceGrants(db, "group", id, permissions),
  });
  return c.json({ group: await findGroup(c, id) });
});

groupsRoutes.delete("/:id", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const before = await findGroup(c, id);
  await applyGrantChange(c, {
    action: "group.delete",
    target: id,
    details: { name: before.name, grants: before.grants, members: before.members },
    apply: (graph) => {
      graph.grants.delete(subjectKey("group", id));
      for (const agent of graph.agents.values()) {
        agent.groups = agent.groups.filter((g) => g !== id);
      }
    },
    statements: (db) => deleteGroupStatements(db, id),
  });
  return c.json({ ok: true });
});

function notFound(): ApiError {
  return new ApiError(404, "group_not_found", "No such group.");
}

async function findGroup(c: Context<AppEnv>, id: string) {
  const found = (await listGroups(c.env.DB)).find((g) => g.id === id);
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
    details: { ...details },
    at: Date.now(),
  });
}
