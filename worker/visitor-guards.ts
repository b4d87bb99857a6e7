/**
 * The checks a visitor passes before a chat exists: the bot check (CHAT_START_CAPTCHA), the
 * site-signed identity (IDENTITY_SECRET / IDENTITY_REQUIRED) and the ban list. A ban is
 * never revealed to the visitor: the caller answers like "nobody available" (chat start) or
 * a neutral `unavailable` (socket), and only the audit row records the truth.
 */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import type { ChatCaptchaChallenge } from "../src/protocol/http.ts";
import {
  type IdentityFailure,
  identityVisitorId,
  type VisitorIdentity,
  verifyVisitorIdentity,
} from "../src/security/visitor-identity.ts";
import { type BanMatch, matchingBan } from "../src/store/bans.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";
import { captchaChallenge, verifyCaptcha } from "./captcha-gate.ts";
import { clientInfo } from "./client-info.ts";

/** The Turnstile action the widget renders with for chat start. */
const CHAT_START_ACTION = "chat_start" as const;

/**
 * With CHAT_START_CAPTCHA=always, throws 403 `captcha_required` (no solution) or
 * `captcha_invalid` (wrong, expired or replayed), each with a fresh challenge in
 * `details.captcha`. Does nothing when the setting is off.
 */
export async function assertChatCaptcha(
  c: Context<AppEnv>,
  solution: string | undefined,
): Promise<void> {
  if (!c.var.config.chatStartCaptcha) return;
  const purpose = { action: CHAT_START_ACTION, origins: c.var.config.widgetOrigins };
  if (solution && (await verifyCaptcha(c, solution, purpose))) return;
  const captcha: ChatCaptchaChallenge = await captchaChallenge(c, CHAT_START_ACTION);
  if (!solution) {
    throw new ApiError(403, "captcha_required", "Solve the CAPTCHA to start a chat.", {
      captcha,
    });
  }
  throw new ApiError(403, "captcha_invalid", "The CAPTCHA was not solved; try again.", {
    captcha,
  });
}

/** A verified visitor: the identity and the stable visitor id derived from it. */
export interface VerifiedVisitor {
  identity: VisitorIdentity;
  visitorId: string;
}

/**
 * Verifies the pre-chat form's identity JWT. No identity: null, unless IDENTITY_REQUIRED
 * (401 `identity_required`). A present identity that does not verify is never downgraded
 * to an anonymous chat: 400 `invalid_identity` (and an audit row, as it may be a forgery).
 */
export async function verifiedVisitor(
  c: Context<AppEnv>,
  jwt: string | undefined,
): Promise<VerifiedVisitor | null> {
  const { secret, required } = c.var.config.identity;
  if (jwt === undefined) {
    if (!required) return null;
    throw new ApiError(401, "identity_required", "Sign in on this website to chat with us.");
  }
  if (secret) {
    const result = await verifyVisitorIdentity(jwt, secret, { mode: c.var.config.cardMasking });
    if (result.ok) {
      const visitorId = await identityVisitorId(result.identity.sub, secret);
      return { identity: result.identity, visitorId };
    }
    return refuseIdentity(c, result.reason);
  }
  // The site sends identities but this deployment cannot check them: say so, loudly.
  return refuseIdentity(c, "not_configured");
}

async function refuseIdentity(
  c: Context<AppEnv>,
  reason: IdentityFailure | "not_configured",
): Promise<never> {
  await appendAudit(c.env, {
    actorType: "visitor",
    actorId: null,
    action: "visitor.identity",
    target: null,
    outcome: "failure",
    ...clientInfo(c),
    details: { reason },
    at: Date.now(),
  });
  throw new ApiError(
    400,
    "invalid_identity",
    reason === "expired"
      ? "Your sign-in has expired; reload the page and try again."
      : "Your sign-in could not be verified; reload the page and try again.",
    { reason },
  );
}

/** Where a ban was enforced (audit detail). */
export type BanCheckpoint = "chat_start" | "socket" | "offline_message";

/**
 * The active ban matching the caller's IP or one of `visitorIds`, after writing the
 * `visitor.banned` audit row; null when none applies. The caller answers neutrally.
 */
export async function enforceBans(
  c: Context<AppEnv>,
  where: BanCheckpoint,
  visitorIds: readonly string[],
  target: string | null = null,
): Promise<BanMatch | null> {
  const who = clientInfo(c);
  const now = Date.now();
  const ban = await matchingBan(c.env.DB, { ip: who.ip, visitorIds }, now);
  if (!ban) return null;
  await appendAudit(c.env, {
    actorType: "visitor",
    actorId: visitorIds[0] ?? null,
    action: "visitor.banned",
    target,
    outcome: "denied",
    ...who,
    details: { where, banId: ban.id, kind: ban.kind },
    at: now,
  });
  return ban;
}
