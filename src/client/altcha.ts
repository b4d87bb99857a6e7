/**
 * Solves an ALTCHA challenge the way altcha-lib's `solveChallenge` does (PBKDF2 over the
 * nonce followed by a big-endian 32-bit counter, until the derived key starts with the signed
 * `keyPrefix`) and encodes the payload the server verifies. Used by the widget (chat-start
 * CAPTCHA), the console (login CAPTCHA) and the tests.
 *
 * This is the CAPTCHA's proof of work (a deliberately slow function the browser solves), never
 * password storage: passwords are hashed with argon2id only (src/security/password-hash.ts).
 *
 * Written on WebCrypto directly rather than with altcha-lib's solver: the library's solver
 * brings its challenge-creation helpers along, which cost the widget about 1 KB gzipped of its
 * 15 KB budget. The server side (creating and verifying) still uses altcha-lib, and the unit
 * tests verify solutions from here with it.
 */
import type { AltchaChallenge } from "../security/captcha.ts";

/** The solution part of a payload: the counter found and the key it derives. */
export interface AltchaSolution {
  counter: number;
  derivedKey: string;
}

const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const fromHex = (hex: string) =>
  Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));

/** Brute-forces `challenge`; throws if no solution turns up within `timeoutMs`. */
export async function solveAltcha(
  challenge: AltchaChallenge,
  timeoutMs = 60_000,
): Promise<AltchaSolution> {
  const { algorithm, nonce, salt, cost, keyLength = 32, keyPrefix } = challenge.parameters;
  if (!/^PBKDF2\/SHA-(256|384|512)$/.test(algorithm)) {
    throw new Error(`Unsupported ALTCHA algorithm ${algorithm}`);
  }
  const nonceBytes = fromHex(nonce);
  const password = new Uint8Array(nonceBytes.length + 4);
  password.set(nonceBytes);
  const counterView = new DataView(password.buffer, nonceBytes.length);
  const params = {
    name: "PBKDF2",
    salt: fromHex(salt),
    iterations: cost,
    hash: algorithm.slice(7),
  };
  const prefix = keyPrefix.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  // Each attempt awaits WebCrypto, so the page stays responsive while this runs.
  for (let counter = 0; counter <= 0xffffffff && Date.now() < deadline; counter++) {
    counterView.setUint32(0, counter);
    const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
    const derivedKey = toHex(
      new Uint8Array(await crypto.subtle.deriveBits(params, key, keyLength * 8)),
    );
    if (derivedKey.startsWith(prefix)) return { counter, derivedKey };
  }
  throw new Error(`ALTCHA challenge not solved within ${timeoutMs} ms`);
}

/** Encodes a payload as the widget submits it: base64 of the JSON `{challenge, solution}`. */
export function encodeAltchaPayload(challenge: AltchaChallenge, solution: AltchaSolution): string {
  return btoa(JSON.stringify({ challenge, solution }));
}

/** Solves `challenge` and returns the payload to put in the login request's `captcha` field. */
export async function solveAltchaChallenge(challenge: AltchaChallenge): Promise<string> {
  return encodeAltchaPayload(challenge, await solveAltcha(challenge));
}
