/** Random passwords for generated accounts (the demo administrator). */
import {
  checkPassword,
  type PasswordContext,
  type PasswordPolicy,
  resolvePolicy,
} from "../../src/security/password-policy.ts";

// 64 symbols, so a random byte's low 6 bits pick one without bias; look-alikes (l, I, O, 0, 1)
// are left out because a person copies this password by hand.
const ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!@#%";

/** A random password of at least 20 characters (about 120 bits) that satisfies the policy. */
export function generatePassword(
  policy: Partial<PasswordPolicy> = {},
  ctx: PasswordContext = {},
): string {
  const rules = resolvePolicy(policy);
  const length = Math.min(Math.max(rules.minLength, 20), rules.maxLength);
  // Retrying is cheap: a random draw lacks a required class with probability well under 1%.
  for (let attempt = 0; attempt < 100; attempt++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const password = Array.from(bytes, (byte) => ALPHABET[byte & 63]).join("");
    if (checkPassword(password, ctx, rules).length === 0) return password;
  }
  throw new Error("could not generate a password that satisfies the policy");
}
