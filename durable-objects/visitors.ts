/**
 * Visitors — one per deployment: who is on the site now (the widget's presence sockets),
 * the page each visitor is on, and the proactive invitations agents send them.
 *
 * Uses the Hibernation API (`ctx.acceptWebSocket`, tag = visitor id): a site's visitors keep
 * a socket open for as long as a page is open and send a frame per page view, so the object
 * is idle nearly all the time and a thousand hibernated sockets cost nothing. Everything per
 * visitor lives in SQLite (visitors-state.ts) or in the socket's attachment (≤ 2 KB), never
 * in memory, so waking from hibernation loads nothing.
 *
 * A page load closes the socket and the next page opens a new one: a visitor whose last
 * socket closed stays listed for DEPARTURE_GRACE_MS, so the visit (and a pending invitation)
 * carries over to the next page. Only then is the departure written to D1.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { parseConfig } from "../src/config.ts";
import { SUBPROTOCOL } from "../src/protocol/limits.ts";
import type { MaskingMode } from "../src/protocol/masked-text.ts";
import { parseFrame, safeJson } from "../src/protocol/parse-frame.ts";
import {
  type InvitationEnd,
  MAX_PRESENCE_FRAME_CHARS,
  type PresenceServerFrame,
  presenceClientFrameFor,
} from "../src/protocol/visitor-frames.ts";
import { recordDepartures, recordVisit } from "../src/store/visitor-profiles.ts";
import type { Env } from "../worker/env.ts";
import { appendAudit } from "./audit-log.ts";
import { DueItems } from "./due-items.ts";
import { PARTICIPANT_HEADER } from "./participant.ts";
import { type InvitationRecord, type VisitorRecord, VisitorsState } from "./visitors-state.ts";

/** How long a visitor whose last socket closed stays on the list (a page load in between). */
export const DEPARTURE_GRACE_MS = 30_000;
/** How long an invitation waits for the visitor's answer. */
export const INVITATION_TTL_MS = 2 * 60_000;
/** How long an accepted invitation stays usable: time to fill in the pre-chat form. */
export const ACCEPTED_INVITATION_MS = 10 * 60_000;
/** Visitors one object tracks; beyond, new visitors are turned away until some leave. */
export const MAX_VISITORS = 10_000;

/** The visitor behind a presence socket, as the Worker established it. */
export const presenceIdentity = z.object({
  visitorId: z.string().uuid(),
  /** A fresh presence token for the welcome frame, signed by the Worker. */
  token: z.string().min(1).max(2048),
  country: z
    .string()
    .regex(/^[A-Z0-9]{2}$/)
    .nullable(),
  ip: z.string().max(64).nullable(),
  userAgent: z.string().max(256).nullable(),
});
export type PresenceIdentity = z.infer<typeof presenceIdentity>;

/** Serialized with each presence socket, so it survives hibernation. */
interface PresenceAttachment {
  visitorId: string;
  /** For audit rows of the visitor's answers. */
  ip: string | null;
  userAgent: string | null;
}

export type InviteResult =
  | { ok: true; invitationId: string; expiresAt: number }
  | { ok: false; error: "visitor_not_found" | "invitation_pending" };

/** The inviting agent of a consumed invitation. */
export interface InvitingAgent {
  agentId: string;
  agentName: string;
}

/** The deployment's one Visitors object. */
export function getVisitors(env: Pick<Env, "VISITORS">): DurableObjectStub<Visitors> {
  return env.VISITORS.get(env.VISITORS.idFromName("global"));
}

const attachmentOf = (ws: WebSocket) => ws.deserializeAttachment() as PresenceAttachment;

function send(ws: WebSocket, frame: PresenceServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // Closed under us: webSocketClose cleans up.
  }
}

const invitationFrame = (invitation: InvitationRecord): PresenceServerFrame => ({
  type: "invitation",
  invitationId: invitation.id,
  agent: { name: invitation.agentName },
  message: invitation.message,
  expiresAt: invitation.expiresAt,
});

