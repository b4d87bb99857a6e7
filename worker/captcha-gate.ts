/**
 * The login CAPTCHA, with the configured provider: ALTCHA (self-hosted proof of work, the
 * default, works offline) or Cloudflare Turnstile. A provider that cannot answer fails
 * closed (503), never open.
 */
import type { Context } from "hono";
import { createCaptchaChallenge, verifyAltcha, verifyTurnstile } from "../src/security/captcha.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

/** What the console needs to show the CAPTCHA (`GET /api/auth/captcha`). */
export async function captchaChallenge(c: Context<AppEnv>) {
  const captcha = c.var.config.captcha;
  if (captcha.provider === "turnstile") {
    return { provider: "turnstile" as const, siteKey: captcha.siteKey, action: "login" };
  }
  const challenge = await createCaptchaChallenge(captcha.key, { maxCounter: captcha.maxCounter });
  return { provider: "altcha" as const, challenge };
}

/** True when `solution` solves a CAPTCHA for this login; each solution counts once. */
export async function verifyLoginCaptcha(c: Context<AppEnv>, solution: string): Promise<boolean> {
  const captcha = c.var.config.captcha;
  const result =
    captcha.provider === "turnstile"
      ? await verifyTurnstile(solution, {
          secret: captcha.secret,
          remoteIp: clientInfo(c).ip ?? "",
          // The console runs on the Worker's own host or on a listed console origin.
          expectedHostname: [
            new URL(c.req.url).hostname,
            ...c.var.config.consoleOrigins.map((origin) => new URL(origin).hostname),
          ],
          expectedAction: "login",
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
