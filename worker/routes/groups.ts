/**
 * Groups (`groups.manage`): list, create, rename, delete, set grants. The presets
 * (administrators, supervisors, agents) are ordinary groups. The list is also readable with
 * `agents.manage`, to assign agents. Grant changes and deletions pass the same review as
 * agents' (`applyGrantChange`) and need a recent re-authentication.
 */
import { Hono } from "hono";
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
import { auditAction } from "../audit-action.ts";
import { findTeam, teamNotFound } from "../find-team.ts";
import { applyGrantChange } from "../grant-change.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const groupsRoutes = new Hono<AppEnv>();

groupsRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("groups.manage");

groupsRoutes.get("/", requirePermission("groups.manage", "agents.manage"), async (c) =>
  c.json({ groups: await listGroups(c.env.DB) }),
);

groupsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createGroupRequest);
  if (!(await createTeam(c.env.DB, "groups", input, Date.now()))) {
    throw new ApiError(409, "group_exists", "A group with this id already exists.");
  }
  await auditAction(c, {
    action: "group.create",
    target: input.id,
    outcome: "success",
    details: input,
  });
  return c.json({ group: await findTeam(c.env.DB, "groups", input.id) }, 201);
});

groupsRoutes.patch("/:id", manage, consoleOrigin(), async (c) => {
  const id = c.req.param("id");
  const input = await readJson(c, updateGroupRequest);
  if (!(await updateTeam(c.env.DB, "groups", id, input))) throw teamNotFound("groups");
  await auditAction(c, { action: "group.update", target: id, outcome: "success", details: input });
  return c.json({ group: await findTeam(c.env.DB, "groups", id) });
});

groupsRoutes.put("/:id/grants", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const { permissions } = await readJson(c, setGrantsRequest);
  const before = await findTeam(c.env.DB, "groups", id);
  await applyGrantChange(c, {
    action: "group.grants",
    target: id,
    details: { before: before.grants, after: permissions },
    apply: (graph) => graph.grants.set(subjectKey("group", id), new Set(permissions)),
    statements: (db) => replaceGrants(db, "group", id, permissions),
  });
  return c.json({ group: await findTeam(c.env.DB, "groups", id) });
});

groupsRoutes.delete("/:id", manage, consoleOrigin(), requireRecentAuth(), async (c) => {
  const id = c.req.param("id");
  const before = await findTeam(c.env.DB, "groups", id);
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
