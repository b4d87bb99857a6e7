/**
 * Offline messages for the console: search, view and delete those of the departments the
 * agent may read. Same permissions as transcripts (the catalogue's "view … transcripts and
 * offline messages"), same scoping (transcript-scope.ts), and every search, view and
 * deletion — and every refused attempt — is an audit row.
 */
import { Hono } from "hono";
import {
  encodePageCursor,
  type OfflineMessageResponse,
  type OfflineMessageSearchResponse,
  offlineMessageSearchQuery,
} from "../../src/protocol/http.ts";
import {
  deleteOfflineMessage,
  findOfflineMessage,
  searchOfflineMessages,
} from "../../src/store/offline-messages.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readQuery } from "../read-query.ts";
import { auditSearch, findInScope, requireReader, scopedWindow } from "../transcript-scope.ts";

export const offlineMessagesRoutes = new Hono<AppEnv>();

offlineMessagesRoutes.use(requireAgent({ tokens: true }));

/** The same answer for a missing message and one outside the agent's departments. */
const notFound = () => new ApiError(404, "offline_message_not_found", "No such offline message.");

offlineMessagesRoutes.get("/", requireReader(), async (c) => {
  const query = readQuery(c, offlineMessageSearchQuery);
  const page = await searchOfflineMessages(c.env.DB, {
    ...scopedWindow(c.var.agent, query),
    keywords: query.q,
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
  const body: OfflineMessageResponse = { offlineMessage: message };
  return c.json(body);
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
