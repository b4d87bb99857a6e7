/**
 * The post-chat survey (issue 7): the visitor rates the chat 1–5 with an optional comment
 * (card-masked), once, after an agent accepted it. The gates are the visitor socket's: an
 * allowed Origin (WIDGET_ORIGINS), then the chat token for this very chat — sent here as
 * `Authorization: Bearer <token>`, the HTTP place of the socket's `bearer.` subprotocol, so
 * never in the URL. Mounted at `/api/visitor/chats`, under the widget's CORS grant.
 */
import { Hono } from "hono";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { surveyRequestFor } from "../../src/protocol/inbox.ts";
import { verifyVisitorToken } from "../../src/security/tokens.ts";
import { recordSurvey, type SurveyOutcome } from "../../src/store/survey.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { clientInfo } from "../client-info.ts";
import { publicRoute } from "../middleware/access.ts";
import { assertOrigin } from "../middleware/origin.ts";
import { readJson } from "../read-json.ts";

export const surveyRoutes = new Hono<AppEnv>();

/** The answer when nothing was stored. */
function refusal(reason: Extract<SurveyOutcome, { recorded: false }>["reason"]): ApiError {
  switch (reason) {
    case "missing":
      // The token outlived its chat (a deleted transcript).
      return new ApiError(404, "chat_not_found", "No such chat.");
    case "not_rateable":
      return new ApiError(
        409,
        "not_rateable",
        "Nobody took this chat, so there is nothing to rate.",
      );
    case "already_rated":
      return new ApiError(409, "conflict", "This chat has already been rated.");
  }
}

surveyRoutes.post("/:id/survey", publicRoute(), async (c) => {
  assertOrigin(c, c.var.config.widgetOrigins);
  const chatId = c.req.param("id");
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const claims = token ? await verifyVisitorToken(token, c.var.config.verificationKeys) : null;
  if (!claims || claims.chat !== chatId) {
    throw new ApiError(
      401,
      "invalid_token",
      "The chat token (Authorization: Bearer) is missing, invalid, expired or for another chat.",
    );
  }
  const { rating, comment } = await readJson(c, surveyRequestFor(c.var.config.cardMasking));
  const now = Date.now();
  const outcome = await recordSurvey(c.env.DB, {
    chatId,
    rating,
    comment: comment || null,
    now,
  });
  if (!outcome.recorded) throw refusal(outcome.reason);
  await appendAudit(c.env, {
    actorType: "visitor",
    actorId: claims.sub,
    action: "chat.survey",
    target: chatId,
    outcome: "success",
    ...clientInfo(c),
    department: outcome.department,
    // The comment stays with the chat; the audit row only says there was one.
    details: { rating, comment: Boolean(comment) },
    at: now,
  });
  return c.json({ ok: true }, 201);
});
