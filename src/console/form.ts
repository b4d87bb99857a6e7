/**
 * Pieces shared by the console's forms and dialogs (password change, two-factor
 * authentication): labelled inputs, an error line, the "session is gone" test, a "done"
 * view, and dialogs that forget what was typed in them when they close.
 */
import { type Attrs, h, uid } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";

/**
 * Error codes meaning the session itself is gone (not a problem with the form). A lock (too
 * many wrong passwords or codes) ends every session of the agent.
 */
const SESSION_ENDED = new Set(["unauthenticated", "session_expired", "account_locked"]);

/** True when `err` says the session ended (revoked, timed out, account locked). */
export function sessionEnded(err: unknown): boolean {
  return err instanceof ApiError && SESSION_ENDED.has(err.code);
}

/** The message to show for a failed request. */
export function messageOf(err: unknown, fallback: string): string {
  return err instanceof Error ? err.message : fallback;
}

/** A required input with its label; `attrs` add to (or override) the defaults. */
export function field(text: string, testId: string, attrs: Attrs) {
  const input = h("input", { id: uid(testId), required: true, "data-testid": testId, ...attrs });
  return { input, label: h("label", { for: input.id }, text) };
}

/** A labelled password input. */
export function passwordField(text: string, autocomplete: string, testId: string) {
  return field(text, testId, { type: "password", autocomplete, maxlength: 1024 });
}

/** A labelled input for a TOTP code, or also a recovery code when `recovery` is set. */
export function codeField(text: string, testId: string, recovery: boolean) {
  return field(text, testId, {
    type: "text",
    autocomplete: "one-time-code",
    // Recovery codes have letters: only a TOTP-only field gets the numeric keypad.
    inputmode: recovery ? undefined : "numeric",
    maxlength: recovery ? 40 : 7,
    spellcheck: "false",
    autocapitalize: "off",
  });
}

/** An error line (`role="alert"`, hidden while empty) and the function that sets it. */
export function errorLine(testId: string) {
  const el = h("p", { class: "error", role: "alert", "data-testid": testId });
  el.hidden = true;
  const show = (message: string, focus?: HTMLInputElement) => {
    el.textContent = message;
    el.hidden = !message;
    focus?.focus();
  };
  return { el, show };
}

/** Replaces `body` with a status message and a Close button (a dialog's change went through). */
export function showDone(body: HTMLElement, message: string, testId: string, close: () => void) {
  const done = h("button", { type: "button" }, "Close");
  done.addEventListener("click", close);
  body.replaceChildren(
    h("p", { role: "status", "data-testid": testId }, message),
    h("div", { class: "actions" }, done),
  );
  done.focus();
}

/** Empties `body` whenever `dialog` closes (Cancel, Close, Escape): nothing typed stays. */
export function clearOnClose(dialog: HTMLDialogElement, body: HTMLElement): void {
  dialog.addEventListener("close", () => body.replaceChildren());
}
