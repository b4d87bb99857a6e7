/**
 * argon2id password hashing (DESIGN invariant 4), runtime-neutral: the caller passes an
 * initialised `Argon2` (workerd: `argon2-workerd.ts`, Node CLI: `@phi-ag/argon2/node`).
 */
import type Argon2 from "@phi-ag/argon2";

/** OWASP Password Storage Cheat Sheet minimum for argon2id: m = 19 MiB, t = 2, p = 1. */
export const ARGON2_PARAMS = {
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
  hashLength: 32,
} as const;

const ARGON2ID = 2; // Argon2Type.Argon2id (a const enum at runtime; erasable syntax only here)
const VERSION_13 = 19; // Argon2Version.Version13

/** Hashes a password into an encoded `$argon2id$v=19$m=19456,t=2,p=1$…` string. */
export function hashPassword(argon2: Argon2, password: string): string {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return argon2.hash(password, { ...ARGON2_PARAMS, salt, type: ARGON2ID, version: VERSION_13 })
    .encoded;
}

/** True when `password` matches `encoded`; false for a mismatch or a malformed hash. */
export function verifyPassword(argon2: Argon2, encoded: string, password: string): boolean {
  if (!encoded.startsWith("$argon2id$")) return false;
  return argon2.tryVerify(encoded, password, ARGON2ID).success;
}
