/**
 * Renders a chat's messages into a list element: confirmed events in seq order, then the
 * messages still waiting for the server. Shared by the widget and the console; every piece of
 * chat text goes in through `textContent` (via `h`), never as HTML.
 */
import type { ChatEvent, EventSender } from "../protocol/chat-frames.ts";
import { clock, h } from "./dom.ts";

export interface TranscriptOptions {
  /** The list element (give it `role="log"`). */
  list: HTMLElement;
  /** `data-testid` of each message element. */
  testId: string;
  /** Whether a sender is the local user (their messages are styled as "own"). */
  isOwn(from: EventSender): boolean;
  /** The author line of a message ("You", the agent's name, …). */
  author(from: EventSender, own: boolean): string;
  /**
   * The line shown for a non-message event (joined, ended, …); null hides it. Secure-form
   * events the function leaves at null show their own text (the server's masked summary).
   */
  notice(event: ChatEvent): string | null;
  /** The state shown on our own messages: until stored (default "sending…"), then once stored. */
  sending?: string;
  delivered?: string;
}

export interface Transcript {
  /** Shows a message of ours that the server has not stored yet. */
  addPending(clientId: string, text: string, from: EventSender): void;
  /** Shows a stored event; replaces the pending copy of our own message. */
  addEvent(event: ChatEvent): void;
  /** Removes every message. */
  clear(): void;
}

/** A secure-form request or submission: a neutral notice, never the values (invariant 2). */
const isSecureForm = (event: ChatEvent) => event.kind.startsWith("secure_form.");

/**
 * Creates a transcript rendering into `opts.list`. Each entry is a row (`.msg`, for layout)
 * holding an author line and the `data-testid` element, whose text is exactly the message.
 */
export function createTranscript(opts: TranscriptOptions): Transcript {
  const pending = new Map<string, HTMLElement>();

  const row = (role: string, text: string, meta?: string) => {
    const body = h("div", { class: "text", "data-testid": opts.testId, "data-role": role }, text);
    return h("div", { class: `msg msg-${role}` }, meta && h("span", { class: "meta" }, meta), body);
  };

  const message = (from: EventSender, text: string, meta: string) => {
    const own = opts.isOwn(from);
    const el = row(from.role, text, `${opts.author(from, own)} · ${meta}`);
    if (own) el.classList.add("own");
    return el;
  };

  const place = (el: HTMLElement, before: HTMLElement | null) => {
    opts.list.insertBefore(el, before);
    opts.list.scrollTop = opts.list.scrollHeight;
  };

  return {
    addPending(clientId, text, from) {
      const el = message(from, text, opts.sending ?? "sending…");
      el.lastElementChild?.setAttribute("data-state", "sending");
      el.classList.add("pending");
      el.setAttribute("aria-busy", "true");
      place(el, null);
      pending.set(clientId, el);
    },
    addEvent(event) {
      const from = event.from ?? { role: "system", id: null, name: null };
      const mine = event.clientId ? pending.get(event.clientId) : undefined;
      if (mine && event.clientId) pending.delete(event.clientId);
      let el: HTMLElement;
      // Whispers reach agents only (the server never sends one to a visitor): marked internal.
      if (event.kind === "message" || event.kind === "whisper") {
        // The stored text wins over what we typed: the server may have masked a card number.
        const own = opts.delivered && opts.isOwn(from);
        el = message(from, event.text ?? "", clock(event.at) + (own ? ` · ${opts.delivered}` : ""));
        if (own) el.lastElementChild?.setAttribute("data-state", "delivered");
        if (event.kind === "whisper") el.classList.add("internal");
      } else {
        const text = opts.notice(event) ?? (isSecureForm(event) ? (event.text ?? null) : null);
        if (text === null) return;
        el = row("system", text);
        el.lastElementChild?.setAttribute("data-kind", event.kind);
      }
      el.lastElementChild?.setAttribute("data-seq", String(event.seq));
      // Confirmed events go above the pending ones, which stay at the bottom in send order.
      const firstPending = pending.values().next().value ?? null;
      mine?.remove();
      place(el, firstPending);
    },
    clear() {
      pending.clear();
      opts.list.replaceChildren();
    },
  };
}
