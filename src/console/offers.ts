/**
 * The sidebar: chats offered to this agent (with Accept / Refuse and a countdown) and the
 * list of visitors waiting in the agent's departments.
 */
import { clock, h } from "../client/dom.ts";
import type { AgentRef, QueuedChat, VisitorSummary } from "../protocol/dispatcher-frames.ts";
import { ui } from "./elements.ts";

export interface OfferActions {
  accept(chatId: string): void;
  refuse(chatId: string): void;
  acceptInvitation(chatId: string): void;
  declineInvitation(chatId: string): void;
}

/** Who hands the chat over (a transfer) or asks me in (an invitation); absent: a new chat. */
export interface OfferSource {
  kind: "transfer" | "invitation";
  from: AgentRef;
}

export interface Offers {
  /** Shows (or refreshes) an offer or invitation card. */
  add(chatId: string, visitor: VisitorSummary, expiresAt: number, source?: OfferSource): void;
  /** Removes an offer card (withdrawn, taken, assigned). */
  remove(chatId: string): void;
  /** Re-enables the buttons after a failed accept/refuse. */
  enable(): void;
  /** Removes every card. */
  clear(): void;
}

/** "Ada Lovelace <ada@example.com>", or a neutral label for an anonymous visitor. */
export function visitorLabel(visitor: VisitorSummary | undefined): string {
  if (!visitor) return "Visitor";
  const name = visitor.name ?? "Anonymous visitor";
  return visitor.email ? `${name} <${visitor.email}>` : name;
}

/**
 * A "Verified" badge when the site vouched for the visitor (identity JWT): name and email
 * then come from the site, not from what the visitor typed. Null for anonymous visitors.
 */
export function verifiedBadge(visitor: VisitorSummary | undefined): HTMLElement | null {
  if (visitor?.verified !== true) return null;
  return h(
    "span",
    {
      class: "verified",
      "data-testid": "visitor-verified",
      title: "Identity verified by your website",
    },
    "Verified",
  );
}

/** Page URL and department, as plain text (a URL is never made a link: it is visitor data). */
function visitorDetails(visitor: VisitorSummary): string {
  return [visitor.department, visitor.pageUrl].filter(Boolean).join(" · ");
}

/** Creates the offers area over `#offers`. */
export function createOffers(actions: OfferActions): Offers {
  const cards = new Map<string, { el: HTMLElement; countdown: HTMLElement; expiresAt: number }>();
  let ticker: ReturnType<typeof setInterval> | undefined;

  const tick = () => {
    const now = Date.now();
    for (const card of cards.values()) {
      const left = Math.max(0, Math.ceil((card.expiresAt - now) / 1000));
      card.countdown.textContent = left ? `Expires in ${left} s` : "Expiring…";
    }
  };

  const sync = () => {
    ui.offersEmpty.hidden = cards.size > 0;
    if (cards.size && !ticker) ticker = setInterval(tick, 1000);
    if (!cards.size && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
    tick();
  };

  const buttons = () => ui.offers.querySelectorAll<HTMLButtonElement>("button");

  const remove = (chatId: string) => {
    cards.get(chatId)?.el.remove();
    cards.delete(chatId);
    sync();
  };

  return {
    add(chatId, visitor, expiresAt, source) {
      remove(chatId);
      const invited = source?.kind === "invitation";
      const accept = h(
        "button",
        {
          type: "button",
          "data-testid": invited ? "accept-invitation" : "accept-offer",
          "aria-keyshortcuts": invited ? undefined : "Alt+Shift+A",
        },
        "Accept",
      );
      const refuse = h(
        "button",
        {
          type: "button",
          class: "secondary",
          "data-testid": invited ? "decline-invitation" : "refuse-offer",
        },
        invited ? "Decline" : "Refuse",
      );
      const origin =
        source &&
        h(
          "p",
          { class: "details", "data-testid": "offer-source" },
          invited ? `${source.from.name} invites you to join` : `Transfer from ${source.from.name}`,
        );
      const countdown = h("p", { class: "countdown" });
      const el = h(
        "article",
        {
          class: "offer",
          "data-testid": invited ? "invitation" : "offer",
          "data-chat-id": chatId,
          "aria-label": invited ? "Invitation to a chat" : "Chat offer",
        },
        h("h3", null, visitorLabel(visitor), verifiedBadge(visitor)),
        origin,
        h("p", { class: "details" }, visitorDetails(visitor)),
        countdown,
        h("div", { class: "actions" }, accept, refuse),
      );
      const choose = (action: (id: string) => void) => () => {
        accept.disabled = true;
        refuse.disabled = true;
        action(chatId);
      };
      accept.addEventListener("click", choose(invited ? actions.acceptInvitation : actions.accept));
      refuse.addEventListener(
        "click",
        choose(invited ? actions.declineInvitation : actions.refuse),
      );
      cards.set(chatId, { el, countdown, expiresAt });
      ui.offers.append(el);
      sync();
    },
    remove,
    enable() {
      for (const b of buttons()) b.disabled = false;
    },
    clear() {
      for (const id of [...cards.keys()]) remove(id);
    },
  };
}

/** Replaces the waiting list with `chats`. */
export function renderQueue(chats: QueuedChat[]): void {
  ui.queue.replaceChildren(
    ...chats.map((chat) =>
      h(
        "li",
        { "data-chat-id": chat.chatId },
        h("strong", null, visitorLabel(chat.visitor)),
        verifiedBadge(chat.visitor),
        h(
          "span",
          { class: "details" },
          `#${chat.position} in ${chat.department} · waiting since ${clock(chat.waitingSince)}`,
        ),
      ),
    ),
  );
  ui.queueEmpty.hidden = chats.length > 0;
}
