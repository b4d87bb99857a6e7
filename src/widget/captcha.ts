/**
 * The chat-start bot check (CHAT_START_CAPTCHA=always). The server answers the pre-chat form
 * with 403 `captcha_required` (or `captcha_invalid`) and a signed ALTCHA challenge; the
 * widget solves the proof of work in the page — nothing to click — and sends the form again.
 *
 * Turnstile is not supported in the widget: its script and iframe would have to be allowed by
 * the embedding site's CSP, which the widget cannot know. With CAPTCHA_PROVIDER=turnstile and
 * CHAT_START_CAPTCHA=always the visitor is told to get in touch another way.
 */
import { solveAltchaChallenge } from "../client/altcha.ts";
import type { ChatCaptchaChallenge } from "../protocol/http.ts";
import { t } from "./strings.ts";

/** Solutions tried before giving up (a replayed or expired one gets a fresh challenge). */
const MAX_SOLVES = 2;

/**
 * The challenge in a refusal from `requestJson` (its ApiError: `status`, `code`, `details`).
 * Read by shape, so this module needs no DOM types and runs in the Node unit tests.
 */
function challengeOf(error: unknown): ChatCaptchaChallenge | null {
  const e = error as { status?: unknown; code?: unknown; details?: { captcha?: unknown } };
  if (e?.status !== 403 || (e.code !== "captcha_required" && e.code !== "captcha_invalid")) {
    return null;
  }
  return (e.details?.captcha as ChatCaptchaChallenge | undefined) ?? null;
}

/**
 * Runs `send` (the pre-chat request, with a CAPTCHA solution once one is asked for); when
 * the server asks, solves its challenge and sends again. `solving` brackets the work, so the
 * form can say what is going on.
 */
export async function withChatCaptcha<T>(
  send: (captcha: string | undefined) => Promise<T>,
  solving: (on: boolean) => void,
): Promise<T> {
  let captcha: string | undefined;
  for (let solves = 0; ; solves++) {
    try {
      return await send(captcha);
    } catch (error) {
      const challenge = challengeOf(error);
      if (!challenge || solves >= MAX_SOLVES) throw error;
      if (challenge.provider !== "altcha") {
        throw new Error(t.captchaUnsupported);
      }
      solving(true);
      try {
        captcha = await solveAltchaChallenge(challenge.challenge);
      } finally {
        solving(false);
      }
    }
  }
}
