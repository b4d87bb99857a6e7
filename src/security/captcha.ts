/**
 * CAPTCHA verification for the login route, with two providers:
 *
 * - **ALTCHA** (default): a self-hosted proof of work. The server signs a challenge with
 *   `CAPTCHA_KEY`, the browser widget (the `altcha` package, v3) brute-forces it, and the
 *   server checks the submitted solution with the same key. No third party, works offline.
 * - **Cloudflare Turnstile**: the widget's token is checked server-side with siteverify.
 *
 * Both answer with one discriminated {@link CaptchaResult}; neither ever throws for bad input.
 * Runtime-neutral: Web Crypto and `fetch` only, so it runs in workerd and in Node.
 */
import { type Challenge, createChallenge, randomInt, verifySolution } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/web/pbkdf2";
import { z } from "zod";

/** Why a CAPTCHA answer was refused. */
export type CaptchaFailureReason =
  /** Not the shape a widget sends (not base64, not JSON, missing fields, too long). */
  | "malformed"
  /** Well formed but wrong: bad solution, bad signature, other key, refused by siteverify. */
  | "invalid"
  /** The challenge (ALTCHA) or token (Turnstile) is past its lifetime. */
  | "expired"
  /** This exact solution was accepted before. */
  | "replayed"
  /** Turnstile: the token was issued on another hostname. */
  | "hostname_mismatch"
  /** Turnstile: the token was issued for another action. */
  | "action_mismatch"
  /** Turnstile: siteverify could not be reached or answered nonsense (we fail closed). */
  | "unavailable"
  /** Turnstile: siteverify says our secret is missing or wrong (a deployment problem). */
  | "misconfigured";

/** The verdict on a CAPTCHA answer. */
export type CaptchaResult =
  | { ok: true }
  | {
      ok: false;
      reason: CaptchaFailureReason;
      /** Turnstile's `error-codes`, when siteverify gave any (safe to log: no secrets). */
      errorCodes?: string[];
    };

// ---------------------------------------------------------------------------------------
// ALTCHA
// ---------------------------------------------------------------------------------------

/**
 * PBKDF2/SHA-256 rather than plain SHA-256: both are SHA-256 underneath, but a PBKDF2 attempt
 * runs thousands of iterations natively inside one Web Crypto call, while an attempt of
 * iterated SHA pays the JavaScript/async overhead per hash. So the honest browser's work is
 * real hashing, which narrows the gap to an attacker's native solver; altcha-lib calls
 * PBKDF2 its "good default" and plain SHA "for testing / low security".
 * (This is the CAPTCHA's proof of work only; passwords are stored with argon2id.)
 */
const ALGORITHM = "PBKDF2/SHA-256";

/** Defaults for {@link createCaptchaChallenge}. */
export const ALTCHA_DEFAULTS = {
  /** PBKDF2 iterations per attempt (altcha's own default complexity). */
  cost: 5_000,
  /**
   * The secret counter is uniform in [0, maxCounter], so a solver does maxCounter / 2
   * attempts on average. One attempt at cost 5,000 takes ~1.5 ms on one laptop core, and
   * the widget solves with several Web Workers: ~0.5–1 s on a 4-core laptop, ~3 s on one.
   */
  maxCounter: 4_000,
  /** Lifetime of a challenge. */
  expiresInSeconds: 300,
} as const;

/** A real payload is ~600 characters; anything far bigger is not from the widget. */
const MAX_PAYLOAD_LENGTH = 2_048;

/** The challenge JSON served to the widget (its `challenge` attribute or URL). */
export type AltchaChallenge = Challenge;

/** Options of {@link createCaptchaChallenge}; the defaults are {@link ALTCHA_DEFAULTS}. */
export interface AltchaChallengeOptions {
  /** Current time in ms since the epoch (tests). Defaults to `Date.now()`. */
  now?: number;
  /** Seconds until the challenge expires. */
  expiresInSeconds?: number;
  /** Upper bound of the secret counter: the expected work is half of it. */
  maxCounter?: number;
  /** PBKDF2 iterations per attempt. */
  cost?: number;
}

