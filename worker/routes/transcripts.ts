/**
 * Transcripts for the console (issue 4, item 6): search, view and delete chats of the
 * departments the agent may read (see transcript-scope.ts). Every search, view and deletion
 * — and every refused attempt — is an audit row.
 */
import { Hono } from "hono";
import {
  encodePageCursor,
  type TranscriptResponse,
  type TranscriptSearchResponse,
  transcriptSearchQuery,
} from "../../src/protocol/http.ts";
import { deleteEndedChat } from "../../src/store/chats.ts";
import { listTranscript } from "../../src/store/messages.ts";
import { findTranscript, searchTranscripts } from "../../src/store/transcripts.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readQuery } from "../read-query.ts";
import { auditSearch, findInScope, requireReader, scopedWindow } from "../transcript-scope.ts";

export const transcriptsRoutes = new Hono<AppEnv>();

transcriptsRoutes.use(requireAgent({ tokens: true }));

/** The same answer for a missing chat and one outside the agent's departments. */
const notFound = () => new ApiError(404, "transcript_not_found", "No such transcript.");

transcriptsRoutes.get("/", requireReader(), async (c) => {
  const query = readQuery(c, transcriptSearchQuery);
  const page = await searchTranscripts(c.env.DB, {
    ...scopedWindow(c.var.agent, query),
    keywords: query.q,
    agentId: query.agent,
    rating: query.rating,
    minRating: query.minRating,
    status: query.status,
  });
  await auditSearch(c, "transcript.search", query, page.rows.length);
  const body: TranscriptSearchResponse = {
    transcripts: page.rows,
    nextCursor: page.next ? encodePageCursor(page.next) : null,
  };
  return c.json(body);
});

transcriptsRoutes.get("/:id", requireReader(), async (c) => {
  const transcript = await findInScope(c, "transcript.view", findTranscript, notFound);
  const messages = await listTranscript(c.env.DB, transcript.id);
  await auditAction(c, {
    action: "transcript.view",
    target: transcript.id,
    outcome: "success",
    department: transcript.department,
  });
  const body: TranscriptResponse = { transcript, messages };
  return c.json(body);
});

transcriptsRoutes.delete("/:id", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  // Deleting needs reading: a chat the agent cannot view looks missing, as on GET.
  const transcript = await findInScope(c, "transcript.delete", findTranscript, notFound);
  const { id, department } = transcript;
  if (transcript.status === "queued" || transcript.status === "active") {
    await auditAction(c, {
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
  await auditAction(c, {
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
