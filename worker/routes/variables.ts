/**
 * Custom variable declarations (`variables.manage`): list, declare, change, remove. Chat
 * start accepts a variable from the site only when it is declared here and fits
 * (worker/visitor-facts.ts). Changes need an allowed Origin and are audited
 * (`variable.create`, `variable.update`, `variable.delete`, before and after). A variable that
 * campaigns or segments rely on cannot be removed, nor one a pre-chat form fills retyped to
 * hold anything but text (409 `variable_in_use`, naming them): the campaigns and segments
 * check their variables when they are saved, and this keeps that true afterwards.
 */
import { type Context, Hono } from "hono";
import { CHAT_START_KEYS } from "../../src/protocol/campaign-defaults.ts";
import {
  createVariableRequestFor,
  MAX_VARIABLE_DECLARATIONS,
  TEXT_VARIABLE_TYPES,
  updateVariableRequestFor,
  type VariableDeclaration,
  type VariableListResponse,
  type VariableResponse,
  variableName,
} from "../../src/protocol/variables.ts";
import { listCampaigns } from "../../src/store/campaigns.ts";
import { listSegments } from "../../src/store/segments.ts";
import {
  countVariables,
  createVariable,
  deleteVariable,
  findVariable,
  loadVariableDeclarations,
  updateVariable,
} from "../../src/store/variables.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";

export const variablesRoutes = new Hono<AppEnv>();

variablesRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("variables.manage");

/** What an audit row records of a declaration (the label is already card-masked). */
const described = (v: VariableDeclaration) => ({
  label: v.label,
  type: v.type,
  maxLength: v.maxLength,
  visibleToAgents: v.visibleToAgents,
});

/** The declaration named in the path; 404 for a name that is not one (or cannot be). */
async function pathVariable(c: Context<AppEnv>): Promise<VariableDeclaration> {
  const name = c.req.param("name") ?? "";
  const found = variableName.safeParse(name).success ? await findVariable(c.env.DB, name) : null;
  if (!found) throw new ApiError(404, "variable_not_found", "No such custom variable.");
  return found;
}

/** The campaigns whose pre-chat form fills the variable, and the segments that test it. */
async function usersOf(db: D1Database, name: string) {
  const [campaigns, segments] = await Promise.all([listCampaigns(db), listSegments(db)]);
  return {
    // `name`, `email` and `department` fill the chat start's own fields, not a variable.
    campaigns: CHAT_START_KEYS.includes(name)
      ? []
      : campaigns
          .filter((c) => c.preChatForm?.fields.some((field) => field.key === name))
          .map((c) => c.id),
    segments: segments
      .filter((s) => s.rules.conditions.some((c) => c.field === "variable" && c.name === name))
      .map((s) => s.id),
  };
}

/** 409 `variable_in_use`, naming the campaigns and segments that rely on the variable. */
function inUse(what: string, users: { campaigns: string[]; segments: string[] }): ApiError {
  return new ApiError(
    409,
    "variable_in_use",
    `${what}: change the campaigns and segments that use it first.`,
    users,
  );
}

/** Reads a declaration just written (it cannot be missing: this request wrote it). */
async function written(db: D1Database, name: string): Promise<VariableDeclaration> {
  const variable = await findVariable(db, name);
  if (!variable) throw new Error("custom variable vanished after write");
  return variable;
}

variablesRoutes.get("/", manage, async (c) => {
  const body: VariableListResponse = { variables: await loadVariableDeclarations(c.env.DB) };
  return c.json(body);
});

variablesRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createVariableRequestFor(c.var.config.cardMasking));
  const db = c.env.DB;
  if ((await countVariables(db)) >= MAX_VARIABLE_DECLARATIONS) {
    throw new ApiError(
      409,
      "too_many_variables",
      `At most ${MAX_VARIABLE_DECLARATIONS} custom variables can be declared.`,
    );
  }
  const { name, ...content } = input;
  if (!(await createVariable(db, { ...input, agentId: c.var.agent.id, now: Date.now() }))) {
    throw new ApiError(409, "variable_exists", "A custom variable with this name already exists.");
  }
  const variable = await written(db, name);
  await auditAction(c, {
    action: "variable.create",
    target: name,
    outcome: "success",
    details: { before: null, after: content },
  });
  const body: VariableResponse = { variable };
  return c.json(body, 201);
});

variablesRoutes.put("/:name", manage, consoleOrigin(), async (c) => {
  const before = await pathVariable(c);
  const input = await readJson(c, updateVariableRequestFor(c.var.config.cardMasking));
  const db = c.env.DB;
  if (!TEXT_VARIABLE_TYPES.includes(input.type)) {
    // A pre-chat form sends the visitor's text: every chat start from it would be refused.
    const { campaigns } = await usersOf(db, before.name);
    if (campaigns.length > 0) {
      throw inUse("A pre-chat form fills this variable with text", { campaigns, segments: [] });
    }
  }
  // Gone since the read (a concurrent delete): the same answer as a missing one.
  if (
    !(await updateVariable(db, before.name, { ...input, agentId: c.var.agent.id, now: Date.now() }))
  ) {
    throw new ApiError(404, "variable_not_found", "No such custom variable.");
  }
  await auditAction(c, {
    action: "variable.update",
    target: before.name,
    outcome: "success",
    details: { before: described(before), after: input },
  });
  const body: VariableResponse = { variable: await written(db, before.name) };
  return c.json(body);
});

variablesRoutes.delete("/:name", manage, consoleOrigin(), async (c) => {
  const before = await pathVariable(c);
  const users = await usersOf(c.env.DB, before.name);
  if (users.campaigns.length > 0 || users.segments.length > 0) {
    throw inUse("Campaigns or segments use this variable", users);
  }
  if (!(await deleteVariable(c.env.DB, before.name))) {
    throw new ApiError(404, "variable_not_found", "No such custom variable.");
  }
  await auditAction(c, {
    action: "variable.delete",
    target: before.name,
    outcome: "success",
    details: { before: described(before), after: null },
  });
  return c.json({ ok: true });
});
