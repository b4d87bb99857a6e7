/**
 * Solves an ALTCHA challenge the way the browser widget does (brute force over the counter
 * until the derived key starts with the signed prefix) and encodes the payload the widget
 * would submit. Used by the console (to pass the login CAPTCHA) and by the tests.
 */
import { solveChallenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/web/pbkdf2";
import type { AltchaChallenge } from "../security/captcha.ts";

/** The solution part of a payload: the counter found and the key it derives. */
export interface AltchaSolution {
  counter: number;
  derivedKey: string;
}

/** Brute-forces `challenge`; throws if no solution turns up within `timeoutMs`. */
export async function solveAltcha(
  challenge: AltchaChallenge,
  timeoutMs = 60_000,
): Promise<AltchaSolution> {
  const solution = await solveChallenge({ challenge, deriveKey, timeout: timeoutMs });
  if (!solution) throw new Error(`ALTCHA challenge not solved within ${timeoutMs} ms`);
  return { counter: solution.counter, derivedKey: solution.derivedKey };
}

/** Encodes a payload as the widget submits it: base64 of the JSON `{challenge, solution}`. */
export function encodeAltchaPayload(challenge: AltchaChallenge, solution: AltchaSolution): string {
  return btoa(JSON.stringify({ challenge, solution }));
}

/** Solves `challenge` and returns the payload to put in the login request's `captcha` field. */
export async function solveAltchaChallenge(challenge: AltchaChallenge): Promise<string> {
  return encodeAltchaPayload(challenge, await solveAltcha(challenge));
}
