/**
 * Visitor identity verification: the customer's backend signs `{sub, name?, email?, exp}`
 * with IDENTITY_SECRET (an HS256 JWT), the widget passes it with the pre-chat form, and
 * agents see the visitor as verified. Verification pins HS256 (so `alg: none` or an
 * asymmetric algorithm never passes) and requires `exp` and `sub`; `nbf` is honoured.
 * Name and email are validated and card-masked like typed pre-chat fields.
 */
import { errors, jwtVerify } from "jose";
import { z } from "zod";
import { MAX_IDENTITY_CHARS } from "../protocol/http.ts";
import { type MaskingMode, maskedText } from "../protocol/masked-text.ts";
import { hmacSha256, toHex } from "./hmac.ts";

const ALGORITHMS = ["HS256"];

/** A verified visitor identity (name and email already card-masked). */
export interface VisitorIdentity {
  /** The customer's own id for this person. */
  sub: string;
  name: string | null;
  email: string | null;
}

/** Why an identity was refused. */
export type IdentityFailure =
  /** Past its `exp` (or before its `nbf`): the site should sign a fresh one. */
  | "expired"
  /** Anything else: malformed, wrong key, wrong algorithm, missing or bad claims. */
  | "invalid";

export type IdentityResult =
  | { ok: true; identity: VisitorIdentity }
  | { ok: false; reason: IdentityFailure };

const claimsFor = (mode: MaskingMode) =>
  z.object({
    sub: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    // An empty name or email is "not given"; anything else must be valid.
    name: z.union([z.literal(""), maskedText(z.string().trim().min(1).max(100), mode)]).optional(),
    email: z
      .union([z.literal(""), maskedText(z.string().trim().max(254).email(), mode)])
      .optional(),
  });
const claimSchemas = { standard: claimsFor("standard"), strict: claimsFor("strict") };

/** Options of {@link verifyVisitorIdentity}. */
export interface VerifyIdentityOptions {
  /** CARD_MASKING mode for name and email; `standard` by default. */
  mode?: MaskingMode;
  /** Current time in ms since the epoch (tests). Defaults to `Date.now()`. */
  now?: number;
}

/** Verifies a site-signed identity JWT with `secret`; never throws for bad input. */
export async function verifyVisitorIdentity(
  jwt: string,
  secret: Uint8Array,
  options: VerifyIdentityOptions = {},
): Promise<IdentityResult> {
  if (typeof jwt !== "string" || jwt.length === 0 || jwt.length > MAX_IDENTITY_CHARS) {
    return { ok: false, reason: "invalid" };
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jwt, secret, {
      algorithms: ALGORITHMS,
      requiredClaims: ["exp", "sub"],
      ...(options.now === undefined ? {} : { currentDate: new Date(options.now) }),
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    // `nbf` in the future: the site's clock is ahead, or the token is not valid yet.
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf") {
      return { ok: false, reason: "expired" };
    }
    if (error instanceof errors.JOSEError || error instanceof TypeError) {
      return { ok: false, reason: "invalid" };
    }
    throw error;
  }
  const claims = claimSchemas[options.mode ?? "standard"].safeParse(payload);
  if (!claims.success) return { ok: false, reason: "invalid" };
  const { sub, name, email } = claims.data;
  return { ok: true, identity: { sub, name: name || null, email: email || null } };
}

/**
 * The visitor id of a verified identity: the same person gets the same id in every chat, so
 * a ban by visitor id holds for them across chats and devices. Keyed with the identity
 * secret, so the id reveals nothing about `sub` to whoever sees it (UUID v8 layout).
 */
export async function identityVisitorId(sub: string, secret: Uint8Array): Promise<string> {
  const bytes = (await hmacSha256(secret, `parley-visitor:${sub}`)).slice(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8 (custom)
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
