/**
 * Transcripts for the console (issue 4, item 6): search, view and delete chats of the
 * departments the agent may read (see transcript-scope.ts), and place or lift a legal hold,
 * which keeps a chat from deletion and from the retention purge (issue 9). Every search,
 * view, deletion and hold change — and every refused attempt — is an audit row.
 */
import { Hono } from "hono";
import { eraseChatCopies } from "../../durable-objects/chat-erase.ts";
import { log } from "../../src/observability/log.ts";
import {
  encodePageCursor,
  type LegalHoldResponse,
  legalHoldRequestFor,
  type TranscriptResponse,
  type TranscriptSearchResponse,
  transcriptSearchQuery,
} from "../../src/protocol/http.ts";
import { deleteEndedChat } from "../../src/store/chats.ts";
import { listTranscript } from "../../src/store/messages.ts";
import { placeLegalHold, releaseLegalHold } from "../../src/store/retention.ts";
import { findTranscript, searchTranscripts } from "../../src/store/transcripts.ts";
import { agentVisibleVariables } from "../../src/store/variables.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readJson } from "../read-json.ts";
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
  // Variables declared hidden from agents (or no longer declared) stay in D1 only.
  const variables = await agentVisibleVariables(c.env.DB, transcript.variables);
  const body: TranscriptResponse = { transcript: { ...transcript, variables }, messages };
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
  const refuseHeld = async () => {
    await auditAction(c, {
      action: "transcript.delete",
      target: id,
      outcome: "failure",
      department,
      details: { reason: "legal_hold" },
    });
    return new ApiError(409, "legal_hold", "The transcript is on legal hold: lift it first.");
  };
  if (transcript.legalHold) throw await refuseHeld();
  const result = await deleteEndedChat(c.env.DB, id);
  if (!result.deleted) {
    // Put on hold since the read, or gone (another deletion): the same answer as a missing chat.
    if ((await findTranscript(c.env.DB, id))?.legalHold) throw await refuseHeld();
    throw notFound();
  }
  // The chat's own copy in its ChatSession goes too; should that fail, its erase alarm
  // removes it when due (see ChatSession.erase), and the audit row says so.
  const copyErased = (await eraseChatCopies(c.env, [id])).length === 0;
  if (!copyErased) log.error("erasing a deleted chat's own copy failed", { chatId: id });
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
      copyErased,
    },
  });
  return c.json({ ok: true });
});

// Whoever may delete a transcript may also protect it from deletion: `transcripts.delete`, and
// the chat in view (a chat out of scope looks missing, as on GET). No re-authentication: a hold
// destroys nothing, and lifting one only makes deletion possible again, which needs
// `transcripts.delete` anyway.
transcriptsRoutes.put("/:id/legal-hold", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const { reason } = await readJson(c, legalHoldRequestFor(c.var.config.cardMasking));
  const transcript = await findInScope(c, "transcript.legal_hold", findTranscript, notFound);
  const legalHold = { at: Date.now(), by: c.var.agent.id, reason };
  if (!(await placeLegalHold(c.env.DB, transcript.id, legalHold))) throw notFound();
  await auditAction(c, {
    action: "transcript.legal_hold",
    target: transcript.id,
    outcome: "success",
    department: transcript.department,
    details: { reason, replaced: transcript.legalHold?.reason ?? null },
  });
  const body: LegalHoldResponse = { legalHold };
  return c.json(body);
});

transcriptsRoutes.delete("/:id/legal-hold", requirePermission("transcripts.delete"), async (c) => {
  assertOrigin(c, c.var.config.consoleOrigins);
  const transcript = await findInScope(
    c,
    "transcript.legal_hold_release",
    findTranscript,
    notFound,
  );
  // Lifting a hold that is not there changes nothing and answers the same (idempotent).
  const released = await releaseLegalHold(c.env.DB, transcript.id);
  await auditAction(c, {
    action: "transcript.legal_hold_release",
    target: transcript.id,
    outcome: "success",
    department: transcript.department,
    details: released
      ? { released: true, reason: released.reason, heldSince: released.at, heldBy: released.by }
      : { released: false },
  });
  return c.json({ ok: true });
});
