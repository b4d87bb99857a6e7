/**
 * The common-password blocklist (NIST SP 800-63B §3.1.1.2: refuse values known to be
 * commonly used or compromised).
 *
 * Source: `passwords-common` of `@zxcvbn-ts/language-common` (MIT, zxcvbn-ts project): 49,233
 * passwords ranked by frequency in Mark Burnett's 10 million leaked passwords (xato.net),
 * lowercased, each seen more than ten times. The plain JSON is imported (not the package's
 * compressed entry point) so the bundle holds one literal array and no decompressor; wrangler,
 * vite and Node all bundle or load JSON without file-system access at run time.
 */
import passwords from "@zxcvbn-ts/language-common/src/passwords.json" with { type: "json" };

let blocklist: Set<string> | undefined;

/** The blocklist as a Set, built on first use (most isolates never check a password). */
function getBlocklist(): Set<string> {
  // The source list is lowercase already; lowercasing again keeps the lookup correct if not.
  blocklist ??= new Set((passwords as string[]).map((entry) => entry.toLowerCase()));
  return blocklist;
}

/** True when the password is on the blocklist, ignoring case. */
export function isCommonPassword(password: string): boolean {
  return getBlocklist().has(password.toLowerCase());
}

/** How many distinct passwords the blocklist holds. */
export function commonPasswordCount(): number {
  return getBlocklist().size;
}
