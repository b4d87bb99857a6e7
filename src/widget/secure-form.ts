/**
 * The secure form as the visitor sees it (DESIGN invariant 2): a separate, clearly marked
 * panel outside the message stream, one input per requested field with the browser's payment
 * autofill hints, the shared validation before anything is sent, and one submission.
 *
 * Values live in the inputs only until they are sent; the inputs are emptied at once, and
 * nothing is written to storage or the console. When the server confirms the submission, the
 * panel becomes its masked summary and cannot be reopened.
 */
import type { SecureFormFrame } from "../client/chat-connection.ts";
import { h, uid } from "../client/dom.ts";
import {
  checkSecureValues,
  type SecureFieldKind,
  type SecureFormField,
} from "../security/secure-form.ts";
import { type ProblemKey, t } from "./strings.ts";

export interface SecureFormOptions {
  requestId: string;
  fields: readonly SecureFormField[];
  /** Sends the submission; false when not connected (then nothing was sent). */
  submit(frame: SecureFormFrame): boolean;
}

export interface SecureFormPanel {
  el: HTMLElement;
  /** True from a submission until the server's answer. */
  sending(): boolean;
  /** The server refused the submission: show why (per field when it says), and allow a retry. */
  refused(message: string, problems?: Record<string, string>): void;
  /**
   * Ends the form for good: shows `summary` (the masked record); without one, removes a form
   * still open and leaves a summary as it is.
   */
  close(summary?: string): void;
}

/** Autofill hint, numeric keypad, longest accepted input, placeholder; by field kind. */
const HINTS: Record<SecureFieldKind, [string, boolean, number, string?]> = {
  card_number: ["cc-number", true, 23],
  expiry: ["cc-exp", true, 7, "MM/YY"],
  security_code: ["cc-csc", true, 4],
  cardholder_name: ["cc-name", false, 200],
  text: ["off", false, 200],
};

/** What a problem (from checkSecureValues or the server) tells the visitor. */
const problemText = (problem: string) => t[`p_${problem}` as ProblemKey] ?? t.checkThis;

/** Creates the panel for one request. */
export function secureForm(opts: SecureFormOptions): SecureFormPanel {
  let state: "open" | "sending" | "closed" = "open";
  const headingId = uid("parley-sf");
  const heading = () =>
    h("h3", { id: headingId }, h("span", { "aria-hidden": "true" }, "\u{1f512} "), t.secureTitle);
  const formError = h("p", { class: "err", role: "alert", hidden: true });
  const submit = h(
    "button",
    { type: "submit", "data-testid": "parley-secure-submit" },
    t.secureSend,
  );

  const inputs = opts.fields.map((field) => {
    const [autocomplete, numeric, maxlength, placeholder] = HINTS[field.kind] ?? HINTS.text;
    const errorId = uid("parley-sf-err");
    const input = h("input", {
      type: "text",
      name: field.name,
      autocomplete,
      inputmode: numeric ? "numeric" : undefined,
      maxlength,
      placeholder,
      // Spell-check services may send what is typed to a server: never for card data.
      spellcheck: "false",
      autocapitalize: field.kind === "cardholder_name" ? "words" : "off",
      "aria-describedby": errorId,
      "data-testid": `parley-secure-${field.name}`,
    });
    if (field.kind === "expiry") {
      // Numeric keypads lack "/": "1229" becomes "12/29" as it is typed.
      input.addEventListener("input", () => {
        if (/^\d{3,4}$/.test(input.value))
          input.value = `${input.value.slice(0, 2)}/${input.value.slice(2)}`;
      });
    }
    const error = h("p", { class: "err", id: errorId, hidden: true });
    return { field, input, error };
  });

  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": headingId },
    // The error sits outside the label so it describes the input rather than naming it.
    ...inputs.map(({ field, input, error }) =>
      h("div", { class: "field" }, h("label", null, field.label, input), error),
    ),
    formError,
    submit,
  );
  const el = h(
    "section",
    { class: "secure", "aria-labelledby": headingId, "data-testid": "parley-secure-form" },
    heading(),
    h("p", { class: "note" }, t.secureNote),
    form,
  );

  const setBusy = (busy: boolean) => {
    submit.disabled = busy;
    submit.textContent = busy ? t.sending : t.secureSend;
    for (const { input } of inputs) input.disabled = busy;
  };

  /** Shows each field's problem (none clears it); true when there was any. */
  const showProblems = (problems: Record<string, string>, message = "") => {
    let first: HTMLInputElement | undefined;
    for (const { field, input, error } of inputs) {
      const problem = problems[field.name];
      error.textContent = problem ? problemText(problem) : "";
      error.hidden = !problem;
      if (problem) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (problem) first ??= input;
    }
    formError.textContent = message;
    formError.hidden = !message;
    first?.focus();
    return !!first || !!message;
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state !== "open") return;
    const values: Record<string, string> = {};
    for (const { field, input } of inputs) values[field.name] = input.value.trim();
    if (showProblems(checkSecureValues(opts.fields, values, Date.now()))) return;
    if (!opts.submit({ type: "secure_form.submit", requestId: opts.requestId, values })) {
      showProblems({}, t.notConnected);
      return;
    }
    state = "sending";
    // Sent: the page keeps no copy, whatever the answer.
    for (const { input } of inputs) input.value = "";
    setBusy(true);
  });

  return {
    el,
    sending: () => state === "sending",
    refused(message, problems = {}) {
      if (state === "closed") return;
      state = "open";
      setBusy(false);
      const known = Object.keys(problems).some((name) => inputs.some((i) => i.field.name === name));
      showProblems(problems, known ? t.secureCleared : message);
    },
    close(summary) {
      if (state === "closed" && summary === undefined) return;
      state = "closed";
      for (const { input } of inputs) input.value = "";
      if (summary === undefined) {
        el.remove();
        return;
      }
      el.classList.add("done");
      el.replaceChildren(heading(), h("p", { "data-testid": "parley-secure-summary" }, summary));
    },
  };
}