/** What {@link verifyAltcha} needs besides the payload. */
export interface AltchaVerifyOptions {
  /**
   * Records a solution as spent. Resolves true when it was not spent before, false when it
   * was (a replay). `expiresAt` is in ms since the epoch: after it the challenge fails on its
   * own, so the record may be purged. Called only for otherwise valid solutions, so forged
   * payloads never write to the store. Must be atomic, e.g. D1
   * `INSERT OR IGNORE INTO captcha_used (signature, expires_at) VALUES (?1, ?2)` and
   * `meta.changes === 1`. Errors it throws propagate (storage failure is not a verdict).
   */
  markUsed: (signature: string, expiresAt: number) => Promise<boolean>;
  /** Current time in ms since the epoch (tests). Defaults to `Date.now()`. */
  now?: number;
}

/**
 * Creates a signed ALTCHA challenge for the widget, expiring after five minutes by default.
 * The server picks the secret counter ("deterministic mode"), so the work is bounded: at
 * most `maxCounter + 1` attempts, half that on average, with no unlucky long tail.
 */
export async function createCaptchaChallenge(
  key: Uint8Array | string,
  options: AltchaChallengeOptions = {},
): Promise<AltchaChallenge> {
  const now = options.now ?? Date.now();
  const expiresIn = options.expiresInSeconds ?? ALTCHA_DEFAULTS.expiresInSeconds;
  const maxCounter = options.maxCounter ?? ALTCHA_DEFAULTS.maxCounter;
  return createChallenge({
    algorithm: ALGORITHM,
    cost: options.cost ?? ALTCHA_DEFAULTS.cost,
    // altcha-lib's randomInt draws from crypto.getRandomValues (min defaults to 1).
    counter: randomInt(maxCounter, 0),
    deriveKey,
    expiresAt: Math.floor(now / 1_000) + expiresIn,
    hmacSignatureSecret: keyString(key),
  });
}

const hex = (length?: number) =>
  z
    .string()
    .regex(length === undefined ? /^(?:[0-9a-f]{2})+$/ : new RegExp(`^[0-9a-f]{${length}}$`));

// Only the fields our challenges carry; the signature covers exactly these, so an extra
// field would break it anyway, and refusing it early keeps odd input away from the library.
const payloadSchema = z.object({
  challenge: z.object({
    parameters: z.strictObject({
      algorithm: z.literal(ALGORITHM),
      cost: z.number().int().positive(),
      expiresAt: z.number().positive(),
      keyLength: z.number().int().positive().max(64),
      keyPrefix: hex(),
      nonce: hex(32),
      salt: hex(32),
    }),
    signature: hex(64),
  }),
  solution: z.object({
    counter: z.number().int().nonnegative(),
    derivedKey: hex(),
  }),
});

/**
 * Verifies the payload an ALTCHA widget submits (base64 of the JSON `{challenge, solution}`)
 * against `key`, refuses expired challenges, and refuses a solution seen before through
 * `options.markUsed`.
 */
export async function verifyAltcha(
  payload: unknown,
  key: Uint8Array | string,
  options: AltchaVerifyOptions,
): Promise<CaptchaResult> {
  const parsed = parseAltchaPayload(payload);
  if (!parsed) return fail("malformed");
  const { challenge, solution } = parsed;
  const expiresAt = challenge.parameters.expiresAt * 1_000;

  let verdict: Awaited<ReturnType<typeof verifySolution>>;
  try {
    verdict = await verifySolution({
      challenge,
      solution,
      deriveKey,
      hmacSignatureSecret: keyString(key),
    });
  } catch {
    // Only reachable with input the schema let through but the library refuses to process.
    return fail("invalid");
  }
  // altcha-lib checks expiry (against the real clock) before the signature, so "expired"
  // does not prove the payload authentic; either way it is refused.
  if (verdict.expired) return fail("expired");
  if (!verdict.verified) return fail("invalid");
  if (expiresAt <= (options.now ?? Date.now())) return fail("expired");
  if (!(await options.markUsed(challenge.signature, expiresAt))) return fail("replayed");
  return { ok: true };
}

function parseAltchaPayload(payload: unknown): z.infer<typeof payloadSchema> | null {
  if (typeof payload !== "string" || payload.length === 0 || payload.length > MAX_PAYLOAD_LENGTH) {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(atob(payload));
  } catch {
    return null;
  }
  const result = payloadSchema.safeParse(json);
  return result.success ? result.data : null;
}

