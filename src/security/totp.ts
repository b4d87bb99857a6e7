/**
 * Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, ±1 step
 * of clock drift) and one-time recovery codes, for agents' second factor.
 *
 * Hand-written over Web Crypto (about forty lines of HOTP) rather than a dependency, and
 * checked against the RFC 6238 Appendix B test vectors. Runtime-neutral: workerd, Node and
 * browsers.
 */

/** RFC 6238 parameters every authenticator app supports; the otpauth URI states them too. */
const DIGITS = 6;
const PERIOD_SECONDS = 30;
const SECRET_BYTES = 20; // 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends
const MAX_WINDOW = 10;

// ---------------------------------------------------------------------------------------
// Base32 (RFC 4648 §6), the encoding of TOTP secrets
// ---------------------------------------------------------------------------------------

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Encodes bytes as RFC 4648 base32. Without padding by default, as otpauth URIs expect;
 * `{ padding: true }` adds the `=` padding.
 */
export function base32Encode(bytes: Uint8Array, options: { padding?: boolean } = {}): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1; // keep only the bits not yet written, so it never overflows
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  if (options.padding) out += "=".repeat((8 - (out.length % 8)) % 8);
  return out;
}

/**
 * Decodes RFC 4648 base32. Case-insensitive; spaces and trailing `=` padding are ignored
 * (people copy secrets by hand). Throws a TypeError on any other character or on a length
 * no encoder produces.
 */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/ /g, "").toUpperCase().replace(/=+$/, "");
  // 1, 3 or 6 characters left over after whole 8-character blocks cannot come from bytes.
  if ([1, 3, 6].includes(clean.length % 8)) throw new TypeError("Invalid base32 length");
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new TypeError("Invalid base32 character");
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >>> bits) & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// HOTP / TOTP
// ---------------------------------------------------------------------------------------

