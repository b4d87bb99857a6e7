/**
 * Offline messages for the console: search, view and delete those of the departments the
 * agent may read, and work them as an inbox — mark handled or reopen, record the reply the
 * agent sent by their own channel (Parley sends no email). Same permissions as transcripts
 * (the catalogue's "view … transcripts and offline messages"), same scoping
 * (transcript-scope.ts): whoever may read a message may work it. Every search, view, change
 * and deletion — and every refused attempt — is an audit row.
 */
import { Hono } from "hono";
import {
  encodePageCursor,
  type OfflineMessageResponse,
  type OfflineMessageSearchResponse,
  offlineMessageSearchQuery,
} from "../../src/protocol/http.ts";
import {
  offlineMessageHandledRequest,
  offlineMessageReplyRequestFor,
} from "../../src/protocol/inbox.ts";
import {
  deleteOfflineMessage,
  findOfflineMessage,
  listOfflineMessageReplies,
  type OfflineMessageRecord,
  recordOfflineMessageReply,
  searchOfflineMessages,
  setOfflineMessageHandled,
} from "../../src/store/offline-messages.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin, consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
import { readQuery } from "../read-query.ts";
import { auditSearch, findInScope, requireReader, scopedWindow } from "../transcript-scope.ts";

export const offlineMessagesRoutes = new Hono<AppEnv>();

offlineMessagesRoutes.use(requireAgent({ tokens: true }));

/** The same answer for a missing message and one outside the agent's departments. */
const notFound = () => new ApiError(404, "offline_message_not_found", "No such offline message.");

/** The detail answer: the message with its replies. */
async function detail(
  db: D1Database,
  message: OfflineMessageRecord,
): Promise<OfflineMessageResponse> {
  const replies = await listOfflineMessageReplies(db, message.id);
  return { offlineMessage: { ...message, replies } };
}

/** The detail after a change, read again; gone meanwhile (a deletion) answers as missing. */
async function detailAfterChange(db: D1Database, id: string): Promise<OfflineMessageResponse> {
  const message = await findOfflineMessage(db, id);
  if (!message) throw notFound();
  return detail(db, message);
}

offlineMessagesRoutes.get("/", requireReader(), async (c) => {
  const query = readQuery(c, offlineMessageSearchQuery);
  const page = await searchOfflineMessages(c.env.DB, {
    ...scopedWindow(c.var.agent, query),
    keywords: query.q,
    status: query.status,
  });
  await auditSearch(c, "offline_message.search", query, page.rows.length);
  const body: OfflineMessageSearchResponse = {
    offlineMessages: page.rows,
    nextCursor: page.next ? encodePageCursor(page.next) : null,
  };
  return c.json(body);
});

offlineMessagesRoutes.get("/:id", requireReader(), async (c) => {
  const message = await findInScope(c, "offline_message.view", findOfflineMessage, notFound);
  await auditAction(c, {
    action: "offline_message.view",
    target: message.id,
    outcome: "success",
    department: message.department,
  });
  return c.json(await detail(c.env.DB, message));
});

offlineMessagesRoutes.post("/:id/handled", requireReader(), consoleOrigin(), async (c) => {
  const { handled } = await readJson(c, offlineMessageHandledRequest);
  const action = handled ? "offline_message.handled" : "offline_message.reopened";
  const message = await findInScope(c, action, findOfflineMessage, notFound);
  const by = handled ? { agentId: c.var.agent.id, at: Date.now() } : null;
  // Already in that state (another agent was first): nothing changes, nothing to audit.
  if (await setOfflineMessageHandled(c.env.DB, message.id, by)) {
    await auditAction(c, {
      action,
      target: message.id,
      outcome: "success",
      department: message.department,
    });
  }
  return c.json(await detailAfterChange(c.env.DB, message.id));
});

offlineMessagesRoutes.post("/:id/reply", requireReader(), consoleOrigin(), async (c) => {
  const { text } = await readJson(c, offlineMessageReplyRequestFor(c.var.config.cardMasking));
  const message = await findInScope(c, "offline_message.reply", findOfflineMessage, notFound);
  const { id: agentId, name: agentName } = c.var.agent;
  const reply = { id: crypto.randomUUID(), agentId, agentName, text, at: Date.now() };
  const recorded = await recordOfflineMessageReply(c.env.DB, {
    ...reply,
    offlineMessageId: message.id,
  });
  if (!recorded) throw notFound();
  await auditAction(c, {
    action: "offline_message.reply",
    target: message.id,
    outcome: "success",
    department: message.department,
    // Not the text: it is stored with the message, and the audit log keeps who and when.
    details: { replyId: reply.id, markedHandled: recorded.markedHandled },
  });
  return c.json(await detailAfterChange(c.env.DB, message.id), 201);
});

offlineMessagesRoutes.delete("/:id", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  // Deleting needs reading: a message the agent cannot view looks missing, as on GET.
  const message = await findInScope(c, "offline_message.delete", findOfflineMessage, notFound);
  // Gone since the read (another deletion): the same answer as a missing message.
  if (!(await deleteOfflineMessage(c.env.DB, message.id))) throw notFound();
  await auditAction(c, {
    action: "offline_message.delete",
    target: message.id,
    outcome: "success",
    department: message.department,
    details: { createdAt: message.createdAt },
  });
  return c.json({ ok: true });
});
