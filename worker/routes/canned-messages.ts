/**
 * Canned messages (issue 7): every agent searches what they may see — their own personal
 * messages, those of their departments and the global ones — and keeps personal ones.
 * Department and global messages are managed with `canned_messages.manage` (department ones
 * only in the manager's own departments). Routes are open to any agent because what is
 * allowed depends on the message's scope, checked here: a refusal is 403 `forbidden` with a
 * denied audit row, and a message the agent cannot see answers 404 as if it did not exist.
 * Every change is audited (`canned_message.create|update|delete`).
 */
import { type Context, Hono } from "hono";
import {
  type CannedMessage,
  type CannedMessageListResponse,
  type CannedMessageResponse,
  type CannedScope,
  cannedMessageSearchQueryFor,
  createCannedMessageRequestFor,
  updateCannedMessageRequestFor,
} from "../../src/protocol/canned-messages.ts";
import type { Permission } from "../../src/security/permissions.ts";
import { type AgentRecord, departmentExists } from "../../src/store/agents.ts";
import {
  createCannedMessage,
  deleteCannedMessage,
  findCannedMessage,
  type StoredCannedMessage,
  searchCannedMessages,
  updateCannedMessage,
} from "../../src/store/canned-messages.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { teamNotFound } from "../find-team.ts";
import { anyAgent } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
import { readQuery } from "../read-query.ts";

export const cannedMessagesRoutes = new Hono<AppEnv>();

cannedMessagesRoutes.use(requireAgent({ tokens: true }));

const MANAGE: Permission = "canned_messages.manage";

/** Ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

type Agent = Pick<AgentRecord, "id" | "permissions" | "departments">;
type Placed = Pick<StoredCannedMessage, "scope" | "department" | "ownerId">;

/** The same answer for a missing message and one the agent cannot see. */
const notFound = () => new ApiError(404, "canned_message_not_found", "No such canned message.");

/** True when `agent` sees `message`: own personal ones, own departments', global ones. */
function visible(agent: Agent, message: Placed): boolean {
  if (message.scope === "personal") return message.ownerId === agent.id;
  if (message.scope === "department") return agent.departments.includes(message.department ?? "");
  return true;
}

/**
 * Why `agent` may not write a message of `scope` (and `department`): the missing permission
 * first, then the department they do not belong to; null when they may.
 */
function refusal(
  agent: Agent,
  scope: CannedScope,
  department: string | null,
): { required: Permission[] } | { reason: "not_member" } | null {
  if (scope === "personal") return null;
  if (!agent.permissions.includes(MANAGE)) return { required: [MANAGE] };
  if (scope === "department" && !agent.departments.includes(department ?? "")) {
    return { reason: "not_member" };
  }
  return null;
}

/** The API's view of a stored message for `agent` (the owner id stays inside). */
function toApi(agent: Agent, { ownerId: _, ...message }: StoredCannedMessage): CannedMessage {
  return { ...message, editable: refusal(agent, message.scope, message.department) === null };
}

/** What an audit row says about a message (title and text are card-masked already). */
const described = (message: Pick<StoredCannedMessage, "scope" | "shortcut" | "title">) => ({
  scope: message.scope,
  shortcut: message.shortcut,
  title: message.title,
});

/** Audits a refused change and answers 403 `forbidden`. */
async function deny(
  c: Context<AppEnv>,
  action: string,
  target: string | null,
  message: Pick<StoredCannedMessage, "scope" | "department">,
  why: NonNullable<ReturnType<typeof refusal>>,
): Promise<never> {
  await auditAction(c, {
    action,
    target,
    outcome: "denied",
    department: message.department,
    details: { scope: message.scope, ...why },
  });
  throw new ApiError(403, "forbidden", "You may not change canned messages of this scope.", why);
}

/**
 * The message the route's `:id` names, when the agent may change it: a missing or invisible
 * one is a 404 (the invisible one also a denied audit row), a visible one the agent may not
 * manage a 403.
 */
