/**
 * Routing and allocation rules (`routing.manage`): per department the strategy, the offer
 * timeout, overflow to another department and business hours; per agent the capacity. A
 * department without rules uses the defaults. Changes need an allowed Origin, are audited
 * (`routing.rules_update`, `routing.rules_reset`, `routing.capacity_update`, before and
 * after) and make the Dispatcher re-read rules and capacities at once.
 */
import { type Context, Hono } from "hono";
import { getDispatcher } from "../../durable-objects/dispatcher.ts";
import type { ManagedSubject } from "../../src/protocol/management.ts";
import {
  type AgentCapacityResponse,
  agentCapacityRequest,
  type RoutingRule,
  type RoutingRuleRequest,
  type RoutingRuleView,
  routingRuleRequest,
} from "../../src/protocol/routing.ts";
import { departmentExists, findAgentById } from "../../src/store/agents.ts";
import {
  deleteRoutingRule,
  findRoutingRule,
  loadRoutingRules,
  saveRoutingRule,
  setAgentMaxChats,
} from "../../src/store/routing-rules.ts";
import { listDepartments } from "../../src/store/teams.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { findTeam } from "../find-team.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const routingRoutes = new Hono<AppEnv>();

routingRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("routing.manage");

/** What a department routes by: its own rules, or the defaults (the schema's). */
function view(department: ManagedSubject, rule: RoutingRule | null): RoutingRuleView {
  const own = rule ?? {
    ...routingRuleRequest.parse({}),
    departmentId: department.id,
    updatedAt: null,
    updatedBy: null,
  };
  return { ...own, departmentName: department.name, default: rule === null };
}

/** The settings of a rule as the audit row records them; null: the defaults. */
function settings(rule: RoutingRule | null): RoutingRuleRequest | null {
  if (!rule) return null;
  const { departmentId: _id, updatedAt: _at, updatedBy: _by, ...rest } = rule;
  return rest;
}

/**
 * Makes the Dispatcher re-read rules and capacities now. The change is already in D1 and the
 * Dispatcher picks it up anyway (rules within a minute, a capacity when the agent's console
 * connects), so a failure here only delays it and is logged, never failing the request.
 */
async function routingChanged(c: Context<AppEnv>): Promise<void> {
  try {
    await getDispatcher(c.env).routingChanged();
  } catch (error) {
    console.error("[parley] routingChanged failed; the Dispatcher will re-read the rules", error);
  }
}

/**
 * Overflow goes to another existing department (400 like a schema error otherwise). Cycles
 * (a → b → a) are allowed: the Dispatcher moves a chat at most once per department.
 */
async function assertOverflowTarget(db: D1Database, from: string, to: string | null) {
  if (to === null) return;
  let problem: string | null = null;
  if (to === from) problem = "A department cannot overflow to itself.";
  else if (!(await departmentExists(db, to))) problem = "There is no such department.";
  if (problem) {
    throw new ApiError(400, "invalid_request", `overflowTo: ${problem}`, [
      { path: "overflowTo", message: problem },
    ]);
  }
}

const department = (c: Context<AppEnv>) =>
  findTeam(c.env.DB, "departments", c.req.param("department") ?? "");

routingRoutes.get("/rules", manage, async (c) => {
  const [departments, rules] = await Promise.all([
    listDepartments(c.env.DB),
    loadRoutingRules(c.env.DB),
  ]);
  return c.json({ rules: departments.map((d) => view(d, rules.get(d.id) ?? null)) });
});

routingRoutes.get("/rules/:department", manage, async (c) => {
  const found = await department(c);
  return c.json({ rule: view(found, await findRoutingRule(c.env.DB, found.id)) });
});

routingRoutes.put("/rules/:department", manage, consoleOrigin(), async (c) => {
  const db = c.env.DB;
  const found = await department(c);
  const input = await readJson(c, routingRuleRequest);
  await assertOverflowTarget(db, found.id, input.overflowTo);
  const before = await findRoutingRule(db, found.id);
  const rule: RoutingRule = {
    ...input,
    departmentId: found.id,
    updatedAt: Date.now(),
    updatedBy: c.var.agent.id,
  };
  await saveRoutingRule(db, rule);
  await auditAction(c, {
    action: "routing.rules_update",
    target: found.id,
    outcome: "success",
    department: found.id,
    details: { before: settings(before), after: settings(rule) },
  });
  await routingChanged(c);
  return c.json({ rule: view(found, rule) });
});

/** Back to the defaults. A department without rules of its own is left as it is (no audit). */
routingRoutes.delete("/rules/:department", manage, consoleOrigin(), async (c) => {
  const found = await department(c);
  const before = await findRoutingRule(c.env.DB, found.id);
  if (before && (await deleteRoutingRule(c.env.DB, found.id))) {
    await auditAction(c, {
      action: "routing.rules_reset",
      target: found.id,
      outcome: "success",
      department: found.id,
      details: { before: settings(before), after: null },
    });
    await routingChanged(c);
  }
  return c.json({ rule: view(found, null) });
});

routingRoutes.put("/capacity/:agentId", manage, consoleOrigin(), async (c) => {
  const agent = await findAgentById(c.env.DB, c.req.param("agentId"));
  if (!agent) throw new ApiError(404, "agent_not_found", "No such agent.");
  const { maxChats } = await readJson(c, agentCapacityRequest);
  await setAgentMaxChats(c.env.DB, agent.id, maxChats);
  await auditAction(c, {
    action: "routing.capacity_update",
    target: agent.id,
    outcome: "success",
    details: { before: agent.maxChats, after: maxChats },
  });
  await routingChanged(c);
  const body: AgentCapacityResponse = {
    agentId: agent.id,
    maxChats,
    capacity: maxChats ?? c.var.config.agentMaxChats,
  };
  return c.json(body);
});
