/**
 * The widget's two forms: the pre-chat form and the offline-message form shown when no agent
 * is available. Each calls back with trimmed values; a rejected callback's message is shown.
 */
import { h } from "../client/dom.ts";
import { MAX_MESSAGE_CHARS } from "../protocol/limits.ts";

/** A labelled field; wrapping the input in its label names it without ids. */
function field(label: string, input: HTMLElement, hint?: string): HTMLLabelElement {
  return h(
    "label",
    null,
    h("span", null, label, hint && h("span", { class: "hint" }, ` (${hint})`)),
    input,
  );
}

function input(testId: string, type: string, autocomplete: string, required = false) {
  return h("input", {
    "data-testid": testId,
    type,
    autocomplete,
    required,
    maxlength: type === "email" ? 254 : 100,
  });
}

/** The trimmed value, or undefined when empty (the API treats absent and empty alike). */
const value = (el: HTMLInputElement | HTMLTextAreaElement) => el.value.trim() || undefined;

/**
 * A form whose submit runs `action` with the button disabled and shows its error, if any.
 * `action` runs only after the browser's own validation (required, type=email) passed.
 */
function asyncForm(label: string, children: Node[], action: () => Promise<void>): HTMLFormElement {
  const error = h("p", { class: "err", role: "alert", hidden: true });
  const submit = children.find((c): c is HTMLButtonElement => c instanceof HTMLButtonElement);
  const form = h("form", { "aria-label": label }, ...children);
  form.insertBefore(error, submit ?? null);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit) submit.disabled = true;
    error.hidden = true;
    try {
      await action();
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : "Something went wrong.";
      error.hidden = false;
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return form;
}

/** Who the visitor says they are; both optional. */
export interface Visitor {
  name?: string | undefined;
  email?: string | undefined;
}

/**
 * The pre-chat form: name and email (both optional), then "Start chat". `start` gets a
 * `checking` callback that shows a status line while the bot check runs.
 */
export function prechatForm(
  start: (visitor: Visitor, checking: (on: boolean) => void) => Promise<void>,
): HTMLFormElement {
  const name = input("parley-name", "text", "name");
  const email = input("parley-email", "email", "email");
  const status = h(
    "p",
    { class: "note", role: "status", hidden: true, "data-testid": "parley-checking" },
    "Checking you're not a robot\u2026",
  );
  return asyncForm(
    "Start a chat",
    [
      h("p", { class: "note" }, "Questions? We're here to help."),
      field("Name", name, "optional"),
      field("Email", email, "optional"),
      status,
      h("button", { type: "submit", "data-testid": "parley-start" }, "Start chat"),
    ],
    () =>
      start({ name: value(name), email: value(email) }, (on) => {
        status.hidden = !on;
      }),
  );
}

/**
 * The offline form: nobody is available, so leave a message and an email for the reply.
 * `send` resolves once the message is stored; the form then turns into a thank-you note.
 */
export function offlineForm(
  visitor: Visitor,
  send: (message: { name?: string | undefined; email: string; message: string }) => Promise<void>,
): HTMLElement {
  const name = input("parley-offline-name", "text", "name");
  const email = input("parley-offline-email", "email", "email", true);
  const message = h("textarea", {
    "data-testid": "parley-offline-message",
    rows: 4,
    required: true,
    maxlength: MAX_MESSAGE_CHARS,
  });
  name.value = visitor.name ?? "";
  email.value = visitor.email ?? "";
  const view = h("div", { class: "view" });
  const form = asyncForm(
    "Leave a message",
    [
      h(
        "p",
        { class: "note" },
        "Nobody is available right now. Leave a message and we'll email you.",
      ),
      field("Name", name, "optional"),
      field("Email", email),
      field("Message", message),
      h("button", { type: "submit", "data-testid": "parley-offline-send" }, "Send message"),
    ],
    async () => {
      await send({ name: value(name), email: email.value.trim(), message: message.value.trim() });
      const thanks = h(
        "p",
        { class: "note", role: "status", tabindex: -1, "data-testid": "parley-offline-thanks" },
        "Thank you! We received your message and will reply by email.",
      );
      view.replaceChildren(thanks);
      thanks.focus();
    },
  );
  view.append(form);
  return view;
}
