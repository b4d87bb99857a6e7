/**
 * The invitation card above the launcher: an agent's invitation from the presence socket, or
 * the campaign's auto-invitation. "Chat now" opens the chat, "No thanks" dismisses it; an
 * agent's invitation also disappears when it lapses or is answered in another tab. It never
 * takes the focus (the visitor did not ask for it): it is announced, and the next Tab stop.
 */
import { h } from "../client/dom.ts";
import type { Invitation } from "./presence.ts";
import { t } from "./strings.ts";

/**
 * What the card shows: an agent's invitation as the server sent it, or an auto-invitation
 * (a message only: no id, agent or expiry).
 */
export type InviteContent = Pick<Invitation, "message"> &
  Partial<Pick<Invitation, "invitationId" | "agent" | "expiresAt">>;

export interface InviteCard {
  /** The card; `hidden` while no invitation is on screen. */
  el: HTMLElement;
  show(invite: InviteContent): void;
  /** Hides the card; with an id, only if it shows that invitation. */
  hide(invitationId?: string): void;
}

/**
 * Builds the (hidden) card. `answer` hears the visitor's choice; `say` puts text in the
 * widget's live region (a region that was `display: none` is not reliably announced itself).
 */
export function inviteCard(
  answer: (invite: InviteContent, accept: boolean) => void,
  say: (text: string) => void,
): InviteCard {
  let current: InviteContent | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const message = h("p");
  const agent = h("p", { class: "note" });
  const button = (testId: string, text: string, accept: boolean) => {
    const b = h("button", { type: "button", "data-testid": testId }, text);
    b.addEventListener("click", () => {
      const invite = current;
      card.hide();
      if (invite) answer(invite, accept);
    });
    return b;
  };
  const card: InviteCard = {
    el: h(
      "section",
      {
        class: "invite",
        "aria-label": t.invitation,
        hidden: true,
        "data-testid": "parley-invitation",
      },
      agent,
      message,
      h(
        "div",
        { class: "links" },
        button("parley-invitation-accept", t.accept, true),
        button("parley-invitation-decline", t.decline, false),
      ),
    ),
    show(invite) {
      current = invite;
      agent.textContent = invite.agent?.name ?? "";
      agent.hidden = !invite.agent;
      message.textContent = invite.message;
      card.el.hidden = false;
      say(`${t.invitation}: ${invite.message}`);
      clearTimeout(timer);
      if (invite.expiresAt) timer = setTimeout(card.hide, invite.expiresAt - Date.now());
    },
    hide(invitationId) {
      if (invitationId && current?.invitationId !== invitationId) return;
      clearTimeout(timer);
      current = undefined;
      card.el.hidden = true;
    },
  };
  return card;
}
