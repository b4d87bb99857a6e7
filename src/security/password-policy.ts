/**
 * Password policy (DESIGN invariant 4; NIST SP 800-63B §3.1.1.2, OWASP ASVS 5.0 V6.2).
 *
 * Defaults follow NIST: a minimum length (12), a generous maximum (128), no composition rules,
 * a blocklist of common passwords and no password containing the account's own name or email.
 * Composition rules exist only because some compliance regimes still ask for them
 * (`PASSWORD_CHARACTER_CLASSES`).
 *
 * Pure and runtime-neutral: the Worker, the Node CLI and the console may all import it.
 */
import { isCommonPassword } from "./common-passwords.ts";

/** What a password must satisfy. */
export interface PasswordPolicy {
  /** Minimum length in Unicode code points. */
  minLength: number;
  /** Maximum length in Unicode code points (bounds the hashing cost; never truncated). */
  maxLength: number;
  requireLowercase: boolean;
  requireUppercase: boolean;
  requireDigit: boolean;
  /** Anything that is neither a letter, a mark nor a number (space included). */
  requireSpecial: boolean;
  /** Refuse the passwords of the common-password list (case-insensitive). */
  forbidCommon: boolean;
  /** Refuse passwords containing the username, the email or the email's local part. */
  forbidUsername: boolean;
}

/** The policy used when nothing is configured. */
export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  minLength: 12,
  maxLength: 128,
  requireLowercase: false,
  requireUppercase: false,
  requireDigit: false,
  requireSpecial: false,
  forbidCommon: true,
  forbidUsername: true,
});

/** Codes of broken rules, in the order checkPassword reports them. */
export const PASSWORD_PROBLEMS = [
  "too_short",
  "too_long",
  "missing_lowercase",
  "missing_uppercase",
  "missing_digit",
  "missing_special",
  "common",
  "contains_username",
] as const;

/** One broken rule. */
export type PasswordProblem = (typeof PASSWORD_PROBLEMS)[number];

/** Identity the password must not contain. */
export interface PasswordContext {
  username?: string;
  email?: string;
}

const LOWERCASE = /\p{Ll}/u;
const UPPERCASE = /\p{Lu}/u;
const DIGIT = /\p{Nd}/u;
// Marks are excluded so that a decomposed "é" (e + U+0301) does not count as a symbol.
const SPECIAL = /[^\p{L}\p{M}\p{N}]/u;
/** Shorter identity fragments ("al", "jo") would refuse far too many good passwords. */
const MIN_IDENTITY_LENGTH = 3;

/** Length in Unicode code points, so "🔒" counts once and nothing is ever cut. */
export function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

/**
 * Checks a candidate password against the policy (fields left out take the defaults).
 * Returns the codes of every broken rule; an empty array means the password is acceptable.
 */
export function checkPassword(
  password: string,
  ctx: PasswordContext,
  policy?: Partial<PasswordPolicy>,
): PasswordProblem[] {
  const rules = resolvePolicy(policy);
  const problems: PasswordProblem[] = [];
  const length = codePointLength(password);
  if (length < rules.minLength) problems.push("too_short");
  if (length > rules.maxLength) problems.push("too_long");
  if (rules.requireLowercase && !LOWERCASE.test(password)) problems.push("missing_lowercase");
  if (rules.requireUppercase && !UPPERCASE.test(password)) problems.push("missing_uppercase");
  if (rules.requireDigit && !DIGIT.test(password)) problems.push("missing_digit");
  if (rules.requireSpecial && !SPECIAL.test(password)) problems.push("missing_special");
  if (rules.forbidCommon && isCommonPassword(password)) problems.push("common");
  if (rules.forbidUsername && containsIdentity(password, ctx)) problems.push("contains_username");
  return problems;
}

