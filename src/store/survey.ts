/** D1 access to the post-chat survey: the visitor's rating and comment, once per chat. */

/** A chat a visitor may rate: an agent accepted it (it is active, or ended after that). */
const RATEABLE = "status IN ('active', 'ended') AND accepted_at IS NOT NULL";

/** A validated survey answer (comment already card-masked). */
export interface NewSurvey {
  chatId: string;
  rating: number;
  comment: string | null;
  now: number;
}

/** What `recordSurvey` did. */
export type SurveyOutcome =
  | { recorded: true; department: string }
  | { recorded: false; reason: "missing" | "not_rateable" | "already_rated" };

/**
 * Stores the survey on its chat. The conditions sit in the UPDATE itself, so two answers
 * sent at once store one; only when nothing was stored is the chat read to say why.
 */
export async function recordSurvey(db: D1Database, survey: NewSurvey): Promise<SurveyOutcome> {
  const stored = await db
    .prepare(
      `UPDATE chats SET rating = ?2, survey_comment = ?3, survey_at = ?4
       WHERE id = ?1 AND rating IS NULL AND ${RATEABLE}
       RETURNING department_id AS department`,
    )
    .bind(survey.chatId, survey.rating, survey.comment, survey.now)
    .first<{ department: string }>();
  if (stored) return { recorded: true, department: stored.department };
  const chat = await db
    .prepare(`SELECT rating IS NOT NULL AS rated FROM chats WHERE id = ?1`)
    .bind(survey.chatId)
    .first<{ rated: number }>();
  if (!chat) return { recorded: false, reason: "missing" };
  return { recorded: false, reason: chat.rated ? "already_rated" : "not_rateable" };
}
