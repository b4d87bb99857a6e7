/**
 * Payloads of the offline-message inbox (handled / reopened, recorded replies) and of the
 * post-chat survey. Free text is card-masked at the boundary in the deployment's mode.
 */
import { z } from "zod";
import { maskedText, perMode } from "./masked-text.ts";

/** Longest reply an agent records (characters, before masking). */
export const MAX_REPLY_CHARS = 5000;
/** Longest survey comment (characters, before masking). */
export const MAX_SURVEY_COMMENT_CHARS = 1000;

/** `status` filter of `GET /api/offline-messages`; absent means `all`. */
export const offlineMessageStatus = z.enum(["open", "handled", "all"]);
export type OfflineMessageStatus = z.infer<typeof offlineMessageStatus>;

/** `POST /api/offline-messages/:id/handled`: mark handled (`true`) or reopen (`false`). */
export const offlineMessageHandledRequest = z.object({ handled: z.boolean() }).strict();

/** `POST /api/offline-messages/:id/reply`: what the agent answered, per masking mode. */
export const offlineMessageReplyRequestFor = perMode((mode) =>
  z.object({ text: maskedText(z.string().trim().min(1).max(MAX_REPLY_CHARS), mode) }).strict(),
);

/** One recorded reply (text already card-masked). */
export interface OfflineMessageReply {
  id: string;
  agentId: string;
  /** The agent's name when the reply was recorded. */
  agentName: string;
  text: string;
  at: number;
}

/** Who marked an offline message handled; `name` is null if the account no longer exists. */
export interface OfflineMessageHandler {
  id: string;
  name: string | null;
}

/**
 * `POST /api/visitor/chats/:id/survey`, per masking mode. An empty or blank comment is
 * stored as none.
 */
export const surveyRequestFor = perMode((mode) =>
  z
    .object({
      rating: z.number().int().min(1).max(5),
      comment: maskedText(z.string().trim().max(MAX_SURVEY_COMMENT_CHARS), mode).optional(),
    })
    .strict(),
);
