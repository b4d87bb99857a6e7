/**
 * Agent management (`agents.manage`): list, create (the agent chooses a password through a
 * one-time link — PCI DSS 8.3.5), disable, enable, unlock, issue a reset link, and set
 * departments, groups and grants. Every change passes `applyGrantChange`: nobody can give or
 * take a permission they do not hold, and the last enabled administrator can be neither
 * disabled nor stripped; nobody can act on the account of an agent who holds more than they
 * do. Changes need a recent re-authentication and are audited.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import {
  createAgentRequest,
  type ManagedAgent,
  type PasswordLinkResponse,
  setDepartmentsRequest,
  setGrantsRequest,
  setGroupsRequest,
} from "../../src/protocol/management.ts";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { subjectKey } from "../../src/security/grant-graph.ts";
import { hashPassword } from "../../src/security/password-hash.ts";
import { beyondActor } from "../../src/security/permissions.ts";
import { randomToken } from "../../src/security/tokens.ts";
import {
  replaceAgentDepartments,
  replaceAgentGroups,
  replaceGrants,
} from "../../src/store/grants.ts";
import { clearFailures } from "../../src/store/login-failures.ts";
import {
  disableAgentStatements,
  emailTaken,
  enableAgent,
  existingIds,
  findManagedAgent,
  insertAgent,
  listManagedAgents,
  passwordLinkStatements,
  recentPasswordLinks,
} from "../../src/store/managed-agents.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { applyGrantChange } from "../grant-change.ts";
import { accountKey } from "../lockout.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin, ownOrigin } from "../middleware/origin.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const agentsRoutes = new Hono<AppEnv>();

agentsRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("agents.manage");
/** State changes: an allowed Origin and a recent proof of identity (ASVS 5.0 V7). */
const change = [manage, consoleOrigin(), requireRecentAuth()] as const;

agentsRoutes.get("/", manage, async (c) => c.json({ agents: await listManagedAgents(c.env.DB) }));

agentsRoutes.get("/:id", manage, async (c) => c.json({ agent: await agentOr404(c) }));

agentsRoutes.post("/", ...change, async (c) => {
  const input = await readJson(c, createAgentRequest);
  const db = c.env.DB;
  if (await emailTaken(db, input.email)) {
    throw new ApiError(409, "email_taken", "An agent with this email already exists.");
  }
  const departments = input.departments ?? [];
  const groups = input.groups ?? [];
  await assertKnown(db, "departments", departments);
  await assertKnown(db, "groups", groups);
  const id = crypto.randomUUID();
  const now = Date.now();
  // Nobody knows this password: the agent sets one through the link.
  const unusableHash = hashPassword(await getArgon2(), randomToken());
  const link = await passwordLinkStatements(db, id, "set", now);
  await applyGrantChange(c, {
    action: "agent.create",
    target: id,
    details: { email: input.email, departments, groups, permissions: input.permissions ?? [] },
    apply: (graph) => {
      graph.agents.set(id, { id, disabled: false, departments: [...departments], groups });
      graph.grants.set(subjectKey("agent", id), new Set(input.permissions ?? []));
    },
    statements: () => [
      insertAgent(db, { id, email: input.email, name: input.name, unusableHash, now }),
      ...replaceAgentDepartments(db, id, departments),
      ...replaceAgentGroups(db, id, groups),
      ...replaceGrants(db, "agent", id, input.permissions ?? []),
      ...link.statements,
    ],
  });
  return c.json(await linkResponse(c, id, link), 201);
});

agentsRoutes.post("/:id/disable", ...change, async (c) => {
  const agent = await agentOr404(c);
  await assertNotAbove(c, agent, "agent.disable");
  const now = Date.now();
  await applyGrantChange(c, {
    action: "agent.disable",
    target: agent.id,
    details: { email: agent.email },
    apply: (graph) => {
      const node = graph.agents.get(agent.id);
      if (node) node.disabled = true;
    },
    statements: (db) => disableAgentStatements(db, agent.id, now),
  });
  return c.json({ agent: await agentOr404(c) });
});

agentsRoutes.post("/:id/enable", ...change, async (c) => {
  const agent = await agentOr404(c);
  await assertNotAbove(c, agent, "agent.enable");
  // Enabling restores the agent's grants: the same review as a grant.
  await applyGrantChange(c, {
    action: "agent.enable",
    target: agent.id,
    details: { email: agent.email },
    apply: (graph) => {
      const node = graph.agents.get(agent.id);
      if (node) node.disabled = false;
    },
    statements: (db) => [enableAgent(db, agent.id, Date.now())],
  });
  return c.json({ agent: await agentOr404(c) });
});

/** Lifts a lockout (and clears the failure count) before the lock runs out. */
agentsRoutes.post("/:id/unlock", ...change, async (c) => {
  const agent = await agentOr404(c);
  await assertNotAbove(c, agent, "agent.unlock");
  await clearFailures(c.env.DB, "account", accountKey(agent.email));
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action: "agent.unlock",
    target: agent.id,
    outcome: "success",
    ...clientInfo(c),
    details: { wasLockedUntil: agent.lockedUntil },
    at: Date.now(),
  });
  return c.json({ agent: await agentOr404(c) });
});

