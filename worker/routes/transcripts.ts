/**
 * Transcripts for the console (issue 4, item 6): search, view and delete chats of the
 * departments the agent may read (see transcript-scope.ts). Every search, view and deletion
 * — and every refused attempt — is an audit row.
 */
import { type Context, Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import {
  encodePageCursor,
  type TranscriptResponse,
  type TranscriptSearchResponse,
  transcriptSearchQuery,
} from "../../src/protocol/http.ts";
import type { AuditEntry } from "../../src/store/audit.ts";
import { deleteEndedChat } from "../../src/store/chats.ts";
import { listTranscript } from "../../src/store/messages.ts";
import { findTranscript, searchTranscripts } from "../../src/store/transcripts.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { inScope, readQuery, searchDepartments, transcriptScope } from "../transcript-scope.ts";

export const transcriptsRoutes = new Hono<AppEnv>();

transcriptsRoutes.use(requireAgent());

const canView = () => requirePermission("transcripts.view_department", "transcripts.view_all");

/** The same answer for a missing chat and one outside the agent's departments. */
const notFound = () => new ApiError(404, "transcript_not_found", "No such transcript.");

/** Ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

type Audit = Pick<AuditEntry, "action" | "target" | "outcome" | "department" | "details">;

function audit(c: Context<AppEnv>, entry: Audit, at = Date.now()): Promise<void> {
  return appendAudit(c.env, {
    actorType: "agent",
    actorId: c.var.agent.id,
    ...clientInfo(c),
    ...entry,
    at,
  });
}

transcriptsRoutes.get("/", canView(), async (c) => {
  const query = readQuery(c, transcriptSearchQuery);
  const scope = transcriptScope(c.var.agent);
  const page = await searchTranscripts(c.env.DB, {
    departments: searchDepartments(scope, query.department),
    from: query.from,
    to: query.to,
    keywords: query.q,
    agentId: query.agent,
    rating: query.rating,
    minRating: query.minRating,
    status: query.status,
    after: query.cursor,
    limit: query.limit,
  });
  const { cursor, q, ...filters } = query;
  await audit(c, {
    action: "transcript.search",
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
  const body: TranscriptSearchResponse = {
    transcripts: page.rows,
    nextCursor: page.next ? encodePageCursor(page.next) : null,
  };
  return c.json(body);
});

transcriptsRoutes.get("/:id", canView(), async (c) => {
  const id = c.req.param("id");
  const transcript = id.length <= MAX_ID_CHARS ? await findTranscript(c.env.DB, id) : null;
  if (!transcript) throw notFound();
  if (!inScope(transcriptScope(c.var.agent), transcript.department)) {
    await audit(c, {
      action: "transcript.view",
      target: id,
      outcome: "denied",
      department: transcript.department,
      details: { reason: "out_of_scope" },
    });
    throw notFound();
  }
  const messages = await listTranscript(c.env.DB, id);
  await audit(c, {
    action: "transcript.view",
    target: id,
    outcome: "success",
    department: transcript.department,
  });
  const body: TranscriptResponse = { transcript, messages };
  return c.json(body);
});

transcriptsRoutes.delete("/:id", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const id = c.req.param("id");
  const transcript = id.length <= MAX_ID_CHARS ? await findTranscript(c.env.DB, id) : null;
  if (!transcript) throw notFound();
  const department = transcript.department;
  // Deleting needs reading: a chat the agent cannot view looks missing, as on GET.
  if (!inScope(transcriptScope(c.var.agent), department)) {
    await audit(c, {
      action: "transcript.delete",
      target: id,
      outcome: "denied",
      department,
      details: { reason: "out_of_scope" },
    });
    throw notFound();
  }
  if (transcript.status === "queued" || transcript.status === "active") {
    await audit(c, {
      action: "transcript.delete",
      target: id,
      outcome: "failure",
      department,
      details: { reason: "chat_active", status: transcript.status },
    });
    throw new ApiError(409, "chat_active", "End the chat before deleting its transcript.");
  }
  const result = await deleteEndedChat(c.env.DB, id);
  // Gone since the read (another deletion): the same answer as a missing chat.
  if (!result.deleted) throw notFound();
  await audit(c, {
    action: "transcript.delete",
    target: id,
    outcome: "success",
    department,
    details: {
      status: transcript.status,
      createdAt: transcript.createdAt,
      events: result.events,
      messages: result.messages,
    },
  });
  return c.json({ ok: true });
});
