/**
 * Erasing chats' own copies in their ChatSessions after D1 deleted or purged them
 * (`ChatSession.erase`; used by `DELETE /api/transcripts/:id` and the retention cron).
 */
import type { Env } from "../worker/env.ts";
import { getChatSession } from "./chat-session.ts";

/** ChatSessions erased at once by `eraseChatCopies`. */
const ERASE_CONCURRENCY = 20;

/**
 * Erases the chats' own copies in their ChatSessions, after D1 deleted or purged the chats
 * (`ChatSession.erase`), a few at a time. Answers the ids whose erase failed (the caller logs
 * them): their copy stays until the object's own erase alarm, which chats ended before that
 * alarm existed do not have.
 */
export async function eraseChatCopies(env: Env, chatIds: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (let i = 0; i < chatIds.length; i += ERASE_CONCURRENCY) {
    const batch = chatIds.slice(i, i + ERASE_CONCURRENCY);
    const results = await Promise.allSettled(batch.map((id) => getChatSession(env, id).erase()));
    results.forEach((result, j) => {
      if (result.status === "rejected" || !result.value) failed.push(batch[j] ?? "");
    });
  }
  return failed;
}