/** A one-time reset link; the agent's password stays valid until the link is used. */
agentsRoutes.post("/:id/password-link", ...change, async (c) => {
  const agent = await agentOr404(c);
  await assertNotAbove(c, agent, "auth.password_reset_issue");
  const db = c.env.DB;
  const now = Date.now();
  const limit = c.var.config.passwords.resetsPerDay;
  if ((await recentPasswordLinks(db, agent.id, now)) >= limit) {
    throw new ApiError(
      429,
      "reset_limit",
      `${limit} password links were already issued for this agent in the last 24 hours.`,
    );
  }
  const link = await passwordLinkStatements(db, agent.id, "reset", now);
  await db.batch(link.statements);
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action: "auth.password_reset_issue",
    target: agent.id,
    outcome: "success",
    ...clientInfo(c),
    details: { expiresAt: link.expiresAt },
    at: now,
  });
  return c.json(await linkResponse(c, agent.id, link));
});

agentsRoutes.put("/:id/departments", ...change, async (c) => {
  const agent = await agentOr404(c);
  const { departments } = await readJson(c, setDepartmentsRequest);
  await assertKnown(c.env.DB, "departments", departments);
  await applyGrantChange(c, {
    action: "agent.departments",
    target: agent.id,
    details: { before: agent.departments, after: departments },
    apply: (graph) => {
      const node = graph.agents.get(agent.id);
      if (node) node.departments = [...departments];
    },
    statements: (db) => replaceAgentDepartments(db, agent.id, departments),
  });
  return c.json({ agent: await agentOr404(c) });
});

agentsRoutes.put("/:id/groups", ...change, async (c) => {
  const agent = await agentOr404(c);
  const { groups } = await readJson(c, setGroupsRequest);
  await assertKnown(c.env.DB, "groups", groups);
  await applyGrantChange(c, {
    action: "agent.groups",
    target: agent.id,
    details: { before: agent.groups, after: groups },
    apply: (graph) => {
      const node = graph.agents.get(agent.id);
      if (node) node.groups = [...groups];
    },
    statements: (db) => replaceAgentGroups(db, agent.id, groups),
  });
  return c.json({ agent: await agentOr404(c) });
});

agentsRoutes.put("/:id/grants", ...change, async (c) => {
  const agent = await agentOr404(c);
  const { permissions } = await readJson(c, setGrantsRequest);
  await applyGrantChange(c, {
    action: "agent.grants",
    target: agent.id,
    details: { before: agent.grants, after: permissions },
    apply: (graph) => graph.grants.set(subjectKey("agent", agent.id), new Set(permissions)),
    statements: (db) => replaceGrants(db, "agent", agent.id, permissions),
  });
  return c.json({ agent: await agentOr404(c) });
});

async function agentOr404(c: Context<AppEnv>) {
  const agent = await findManagedAgent(c.env.DB, c.req.param("id") ?? "");
  if (!agent) throw new ApiError(404, "agent_not_found", "No such agent.");
  return agent;
}

/**
 * Acting on an account (disable, enable, unlock, a password link) is acting with its
 * permissions: a reset link to an administrator's account would hand over everything it
 * holds. So the target may hold nothing the actor lacks (403 `forbidden`, audited).
 */
async function assertNotAbove(c: Context<AppEnv>, target: ManagedAgent, action: string) {
  const beyond = beyondActor(new Set(c.var.agent.permissions), target.permissions);
  if (beyond.length === 0) return;
  await appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    action,
    target: target.id,
    outcome: "denied",
    ...clientInfo(c),
    details: { reason: "target_holds_more", permissions: beyond },
    at: Date.now(),
  });
  throw new ApiError(
    403,
    "forbidden",
    "This agent holds permissions you do not hold: ask someone who holds them.",
    { permissions: beyond },
  );
}

async function assertKnown(
  db: D1Database,
  table: "departments" | "groups",
  ids: readonly string[],
): Promise<void> {
  const known = await existingIds(db, table, ids);
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ApiError(400, "invalid_request", `Unknown ${table}: ${unknown.join(", ")}.`, {
      unknown,
    });
  }
}

async function linkResponse(
  c: Context<AppEnv>,
  agentId: string,
  link: { token: string; expiresAt: number },
): Promise<PasswordLinkResponse> {
  const agent = await findManagedAgent(c.env.DB, agentId);
  if (!agent) throw new ApiError(404, "agent_not_found", "No such agent.");
  // The token travels in the fragment: never sent to a server, never in access logs.
  const base = c.var.config.consoleOrigins[0] ?? ownOrigin(c);
  return { agent, link: `${base}/console/#reset=${link.token}`, expiresAt: link.expiresAt };
}
