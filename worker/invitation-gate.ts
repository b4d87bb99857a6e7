/**
 * What the presence socket brings to chat start: the visitor's id from their presence token,
 * and the agent who invited them. An invitation counts once and only for the visitor it was
 * sent to (the presence token proves who that is); one that does not hold — unknown, expired,
 * used, or without a valid token — never fails the chat: it starts like any other, and the
 * audit log records `visitor.invitation_invalid`.
 */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import { getVisitors, type InvitingAgent } from "../durable-objects/visitors.ts";
import { verifyPresenceToken } from "../src/security/tokens.ts";
import type { AppEnv } from "./app-env.ts";
import { clientInfo } from "./client-info.ts";

/** The visitor id a presence token names; null when there is none or it is invalid. */
export function presenceVisitorId(
  c: Context<AppEnv>,
  token: string | undefined,
): Promise<string | null> {
  if (!token) return Promise.resolve(null);
  return verifyPresenceToken(token, c.var.config.verificationKeys);
}

/** The country Cloudflare located the connection in (`request.cf`); null when unknown. */
export function connectionCountry(c: Context<AppEnv>): string | null {
  const cf = c.req.raw.cf as { country?: unknown } | undefined;
  const country = cf?.country;
  return typeof country === "string" && /^[A-Z0-9]{2}$/.test(country) ? country : null;
}

/**
 * Uses up the visitor's invitation: the inviting agent, or null when there is none to use
 * (then the chat is routed as usual).
 */
export async function acceptedInvitation(
  c: Context<AppEnv>,
  invitationId: string | undefined,
  presenceVisitor: string | null,
): Promise<InvitingAgent | null> {
  if (invitationId === undefined) return null;
  const inviting = presenceVisitor
    ? await getVisitors(c.env).consumeInvitation(invitationId, presenceVisitor)
    : null;
  const reason = presenceVisitor ? "not_found" : "presence_token_invalid";
  await appendAudit(c.env, {
    actorType: "visitor",
    actorId: presenceVisitor,
    action: inviting ? "visitor.invitation_accepted" : "visitor.invitation_invalid",
    target: invitationId,
    outcome: inviting ? "success" : "failure",
    ...clientInfo(c),
    details: inviting ? { agentId: inviting.agentId } : { reason },
    at: Date.now(),
  });
  return inviting;
}
