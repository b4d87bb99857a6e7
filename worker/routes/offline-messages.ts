/**
 * Offline messages for the console: search, view and delete those of the departments the
 * agent may read. Same permissions as transcripts (the catalogue's "view … transcripts and
 * offline messages"), same scoping (transcript-scope.ts), and every search, view and
 * deletion — and every refused attempt — is an audit row.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import {
  encodePageCursor,
  type OfflineMessageResponse,
  type OfflineMessageSearchResponse,
  offlineMessageSearchQuery,
} from "../../src/protocol/http.ts";
import type { AuditEntry } from "../../src/store/audit.ts";
import {
  deleteOfflineMessage,
  findOfflineMessage,
  searchOfflineMessages,
} from "../../src/store/offline-messages.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { inScope, readQuery, searchDepartments, transcriptScope } from "../transcript-scope.ts";

export const offlineMessagesRoutes = new Hono<AppEnv>();

offlineMessagesRoutes.use(requireAgent());

const canView = () => requirePermission("transcripts.view_department", "transcripts.view_all");

/** The same answer for a missing message and one outside the agent's departments. */
const notFound = () => new ApiError(404, "offline_message_not_found", "No such offline message.");

/** Ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

type Audit = Pick<AuditEntry, "action" | "target" | "outcome" | "department" | "details">;

function audit(c: Context<AppEnv>, entry: Audit): Promise<void> {
  return appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    ...clientInfo(c),
    ...entry,
    at: Date.now(),
  });
}

offlineMessagesRoutes.get("/", canView(), async (c) => {
  const query = readQuery(c, offlineMessageSearchQuery);
  const page = await searchOfflineMessages(c.env.DB, {
    departments: searchDepartments(transcriptScope(c.var.agent), query.department),
    from: query.from,
    to: query.to,
    keywords: query.q,
    after: query.cursor,
    limit: query.limit,
  });
  const { cursor, q, ...filters } = query;
  await audit(c, {
    action: "offline_message.search",
    target: null,
    outcome: "success",
    department: query.department ?? null,
    // The keywords are already card-masked by the schema.
    details: {
      ...filters,
      q: q?.join(" "),
      page: cursor ? "next" : "first",
      results: page.rows.length,
    },
  });
  const body: OfflineMessageSearchResponse = {
    offlineMessages: page.rows,
    nextCursor: page.next ? encodePageCursor(page.next) : null,
  };
  return c.json(body);
});

offlineMessagesRoutes.get("/:id", canView(), async (c) => {
  const id = c.req.param("id");
  const message = id.length <= MAX_ID_CHARS ? await findOfflineMessage(c.env.DB, id) : null;
  if (!message) throw notFound();
  const outcome = inScope(transcriptScope(c.var.agent), message.department) ? "success" : "denied";
  await audit(c, {
    action: "offline_message.view",
    target: id,
    outcome,
    department: message.department,
    details: outcome === "denied" ? { reason: "out_of_scope" } : undefined,
  });
  if (outcome === "denied") throw notFound();
  const body: OfflineMessageResponse = { offlineMessage: message };
  return c.json(body);
});

offlineMessagesRoutes.delete("/:id", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const id = c.req.param("id");
  const message = id.length <= MAX_ID_CHARS ? await findOfflineMessage(c.env.DB, id) : null;
  if (!message) throw notFound();
  // Deleting needs reading: a message the agent cannot view looks missing, as on GET.
  if (!inScope(transcriptScope(c.var.agent), message.department)) {
    await audit(c, {
      action: "offline_message.delete",
      target: id,
      outcome: "denied",
      department: message.department,
      details: { reason: "out_of_scope" },
    });
    throw notFound();
  }
  // Gone since the read (another deletion): the same answer as a missing message.
  if (!(await deleteOfflineMessage(c.env.DB, id))) throw notFound();
  await audit(c, {
    action: "offline_message.delete",
    target: id,
    outcome: "success",
    department: message.department,
    details: { createdAt: message.createdAt },
  });
  return c.json({ ok: true });
});
