/**
 * Frames spoken on the presence socket (widget ↔ Visitors object): page views and answers
 * to proactive invitations in, the welcome and invitations out. One discriminated union per
 * direction, shared by the server and the widget (which imports the types only).
 */
import { z } from "zod";
import { visitorFields } from "./http.ts";
import { maskedText, perMode } from "./masked-text.ts";

/**
 * Largest presence frame, in UTF-16 code units of the JSON text. Page views are small; this
 * fits the longest URL and referrer (2,048 each) and title (200) with room for the JSON.
 */
export const MAX_PRESENCE_FRAME_CHARS = 6 * 1024;
/** Longest page title accepted. */
export const MAX_PAGE_TITLE_CHARS = 200;
/** Page views one visitor may report per minute (all tabs together). */
export const PAGE_VIEWS_PER_MINUTE = 30;

const invitationId = z.string().uuid();

/** Frames the widget sends on the presence socket, per CARD_MASKING mode. */
export const presenceClientFrameFor = perMode((mode) => {
  const fields = visitorFields(mode);
  return z.discriminatedUnion("type", [
    /**
     * The page the visitor is on (each page load, and each route change of a single-page
     * site). A URL or title can carry a card number: both are masked like typed text.
     */
    z
      .object({
        type: z.literal("page"),
        url: fields.pageUrl,
        title: maskedText(z.string().trim().max(MAX_PAGE_TITLE_CHARS), mode).optional(),
        /** `document.referrer` when not empty; the first one of a visit is kept. */
        referrer: fields.pageUrl.optional(),
      })
      .strict(),
    /**
     * The visitor clicked the invitation: it is held for them while they fill in the
     * pre-chat form, and withdrawn from their other tabs. The chat starts with
     * `POST /api/visitor/chats {invitationId, presenceToken}`.
     */
    z.object({ type: z.literal("invitation.accept"), invitationId }).strict(),
    /** The visitor dismissed the invitation. */
    z.object({ type: z.literal("invitation.decline"), invitationId }).strict(),
  ]);
});
/** The presence frames in standard masking mode. */
export const presenceClientFrame = presenceClientFrameFor("standard");
export type PresenceClientFrame = z.infer<typeof presenceClientFrame>;

/** Why an invitation left the visitor's screen. */
export type InvitationEnd = "accepted" | "declined" | "expired";

/** Frames the Visitors object sends on the presence socket. */
export type PresenceServerFrame =
  /**
   * First frame of every connection. `token` is the presence token to keep (localStorage)
   * and offer on the next connection; `returning` is true from the second visit on.
   */
  | { type: "welcome"; visitorId: string; token: string; returning: boolean }
  /** An agent invites the visitor to chat; show it until `expiresAt` (ms since the epoch). */
  | {
      type: "invitation";
      invitationId: string;
      agent: { name: string };
      message: string;
      expiresAt: number;
    }
  /** Hide the invitation: it was answered (possibly in another tab) or it expired. */
  | { type: "invitation_withdrawn"; invitationId: string; reason: InvitationEnd }
  | { type: "error"; code: PresenceErrorCode; message: string };

/** Error codes of `error` frames on the presence socket; the socket stays open. */
export type PresenceErrorCode =
  | "bad_frame"
  | "frame_too_large"
  /** More than PAGE_VIEWS_PER_MINUTE page views; this one was not recorded. */
  | "rate_limited"
  /** No such pending invitation for this visitor (answered, expired or never sent). */
  | "invitation_not_found";