/** The defaults overlaid with the given fields (an explicit `undefined` keeps the default). */
export function resolvePolicy(policy?: Partial<PasswordPolicy>): PasswordPolicy {
  const resolved: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY };
  if (!policy) return resolved;
  for (const key of Object.keys(resolved) as (keyof PasswordPolicy)[]) {
    const value = policy[key];
    // The assignment is per key, so TypeScript cannot relate the two union types.
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

function containsIdentity(password: string, ctx: PasswordContext): boolean {
  const haystack = password.toLowerCase();
  const email = ctx.email?.trim() ?? "";
  const at = email.lastIndexOf("@");
  const candidates = [ctx.username?.trim() ?? "", email, at > 0 ? email.slice(0, at) : ""];
  return candidates.some(
    (candidate) =>
      codePointLength(candidate) >= MIN_IDENTITY_LENGTH &&
      haystack.includes(candidate.toLowerCase()),
  );
}

/** A password-policy setting is malformed; the message names the setting. */
export class PasswordPolicyError extends Error {
  override name = "PasswordPolicyError";
}

/**
 * PCI DSS 4.0.1 8.3.6 requires at least 12 characters, so no setting can go below it (NIST
 * 800-63B-4 asks 15 for a password that is the only factor: set 15 where MFA is off).
 */
const MIN_LENGTH_RANGE = [12, 128] as const;
/** NIST 800-63B: permit at least 64; the upper cap bounds argon2 input (a DoS guard). */
const MAX_LENGTH_RANGE = [64, 1024] as const;

const CHARACTER_CLASSES = {
  lowercase: "requireLowercase",
  uppercase: "requireUppercase",
  digit: "requireDigit",
  special: "requireSpecial",
} as const;

/**
 * Reads `PASSWORD_MIN_LENGTH`, `PASSWORD_MAX_LENGTH` and `PASSWORD_CHARACTER_CLASSES` (a comma
 * list of lowercase, uppercase, digit, special; empty = none) from wrangler vars. Missing or
 * empty settings take the defaults; a malformed one throws PasswordPolicyError (fail closed).
 */
export function parsePasswordPolicy(vars: Record<string, unknown>): PasswordPolicy {
  const policy: PasswordPolicy = { ...DEFAULT_PASSWORD_POLICY };
  policy.minLength = readInt(vars, "PASSWORD_MIN_LENGTH", policy.minLength, MIN_LENGTH_RANGE);
  policy.maxLength = readInt(vars, "PASSWORD_MAX_LENGTH", policy.maxLength, MAX_LENGTH_RANGE);
  if (policy.minLength > policy.maxLength) {
    throw new PasswordPolicyError("PASSWORD_MIN_LENGTH: must not exceed PASSWORD_MAX_LENGTH");
  }
  const classes = readString(vars, "PASSWORD_CHARACTER_CLASSES");
  for (const item of classes.split(",")) {
    const name = item.trim().toLowerCase();
    if (!name) continue;
    if (!Object.hasOwn(CHARACTER_CLASSES, name)) {
      throw new PasswordPolicyError(
        `PASSWORD_CHARACTER_CLASSES: unknown class (allowed: ${Object.keys(CHARACTER_CLASSES).join(", ")})`,
      );
    }
    policy[CHARACTER_CLASSES[name as keyof typeof CHARACTER_CLASSES]] = true;
  }
  return policy;
}

function readString(vars: Record<string, unknown>, name: string): string {
  const value = vars[name];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new PasswordPolicyError(`${name}: must be a string`);
  return value.trim();
}

function readInt(
  vars: Record<string, unknown>,
  name: string,
  fallback: number,
  [min, max]: readonly [number, number],
): number {
  const text = readString(vars, name);
  if (!text) return fallback;
  const value = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new PasswordPolicyError(`${name}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Human sentences for problem codes (unknown codes get a generic sentence). */
export function describePasswordProblems(
  codes: readonly string[],
  policy?: Partial<PasswordPolicy>,
): string[] {
  const rules = resolvePolicy(policy);
  const messages: Record<PasswordProblem, string> = {
    too_short: `Use at least ${rules.minLength} characters.`,
    too_long: `Use at most ${rules.maxLength} characters.`,
    missing_lowercase: "Include a lowercase letter.",
    missing_uppercase: "Include an uppercase letter.",
    missing_digit: "Include a digit.",
    missing_special: "Include a symbol or space (a character that is not a letter or digit).",
    common: "This password is among the most commonly used ones; choose another.",
    contains_username: "The password must not contain your name or email address.",
  };
  return codes.map((code) =>
    Object.hasOwn(messages, code)
      ? messages[code as PasswordProblem]
      : "The password does not meet the policy.",
  );
}
