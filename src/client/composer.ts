/** The message composer of a chat view, shared by the widget and the console. */
import type { EventSender } from "../protocol/chat-frames.ts";
import { maskCardNumbersStandard } from "../security/card-masking.ts";
import type { ChatConnection } from "./chat-connection.ts";
import type { Transcript } from "./transcript.ts";

export interface ComposerOptions {
  form: HTMLFormElement;
  input: HTMLTextAreaElement;
  end: HTMLButtonElement;
  conn: ChatConnection;
  transcript: Transcript;
  /** How the user's own pending messages are labelled until the server's copy arrives. */
  me: EventSender;
  showError: (message: string) => void;
  /** True once the chat is over: nothing more is sent. */
  isOver: () => boolean;
  /** The error when "End chat" finds no connection (default: English). */
  notConnected?: string;
  /** Console only: what the text is sent as (a whisper while "internal note" is ticked). */
  kind?: () => "message" | "whisper";
}

/** Wires send (button or Enter, card numbers masked), typing notices and the end button. */
export function bindComposer(opts: ComposerOptions): void {
  const { form, input, conn } = opts;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // Card numbers are masked before they leave the page (defence in depth: the server masks
    // every text again and stays authoritative), so the clear number is never even sent.
    const text = maskCardNumbersStandard(input.value.trim()).text;
    if (!text || opts.isOver()) return;
    opts.showError("");
    opts.transcript.addPending(conn.send(text, opts.kind?.()), text, opts.me);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (e) => {
    // Enter sends, Shift+Enter adds a line; never while an IME composition is in progress.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", () => conn.typing());
  opts.end.addEventListener("click", () => {
    if (!conn.end()) opts.showError(opts.notConnected ?? "Not connected. Try again in a moment.");
  });
}
