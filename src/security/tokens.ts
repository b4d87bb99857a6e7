/**
 * JWTs for agent sessions and visitor chats (jose, HS256 only). Verification pins the
 * algorithm, issuer and audience and requires `exp` (and honours `nbf`), so `alg: none`, a
 * token for the other audience or an expired token never passes.
 *
 * Key rotation: every token names its key (`kid`, derived from the key itself); verifiers
 * accept the current key and, during a rotation, the previous one, until its tokens expire.
 */
import { errors, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";

const ISSUER = "parley";
const ALGORITHMS = ["HS256"];

/** Claims of a visitor's chat token (`aud: "visitor"`). */
export interface VisitorClaims {
  /** The visitor id. */
  sub: string;
  /** The one chat this token opens. */
  chat: string;
}

/** Claims of an agent's session token (`aud: "agent"`). */
export interface SessionClaims {
  /** The agent id. */
  sub: string;
  /** The server-side session row this token names. */
  sid: string;
}

/** A key's id: the first 12 hex digits of its SHA-256 (names the key, reveals nothing). */
export async function keyId(key: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(key)));
  return [...digest.slice(0, 6)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The keys a token may be verified with: the current one first, then older ones. */
export type VerificationKeys = Uint8Array | readonly Uint8Array[];

async function sign(
  claims: Record<string, string>,
  audience: string,
  key: Uint8Array,
  lifetimeSeconds: number,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: await keyId(key) })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setNotBefore("0s")
    .setExpirationTime(`${lifetimeSeconds}s`)
    .sign(key);
}

async function verify(
  token: string,
  audience: string,
  keys: VerificationKeys,
): Promise<Record<string, unknown> | null> {
  const candidates = keys instanceof Uint8Array ? [keys] : keys;
  const byId = new Map<string, Uint8Array>();
  for (const key of candidates) byId.set(await keyId(key), key);
  // A token without kid (or with an unknown one) gets the current key only.
  const pick = (header: JWTHeaderParameters) =>
    (header.kid ? byId.get(header.kid) : undefined) ?? candidates[0] ?? new Uint8Array();
  try {
    const { payload } = await jwtVerify(token, pick, {
      algorithms: ALGORITHMS,
      issuer: ISSUER,
      audience,
      requiredClaims: ["exp", "sub"],
    });
    return payload;
  } catch (error) {
    // Any JOSE failure (bad signature, expired, wrong audience, malformed) is a plain "no".
    if (error instanceof errors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}

/** Signs a visitor chat token. */
export function signVisitorToken(
  claims: VisitorClaims,
  key: Uint8Array,
  lifetimeSeconds: number,
): Promise<string> {
  return sign({ sub: claims.sub, chat: claims.chat }, "visitor", key, lifetimeSeconds);
}

/** Verifies a visitor chat token; null when invalid for any reason. */
export async function verifyVisitorToken(
  token: string,
  keys: VerificationKeys,
): Promise<VisitorClaims | null> {
  const payload = await verify(token, "visitor", keys);
  if (typeof payload?.sub !== "string" || typeof payload.chat !== "string") return null;
  return { sub: payload.sub, chat: payload.chat };
}

/**
 * How long a presence token lives: a year, renewed at every connection (no cookie, no expiry
 * in use). A visitor unseen for longer can never present its id again, so its profile goes
 * (the hourly cron, `purgeStaleProfiles`).
 */
export const PRESENCE_TOKEN_SECONDS = 365 * 24 * 60 * 60;

/**
 * Signs a visitor's presence token (`aud: "presence"`, `sub`: the visitor id): the widget
 * keeps it in localStorage and presents it on the presence socket, so a visitor keeps one
 * id across visits without a cookie. It opens no chat.
 */
export function signPresenceToken(
  visitorId: string,
  key: Uint8Array,
  lifetimeSeconds: number,
): Promise<string> {
  return sign({ sub: visitorId }, "presence", key, lifetimeSeconds);
}

/** Verifies a presence token; the visitor id, or null when invalid for any reason. */
export async function verifyPresenceToken(
  token: string,
  keys: VerificationKeys,
): Promise<string | null> {
  const payload = await verify(token, "presence", keys);
  return typeof payload?.sub === "string" ? payload.sub : null;
}

/** Signs an agent session token. */
export function signSessionToken(
  claims: SessionClaims,
  key: Uint8Array,
  lifetimeSeconds: number,
): Promise<string> {
  return sign({ sub: claims.sub, sid: claims.sid }, "agent", key, lifetimeSeconds);
}

/** Verifies an agent session token; null when invalid for any reason. */
export async function verifySessionToken(
  token: string,
  keys: VerificationKeys,
): Promise<SessionClaims | null> {
  const payload = await verify(token, "agent", keys);
  if (typeof payload?.sub !== "string" || typeof payload.sid !== "string") return null;
  return { sub: payload.sub, sid: payload.sid };
}

/** A random identifier with 128 bits of entropy, base64url-encoded. */
export function randomId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** A one-time secret token (256 bits, base64url) for password reset or set-password links. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** How one-time tokens are stored: SHA-256, hex. A fast hash suffices for 256 random bits. */
export async function hashToken(token: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
  );
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
