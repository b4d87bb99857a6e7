/**
 * The presence socket (`/api/visitor/presence/ws`): tells the site's agents which page the
 * visitor is on and brings their invitations to chat. The presence token from `welcome` is
 * kept in `localStorage` (it names the visitor across visits, without a cookie) and offered on
 * the next connection; the widget sends it with a chat start so the chat keeps the same
 * visitor. Presence is a nicety: after a few failed attempts it gives up quietly, and the chat
 * works without it.
 */
import { toWsBase } from "../client/http.ts";
import { reconnectingSocket } from "../client/reconnecting-socket.ts";
import { BEARER_PREFIX, SUBPROTOCOL } from "../protocol/limits.ts";
import type { PresenceClientFrame, PresenceServerFrame } from "../protocol/visitor-frames.ts";
import { readStore, writeStore } from "./session.ts";

/** An agent's invitation, as the server sends it. */
export type Invitation = Extract<PresenceServerFrame, { type: "invitation" }>;
/** The page the visitor is on: the `page` frame's fields. */
export type PageView = Omit<Extract<PresenceClientFrame, { type: "page" }>, "type">;

export interface PresenceOptions {
  base: string;
  /** The page to report (undefined: a page the server would refuse, e.g. `file:`). */
  page: PageView | undefined;
  onInvitation(invitation: Invitation): void;
  /** The invitation was answered in another tab, or it lapsed. */
  onWithdrawn(invitationId: string): void;
}

export interface Presence {
  /** The newest presence token, for the chat start. */
  token(): string | undefined;
  /** A single-page site changed its route: report the new page (and after reconnections). */
  pageChanged(page: PageView): void;
  /** Tells the server the visitor accepted or declined `invitationId`. */
  answer(invitationId: string, accept: boolean): void;
}

const KEY = "parley.presence";

/** Retries (backed off) of a failed socket before presence is given up for the page. */
const MAX_FAILURES = 4;

/** Opens the presence socket and keeps it open while the page is. */
export function connectPresence(opts: PresenceOptions): Presence {
  let token = readStore(true, KEY);
  let page = opts.page;
  // The socket reads this array at every (re)connection: a reconnect offers the newest token.
  const protocols = [SUBPROTOCOL];
  if (token) protocols[1] = BEARER_PREFIX + token;

  const send = (frame: PresenceClientFrame) => socket.send(frame);
  const socket = reconnectingSocket({
    url: `${toWsBase(opts.base)}/api/visitor/presence/ws`,
    protocols,
    maxFailures: MAX_FAILURES,
    onOpen: () => {},
    onFrame: (raw) => {
      const frame = raw as PresenceServerFrame;
      if (frame.type === "welcome") {
        token = frame.token;
        protocols[1] = BEARER_PREFIX + token;
        writeStore(true, KEY, token);
        // After each welcome: a reconnection is a new connection the server knows no page of.
        if (page) send({ type: "page", ...page });
      } else if (frame.type === "invitation") {
        opts.onInvitation(frame);
      } else if (frame.type === "invitation_withdrawn") {
        opts.onWithdrawn(frame.invitationId);
      }
    },
  });
  return {
    token: () => token,
    pageChanged: (next) => {
      page = next;
      send({ type: "page", ...next });
    },
    answer: (invitationId, accept) =>
      send({ type: accept ? "invitation.accept" : "invitation.decline", invitationId }),
  };
}
