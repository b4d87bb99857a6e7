/**
 * The login CAPTCHA, solved by the console itself. With ALTCHA (the default provider) the
 * "CAPTCHA" is a proof of work: the console fetches a signed challenge, brute-forces it in the
 * page and sends the payload with the login. The agent only sees a short "Checking you're not
 * a robot…" status; nothing to click, no third party.
 *
 * Cloudflare Turnstile is not supported by this build on purpose: its widget is a script and
 * an iframe served by challenges.cloudflare.com, and the console's CSP allows scripts, frames
 * and connections to 'self' only. Loading it would mean widening that CSP for a third party,
 * which a security-first console should not do silently. A deployment that picks
 * `CAPTCHA_PROVIDER=turnstile` gets a clear message instead, and login stays disabled while a
 * CAPTCHA is required.
 */
import { solveAltchaChallenge } from "../client/altcha.ts";
import { fetchCaptcha } from "./api.ts";
import { ui } from "./elements.ts";

/** The server's CAPTCHA provider is one this console cannot show. */
export class CaptchaUnsupportedError extends Error {
  constructor() {
    super("CAPTCHA provider not supported by this console build. Contact your administrator.");
  }
}

/** After this long, the status line also shows the seconds spent (a slow device). */
const SHOW_ELAPSED_AFTER_MS = 2000;

/**
 * Fetches a fresh challenge and solves it, showing progress in the `captcha-status` live
 * region meanwhile. Resolves with the payload for the login's `captcha` field (single-use).
 */
export async function solveLoginCaptcha(): Promise<string> {
  const started = Date.now();
  ui.captchaText.textContent = "Checking you're not a robot…";
  ui.captchaElapsed.textContent = "";
  ui.captchaStatus.hidden = false;
  // The elapsed seconds are aria-hidden: a live region announcing every second is noise.
  const ticker = setInterval(() => {
    const ms = Date.now() - started;
    if (ms >= SHOW_ELAPSED_AFTER_MS) ui.captchaElapsed.textContent = `${Math.floor(ms / 1000)} s`;
  }, 500);
  try {
    const captcha = await fetchCaptcha();
    if (captcha.provider !== "altcha") throw new CaptchaUnsupportedError();
    return await solveAltchaChallenge(captcha.challenge);
  } finally {
    clearInterval(ticker);
    ui.captchaStatus.hidden = true;
    ui.captchaElapsed.textContent = "";
  }
}