export class Visitors extends DurableObject<Env> {
  readonly #state: VisitorsState;
  readonly #due: DueItems;
  readonly #mode: MaskingMode;
  /** Stored connections were checked against the open sockets since this instance started. */
  #reconciled = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#mode = parseConfig(env as unknown as Record<string, unknown>).cardMasking;
    this.#state = new VisitorsState(ctx.storage.sql);
    this.#due = new DueItems(ctx.storage);
  }

  // ── Entry points: RPC ───────────────────────────────────────────────────────

  /** Up to `limit` visitors on the site, the most recently active first, and how many in all. */
  async list(limit: number): Promise<{ visitors: VisitorRecord[]; total: number }> {
    await this.#reconcile();
    return { visitors: this.#state.list(limit), total: this.#state.count() };
  }

  /**
   * Sends an agent's invitation to the visitor's open sockets (and to the next page's, after
   * a page load). One live invitation per visitor, so two agents never invite them at once.
   */
  async invite(request: {
    visitorId: string;
    agentId: string;
    agentName: string;
    message: string;
  }): Promise<InviteResult> {
    await this.#reconcile();
    const now = Date.now();
    if (!this.#state.find(request.visitorId)) return { ok: false, error: "visitor_not_found" };
    if (this.#state.invitationsOf(request.visitorId, now).length > 0) {
      return { ok: false, error: "invitation_pending" };
    }
    const invitation: InvitationRecord = {
      id: crypto.randomUUID(),
      ...request,
      expiresAt: now + INVITATION_TTL_MS,
      accepted: false,
    };
    this.#state.addInvitation(invitation);
    await this.#due.schedule("invitations", invitation.expiresAt);
    this.#sendTo(request.visitorId, invitationFrame(invitation));
    return { ok: true, invitationId: invitation.id, expiresAt: invitation.expiresAt };
  }

  /**
   * Uses up the visitor's invitation as their chat starts: the inviting agent, or null when
   * it is unknown, another visitor's, expired or already used. Counts once.
   */
  async consumeInvitation(invitationId: string, visitorId: string): Promise<InvitingAgent | null> {
    const invitation = this.#state.invitation(invitationId, visitorId, Date.now());
    if (!invitation) return null;
    this.#state.removeInvitation(invitationId);
    this.#withdraw(invitation, "accepted");
    return { agentId: invitation.agentId, agentName: invitation.agentName };
  }

  // ── Entry points: sockets (Hibernation API) ─────────────────────────────────

  override async fetch(request: Request): Promise<Response> {
    const parsed = presenceIdentity.safeParse(safeJson(request.headers.get(PARTICIPANT_HEADER)));
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !parsed.success) {
      return Response.json(
        { error: { code: "bad_request", message: "Expected a presence socket." } },
        { status: 400 },
      );
    }
    const visitor = parsed.data;
    const now = Date.now();
    const known = this.#state.find(visitor.visitorId);
    if (!known && this.#state.count() >= MAX_VISITORS) {
      return Response.json(
        { error: { code: "busy", message: "Too many visitors right now; try again later." } },
        { status: 429, headers: { "retry-after": "60" } },
      );
    }
    // Back within the grace period (a page load, another tab): the same visit goes on.
    const visits = known?.visits ?? (await this.#startVisit(visitor.visitorId, now));
    this.#state.arrive({ visitorId: visitor.visitorId, country: visitor.country, visits, now });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [visitor.visitorId]);
    server.serializeAttachment({
      visitorId: visitor.visitorId,
      ip: visitor.ip,
      userAgent: visitor.userAgent,
    } satisfies PresenceAttachment);
    send(server, {
      type: "welcome",
      visitorId: visitor.visitorId,
      token: visitor.token,
      returning: visits > 1,
    });
    // An invitation sent during a page load shows on the next page.
    for (const invitation of this.#state.invitationsOf(visitor.visitorId, now)) {
      if (!invitation.accepted) send(server, invitationFrame(invitation));
    }
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "Sec-WebSocket-Protocol": SUBPROTOCOL },
    });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const { visitorId } = attachmentOf(ws);
    // Presence frames are small: a tighter limit than the chat socket's.
    if (typeof data === "string" && data.length > MAX_PRESENCE_FRAME_CHARS) {
      return send(ws, {
        type: "error",
        code: "frame_too_large",
        message: `Presence frames are limited to ${MAX_PRESENCE_FRAME_CHARS} characters.`,
      });
    }
    const parsed = parseFrame(presenceClientFrameFor(this.#mode), data);
    if (!parsed.ok) return send(ws, { type: "error", code: parsed.code, message: parsed.message });
    const frame = parsed.frame;
    switch (frame.type) {
      case "page":
        if (!this.#state.recordPage(visitorId, frame, Date.now())) {
          send(ws, {
            type: "error",
            code: "rate_limited",
            message: "Too many page views; this one was not recorded.",
          });
        }
        return;
      case "invitation.accept":
        return this.#onAnswer(ws, frame.invitationId, "accepted");
      case "invitation.decline":
        return this.#onAnswer(ws, frame.invitationId, "declined");
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Reciprocate the close (the runtime does not do it for hibernatable sockets).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closing");
    } catch {
      // Already closed.
    }
    await this.#onDisconnect(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.#onDisconnect(ws);
  }

  /** Forgets visitors gone longer than the grace period, and expires invitations. Idempotent. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const item of this.#due.due(now)) {
      if (item === "departures") await this.#forgetDeparted(now);
      else if (item === "invitations") await this.#expireInvitations(now);
    }
    await this.#due.rearm();
  }

  // ── Handlers ────────────────────────────────────────────────────────────────

  /** Counts the visit in D1; answers the visit count (1 when D1 cannot say). */
  async #startVisit(visitorId: string, now: number): Promise<number> {
    try {
      return await recordVisit(this.env.DB, visitorId, now);
    } catch (error) {
      console.error("[parley] visitors: recording a visit failed", error);
      return 1;
    }
  }

  /**
   * The visitor accepted (they are now filling in the pre-chat form: the invitation is held
   * for them) or declined (it is gone, and the audit log says so). Either way their other
   * tabs hide it.
   */
  async #onAnswer(ws: WebSocket, invitationId: string, answer: InvitationEnd): Promise<void> {
    const { visitorId, ip, userAgent } = attachmentOf(ws);
    const now = Date.now();
    const invitation = this.#state.invitation(invitationId, visitorId, now);
    if (!invitation) {
      return send(ws, {
        type: "error",
        code: "invitation_not_found",
        message: "This invitation was answered or has expired.",
      });
    }
    if (answer === "accepted") {
      this.#state.hold(invitationId, now + ACCEPTED_INVITATION_MS);
      return this.#withdraw(invitation, answer, ws);
    }
    this.#state.removeInvitation(invitationId);
    this.#withdraw(invitation, answer, ws);
    try {
      await appendAudit(this.env, {
        actorType: "visitor",
        actorId: visitorId,
        action: "visitor.invitation_declined",
        target: invitationId,
        outcome: "success",
        ip,
        userAgent,
        details: { agentId: invitation.agentId },
        at: now,
      });
    } catch (error) {
      console.error("[parley] visitors: auditing a declined invitation failed", error);
    }
  }

  async #onDisconnect(ws: WebSocket): Promise<void> {
    const { visitorId } = attachmentOf(ws);
    if (this.#socketsOf(visitorId, ws).length > 0) return;
    const now = Date.now();
    this.#state.depart(visitorId, now);
    await this.#due.schedule("departures", now + DEPARTURE_GRACE_MS);
  }

  async #forgetDeparted(now: number): Promise<void> {
    const gone = this.#state.forgetDeparted(now - DEPARTURE_GRACE_MS);
    try {
      await recordDepartures(this.env.DB, gone);
    } catch (error) {
      // The profile keeps the visit's start as last seen: at worst, the next visit is
      // counted a little early. Not worth keeping visitors listed who left.
      console.error("[parley] visitors: recording departures failed", error);
    }
    const next = this.#state.firstDeparture();
    if (next === null) await this.#due.cancel("departures");
    else await this.#due.reschedule("departures", next + DEPARTURE_GRACE_MS);
  }

  async #expireInvitations(now: number): Promise<void> {
    for (const invitation of this.#state.expireInvitations(now)) {
      this.#withdraw(invitation, "expired");
    }
    const next = this.#state.firstExpiry();
    if (next === null) await this.#due.cancel("invitations");
    else await this.#due.reschedule("invitations", next);
  }

  /**
   * After a restart (a deploy, an eviction) sockets are gone without close events: visitors
   * stored as connected without an open socket start their grace period now. Once per
   * instance: while it lives, close events keep the table right.
   */
  async #reconcile(): Promise<void> {
    if (this.#reconciled) return;
    this.#reconciled = true;
    const open = new Set(
      this.ctx
        .getWebSockets()
        .filter((ws) => ws.readyState === WebSocket.READY_STATE_OPEN)
        .flatMap((ws) => this.ctx.getTags(ws)),
    );
    const now = Date.now();
    const stale = this.#state.connectedIds().filter((id) => !open.has(id));
    for (const visitorId of stale) this.#state.depart(visitorId, now);
    if (stale.length > 0) await this.#due.schedule("departures", now + DEPARTURE_GRACE_MS);
  }

  /** Tells the visitor's tabs (but `except`) to hide an invitation. */
  #withdraw(invitation: InvitationRecord, reason: InvitationEnd, except?: WebSocket): void {
    const frame: PresenceServerFrame = {
      type: "invitation_withdrawn",
      invitationId: invitation.id,
      reason,
    };
    for (const ws of this.#socketsOf(invitation.visitorId, except)) send(ws, frame);
  }

  #sendTo(visitorId: string, frame: PresenceServerFrame): void {
    for (const ws of this.#socketsOf(visitorId)) send(ws, frame);
  }

  #socketsOf(visitorId: string, except?: WebSocket): WebSocket[] {
    return this.ctx
      .getWebSockets(visitorId)
      .filter((ws) => ws !== except && ws.readyState === WebSocket.READY_STATE_OPEN);
  }
}