/** Generates a new TOTP secret: 160 random bits, base32 without padding (32 characters). */
export function generateTotpSecret(): string {
  return base32Encode(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/**
 * The `otpauth://` URI an authenticator app scans (Google's Key URI format): the label is
 * `issuer:account`, and issuer, algorithm, digits and period are stated explicitly.
 */
export function totpUri(input: { secret: string; account: string; issuer: string }): string {
  // encodeURIComponent, not URLSearchParams: apps expect %20 for spaces, not "+".
  const issuer = encodeURIComponent(input.issuer);
  const label = `${issuer}:${encodeURIComponent(input.account)}`;
  const secret = base32Encode(base32Decode(input.secret)); // canonical: upper case, no padding
  return (
    `otpauth://totp/${label}?secret=${secret}&issuer=${issuer}` +
    `&algorithm=SHA1&digits=${DIGITS}&period=${PERIOD_SECONDS}`
  );
}

/** The time step (RFC 6238 `T`) that `now` (ms since the epoch) falls in. */
export function totpStep(now: number = Date.now()): number {
  return Math.floor(now / 1_000 / PERIOD_SECONDS);
}

/** HOTP (RFC 4226): the `digits`-digit code of `key` for `counter`. */
export async function hotp(
  key: Uint8Array,
  counter: number,
  digits: number = DIGITS,
): Promise<string> {
  // The counter is 8 bytes big-endian; JavaScript numbers are split into two 32-bit halves.
  const message = new DataView(new ArrayBuffer(8));
  message.setUint32(0, Math.floor(counter / 2 ** 32));
  message.setUint32(4, counter >>> 0);
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key), // a copy backed by a plain ArrayBuffer, as Web Crypto's types demand
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
  // Dynamic truncation (RFC 4226 §5.3): 31 bits starting at the offset the last nibble names.
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary =
    (((mac[offset] ?? 0) & 0x7f) << 24) |
    ((mac[offset + 1] ?? 0) << 16) |
    ((mac[offset + 2] ?? 0) << 8) |
    (mac[offset + 3] ?? 0);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/**
 * The TOTP code of a base32 `secret` at `now` (ms since the epoch). `digits` exists for
 * the RFC's 8-digit test vectors; Parley's codes have 6.
 */
export function generateTotp(
  secret: string,
  options: { now?: number; digits?: number } = {},
): Promise<string> {
  return hotp(secretKey(secret), totpStep(options.now), options.digits ?? DIGITS);
}

/** Decodes a stored secret; one under 128 bits (RFC 4226 §4) is a bug, not a user error. */
function secretKey(secret: string): Uint8Array {
  const key = base32Decode(secret);
  if (key.length < 16) throw new TypeError("TOTP secret must be at least 128 bits");
  return key;
}

/** The outcome of {@link verifyTotp}. */
export type TotpResult = { ok: true; step: number } | { ok: false };

/**
 * Verifies a 6-digit code against a base32 `secret`, accepting the current time step and
 * `window` steps either side (default 1: ±30 s of clock drift). Spaces in the code are
 * ignored ("123 456", as apps display it); anything but six ASCII digits is refused.
 *
 * On success it returns the matched step. The caller must store it and refuse any code
 * whose step is not greater than the last one accepted: a code is valid for up to 90 s,
 * and without that check it could be replayed (RFC 6238 §5.2).
 */
export async function verifyTotp(
  secret: string,
  code: string,
  options: { now?: number; window?: number } = {},
): Promise<TotpResult> {
  const window = options.window ?? 1;
  if (!Number.isInteger(window) || window < 0 || window > MAX_WINDOW) {
    throw new RangeError(`TOTP window must be an integer from 0 to ${MAX_WINDOW}`);
  }
  const candidate = typeof code === "string" ? code.replace(/ /g, "") : "";
  if (!/^[0-9]{6}$/.test(candidate)) return { ok: false };
  const key = secretKey(secret);
  const current = totpStep(options.now);
  let matched: number | null = null;
  // Every step in the window is computed and compared, with no early exit, so the time
  // taken does not tell which step (if any) matched.
  for (let step = Math.max(0, current - window); step <= current + window; step++) {
    const expected = await hotp(key, step);
    if (constantTimeEqual(expected, candidate) && matched === null) matched = step;
  }
  return matched === null ? { ok: false } : { ok: true, step: matched };
}

/** Compares two strings without stopping at the first difference. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

// ---------------------------------------------------------------------------------------
// Recovery codes
// ---------------------------------------------------------------------------------------

/**
 * Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied from paper
 * cannot be mistaken, and {@link normaliseRecoveryCode} maps the look-alikes back.
 */
const RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/**
 * 16 characters × 5 bits = 80 bits. Codes are stored as an unsalted fast hash, so their
 * strength against a stolen database is their entropy alone: 2^80 SHA-256 guesses is out of
 * reach, where 50 bits would fall to one GPU in about a day.
 */
const RECOVERY_CODE_LENGTH = 16;
const RECOVERY_GROUP = 4;

/**
 * Generates `count` distinct one-time recovery codes, each 80 random bits written as
 * `XXXX-XXXX-XXXX-XXXX` in Crockford base32. Show them once; store only
 * {@link hashRecoveryCode} of each.
 */
export function generateRecoveryCodes(count = 10): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new RangeError("Recovery code count must be an integer from 1 to 100");
  }
  const codes = new Set<string>();
  while (codes.size < count) {
    // 32 symbols divide 256 exactly, so `byte & 31` is uniform (no modulo bias).
    const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_CODE_LENGTH));
    const raw = Array.from(bytes, (byte) => RECOVERY_ALPHABET[byte & 31]).join("");
    const groups = raw.match(new RegExp(`.{${RECOVERY_GROUP}}`, "g")) ?? [];
    codes.add(groups.join("-"));
  }
  return [...codes];
}

/**
 * The canonical form of a recovery code as typed: spaces and dashes removed, upper case,
 * and Crockford's look-alikes mapped back (O → 0, I and L → 1).
 */
export function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
}

/**
 * SHA-256 (hex) of the normalised recovery code, for storage and lookup. A fast hash is
 * right here, unlike for passwords: the codes are 80 random bits, not human choices, so
 * there is no dictionary to try and a slow hash would add no strength, only login latency.
 */
export async function hashRecoveryCode(code: string): Promise<string> {
  const bytes = new TextEncoder().encode(normaliseRecoveryCode(code));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