async function writable(c: Context<AppEnv>, action: string): Promise<StoredCannedMessage> {
  const id = c.req.param("id") ?? "";
  const agent = c.var.agent;
  const message = id.length <= MAX_ID_CHARS ? await findCannedMessage(c.env.DB, id) : null;
  if (!message) throw notFound();
  if (!visible(agent, message)) {
    await auditAction(c, {
      action,
      target: id,
      outcome: "denied",
      department: message.department,
      details: { scope: message.scope, reason: "not_visible" },
    });
    throw notFound();
  }
  const refused = refusal(agent, message.scope, message.department);
  if (refused) return deny(c, action, id, message, refused);
  return message;
}

const conflict = (shortcut: string | null) =>
  new ApiError(409, "conflict", `The shortcut "${shortcut}" is already taken here.`, {
    shortcut,
  });

cannedMessagesRoutes.get("/", anyAgent(), async (c) => {
  const query = readQuery(c, cannedMessageSearchQueryFor(c.var.config.cardMasking));
  const agent = c.var.agent;
  const rows = await searchCannedMessages(c.env.DB, {
    agentId: agent.id,
    departments: agent.departments,
    scope: query.scope,
    q: query.q,
  });
  const body: CannedMessageListResponse = { cannedMessages: rows.map((m) => toApi(agent, m)) };
  return c.json(body);
});

cannedMessagesRoutes.post("/", anyAgent(), consoleOrigin(), async (c) => {
  const input = await readJson(c, createCannedMessageRequestFor(c.var.config.cardMasking));
  const agent = c.var.agent;
  const { scope, shortcut, title, text } = input;
  const department = input.department ?? null;
  const refused = refusal(agent, scope, department);
  if (refused) {
    // Only a manager learns whether a department exists (agents belong to existing ones).
    if ("reason" in refused && !(await departmentExists(c.env.DB, department ?? ""))) {
      throw teamNotFound("departments");
    }
    return deny(c, "canned_message.create", null, { scope, department }, refused);
  }
  const now = Date.now();
  const message: StoredCannedMessage = {
    id: crypto.randomUUID(),
    scope,
    ownerId: scope === "personal" ? agent.id : null,
    department,
    shortcut,
    title,
    text,
    createdAt: now,
    createdBy: agent.id,
    updatedAt: now,
    updatedBy: agent.id,
  };
  if (!(await createCannedMessage(c.env.DB, { ...message, agentId: agent.id, now }))) {
    throw conflict(shortcut);
  }
  await auditAction(c, {
    action: "canned_message.create",
    target: message.id,
    outcome: "success",
    department,
    details: described(message),
  });
  const body: CannedMessageResponse = { cannedMessage: toApi(agent, message) };
  return c.json(body, 201);
});

cannedMessagesRoutes.put("/:id", anyAgent(), consoleOrigin(), async (c) => {
  const before = await writable(c, "canned_message.update");
  const content = await readJson(c, updateCannedMessageRequestFor(c.var.config.cardMasking));
  const agent = c.var.agent;
  const now = Date.now();
  const outcome = await updateCannedMessage(c.env.DB, before.id, content, {
    agentId: agent.id,
    now,
  });
  if (outcome === "conflict") throw conflict(content.shortcut);
  // Deleted since the read: the same answer as a missing message.
  if (outcome === "not_found") throw notFound();
  const after: StoredCannedMessage = { ...before, ...content, updatedAt: now, updatedBy: agent.id };
  await auditAction(c, {
    action: "canned_message.update",
    target: before.id,
    outcome: "success",
    department: before.department,
    details: { ...described(after), before: described(before) },
  });
  const body: CannedMessageResponse = { cannedMessage: toApi(agent, after) };
  return c.json(body);
});

cannedMessagesRoutes.delete("/:id", anyAgent(), consoleOrigin(), async (c) => {
  const message = await writable(c, "canned_message.delete");
  if (!(await deleteCannedMessage(c.env.DB, message.id))) throw notFound();
  await auditAction(c, {
    action: "canned_message.delete",
    target: message.id,
    outcome: "success",
    department: message.department,
    details: described(message),
  });
  return c.json({ ok: true });
});
