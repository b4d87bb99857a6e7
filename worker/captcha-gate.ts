/**
 * CAPTCHAs (login, and chat start with CHAT_START_CAPTCHA), with the configured provider: ALTCHA (self-hosted proof of work, the
 * default, works offline) or Cloudflare Turnstile. A provider that cannot answer fails
 * closed (503), never open.
 */
import type { Context } from "hono";
import { createCaptchaChallenge, verifyAltcha, verifyTurnstile } from "../src/security/captcha.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

/** What a CAPTCHA is for: the Turnstile action, and the origins its page may run on. */
export interface CaptchaPurpose {
  action: string;
  /** Besides the Worker's own host (the console or demo page served by the Worker). */
  origins: readonly string[];
}

/** The login's CAPTCHA: rendered by the console. */
const LOGIN = (c: Context<AppEnv>): CaptchaPurpose => ({
  action: "login",
  origins: c.var.config.consoleOrigins,
});

/** What a page needs to show the CAPTCHA (`GET /api/auth/captcha` for the console). */
export async function captchaChallenge<Action extends string = "login">(
  c: Context<AppEnv>,
  action: Action = "login" as Action,
) {
  const captcha = c.var.config.captcha;
  if (captcha.provider === "turnstile") {
    return { provider: "turnstile" as const, siteKey: captcha.siteKey, action };
  }
  const challenge = await createCaptchaChallenge(captcha.key, { maxCounter: captcha.maxCounter });
  return { provider: "altcha" as const, challenge };
}

/** True when `solution` solves a CAPTCHA for this login; each solution counts once. */
export function verifyLoginCaptcha(c: Context<AppEnv>, solution: string): Promise<boolean> {
  return verifyCaptcha(c, solution, LOGIN(c));
}

/**
 * True when `solution` solves a CAPTCHA for `purpose`; each ALTCHA solution counts once
 * (D1 `captcha_used`), a Turnstile token is checked for the IP, hostname and action.
 */
export async function verifyCaptcha(
  c: Context<AppEnv>,
  solution: string,
  purpose: CaptchaPurpose,
): Promise<boolean> {
  const captcha = c.var.config.captcha;
  const result =
    captcha.provider === "turnstile"
      ? await verifyTurnstile(solution, {
          secret: captcha.secret,
          remoteIp: clientInfo(c).ip ?? "",
          expectedHostname: [
            new URL(c.req.url).hostname,
            ...purpose.origins.map((origin) => new URL(origin).hostname),
          ],
          expectedAction: purpose.action,
        })
      : await verifyAltcha(solution, captcha.key, {
          markUsed: async (signature, expiresAt) => {
            const { meta } = await c.env.DB.prepare(
              "INSERT OR IGNORE INTO captcha_used (signature, expires_at) VALUES (?1, ?2)",
            )
              .bind(signature, expiresAt)
              .run();
            return meta.changes === 1;
          },
        });
  if (!result.ok && (result.reason === "unavailable" || result.reason === "misconfigured")) {
    console.error(`[parley] CAPTCHA provider ${captcha.provider}: ${result.reason}`);
    throw new ApiError(
      503,
      "captcha_unavailable",
      "The CAPTCHA service is unavailable; try again.",
    );
  }
  return result.ok;
}
