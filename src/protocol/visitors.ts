/** HTTP payloads of live visitor monitoring and proactive invitations (`visitors.invite`). */
import { z } from "zod";
import { maskedText, perMode } from "./masked-text.ts";

/** Most visitors one list returns (the most recently active first). */
export const MAX_LISTED_VISITORS = 500;
/** Longest invitation message. */
export const MAX_INVITATION_CHARS = 200;
/** The message of an invitation sent without one. */
export const DEFAULT_INVITATION_MESSAGE = "Hello! Can we help you with anything?";

/** One visitor on the site now. Times are milliseconds since the epoch (UTC). */
export interface LiveVisitor {
  visitorId: string;
  /** The page the visitor reported last (card-masked); null before the first page view. */
  pageUrl: string | null;
  pageTitle: string | null;
  /** The first referrer reported in this visit (where the visitor came from). */
  referrer: string | null;
  /** ISO 3166-1 alpha-2 country of the connection (`request.cf`); null when unknown. */
  country: string | null;
  /** When this visit began. */
  onSiteSince: number;
  /** When the last page view was reported; null before the first. */
  lastPageAt: number | null;
  /** Visits so far, this one included (a visit ends after 30 minutes away). */
  visits: number;
  /** From the second visit on. */
  returning: boolean;
  /** The visitor has a queued or active chat. */
  chatting: boolean;
}

/** `GET /api/visitors` response body. */
export interface LiveVisitorsResponse {
  /** At most MAX_LISTED_VISITORS, most recently active first. */
  visitors: LiveVisitor[];
  /** How many visitors are on the site (may exceed the list's length). */
  total: number;
}

/** `POST /api/visitors/:visitorId/invitations`, per masking mode. */
export const createInvitationRequestFor = perMode((mode) =>
  z
    .object({
      /** What the visitor sees; DEFAULT_INVITATION_MESSAGE when absent. */
      message: maskedText(
        z
          .string()
          .trim()
          .min(1)
          .max(MAX_INVITATION_CHARS)
          .regex(/^[^\p{Cc}]*$/u, "no control characters"),
        mode,
      ).optional(),
    })
    .strict(),
);

/** `POST /api/visitors/:visitorId/invitations` (201) response body. */
export interface InvitationResponse {
  invitationId: string;
  /** Milliseconds since the epoch; the invitation lapses then unless the visitor accepts. */
  expiresAt: number;
}