/**
 * altcha-lib takes its HMAC secret as a string (and UTF-8 encodes it). Bytes that are valid
 * UTF-8 are decoded, so a key and its UTF-8 bytes (what `parseConfig` yields) are the same
 * key; other bytes are used as their hex spelling.
 */
function keyString(key: Uint8Array | string): string {
  let text: string;
  if (typeof key === "string") {
    text = key;
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(key);
    } catch {
      text = Array.from(key, (byte) => byte.toString(16).padStart(2, "0")).join("");
    }
  }
  // An empty key would make every signature forgeable; this is a deployment bug.
  if (text.length === 0) throw new TypeError("CAPTCHA key must not be empty");
  return text;
}

const fail = (reason: CaptchaFailureReason, errorCodes?: string[]): CaptchaResult =>
  errorCodes && errorCodes.length > 0 ? { ok: false, reason, errorCodes } : { ok: false, reason };

// ---------------------------------------------------------------------------------------
// Turnstile
// ---------------------------------------------------------------------------------------

/** Cloudflare's server-side validation endpoint. */
export const TURNSTILE_SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/** Turnstile tokens are at most 2,048 characters (Cloudflare's documentation). */
const MAX_TURNSTILE_TOKEN_LENGTH = 2_048;

/** What {@link verifyTurnstile} needs besides the token. */
export interface TurnstileVerifyOptions {
  /** The Turnstile secret key (a wrangler secret). */
  secret: string;
  /** The visitor's IP (`CF-Connecting-IP`), sent as `remoteip`. */
  remoteIp: string;
  /** The hostname (or hostnames) the widget may be served on. */
  expectedHostname: string | readonly string[];
  /** The `action` the widget was rendered with, e.g. `"login"`. */
  expectedAction: string;
  /** Injected for tests; defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Sent as `idempotency_key`, so a retried request is not a "duplicate". Random by default. */
  idempotencyKey?: string;
  /** Give up (fail closed) after this many ms. Defaults to 5,000. */
  timeoutMs?: number;
}

const siteverifySchema = z.object({
  success: z.boolean(),
  hostname: z.string().optional(),
  action: z.string().optional(),
  "error-codes": z.array(z.string()).optional(),
});

/**
 * Verifies a Turnstile token with siteverify and checks that it was issued for our hostname
 * and action. A network failure, a timeout, a non-200 answer or a body that is not
 * siteverify's JSON is `unavailable`: the login is refused, never waved through.
 */
export async function verifyTurnstile(
  token: unknown,
  options: TurnstileVerifyOptions,
): Promise<CaptchaResult> {
  if (
    typeof token !== "string" ||
    token.length === 0 ||
    token.length > MAX_TURNSTILE_TOKEN_LENGTH
  ) {
    return fail("malformed");
  }
  const body = new URLSearchParams({
    secret: options.secret,
    response: token,
    remoteip: options.remoteIp,
    idempotency_key: options.idempotencyKey ?? crypto.randomUUID(),
  });
  const doFetch = options.fetch ?? fetch;
  let answer: z.infer<typeof siteverifySchema>;
  try {
    const response = await doFetch(TURNSTILE_SITEVERIFY_URL, {
      method: "POST",
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    if (response.status !== 200) return fail("unavailable");
    const parsed = siteverifySchema.safeParse(await response.json());
    if (!parsed.success) return fail("unavailable");
    answer = parsed.data;
  } catch {
    return fail("unavailable");
  }

  const codes = answer["error-codes"] ?? [];
  if (!answer.success) return fail(turnstileReason(codes), codes);
  const hostnames: readonly string[] =
    typeof options.expectedHostname === "string"
      ? [options.expectedHostname]
      : options.expectedHostname;
  if (answer.hostname === undefined || !hostnames.includes(answer.hostname)) {
    return fail("hostname_mismatch");
  }
  if (answer.action !== options.expectedAction) return fail("action_mismatch");
  return { ok: true };
}

function turnstileReason(codes: string[]): CaptchaFailureReason {
  if (codes.includes("missing-input-secret") || codes.includes("invalid-input-secret")) {
    return "misconfigured";
  }
  if (codes.includes("internal-error")) return "unavailable";
  // Cloudflare folds "too old" and "already used" into one code; both mean "solve it again".
  if (codes.includes("timeout-or-duplicate")) return "expired";
  if (codes.includes("missing-input-response") || codes.includes("bad-request")) {
    return "malformed";
  }
  return "invalid";
}
