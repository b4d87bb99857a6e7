/**
 * JWTs for agent sessions and visitor chats (jose, HS256 only). Verification pins the
 * algorithm, issuer and audience and requires `exp`, so `alg: none`, a token for the other
 * audience or an expired token never passes.
 */
import { errors, jwtVerify, SignJWT } from "jose";

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

async function sign(
  claims: Record<string, string>,
  audience: string,
  key: Uint8Array,
  lifetimeSeconds: number,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
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
  key: Uint8Array,
): Promise<Record<string, unknown> | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
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
  key: Uint8Array,
): Promise<VisitorClaims | null> {
  const payload = await verify(token, "visitor", key);
  if (typeof payload?.sub !== "string" || typeof payload.chat !== "string") return null;
  return { sub: payload.sub, chat: payload.chat };
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
  key: Uint8Array,
): Promise<SessionClaims | null> {
  const payload = await verify(token, "agent", key);
  if (typeof payload?.sub !== "string" || typeof payload.sid !== "string") return null;
  return { sub: payload.sub, sid: payload.sid };
}

/** A random identifier with 128 bits of entropy, base64url-encoded. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
