/**
 * The widget's forms: the pre-chat form (built from the campaign's field list) and the
 * offline-message form shown when no agent is available. Each calls back with trimmed values;
 * a rejected callback's message is shown.
 */
import { type Child, h } from "../client/dom.ts";
import type { PreChatForm } from "../protocol/campaigns.ts";
import { MAX_MESSAGE_CHARS } from "../protocol/limits.ts";
import { t } from "./strings.ts";

/** A labelled field; wrapping the input in its label names it without ids. */
export function field(label: string, input: HTMLElement, optional?: boolean): HTMLLabelElement {
  return h(
    "label",
    null,
    h("span", null, label, optional && h("span", { class: "hint" }, ` (${t.optional})`)),
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
const value = (el: { value: string }) => el.value.trim() || undefined;

/**
 * A form whose submit runs `action` with the button disabled and shows its error, if any.
 * `action` runs only after the browser's own validation (required, type=email) passed.
 */
export function asyncForm(
  label: string,
  children: Child[],
  action: () => Promise<void>,
): HTMLFormElement {
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
      error.textContent = err instanceof Error ? err.message : t.failed;
      error.hidden = false;
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return form;
}

/**
 * Replaces a form's view by a thank-you note and moves focus to it, so a screen reader says
 * it and keyboard users are not left on a removed button.
 */
export function thank(view: HTMLElement, testId: string, text: string): void {
  const note = h("p", { class: "note", role: "status", tabindex: -1, "data-testid": testId }, text);
  view.replaceChildren(note);
  note.focus();
}

/** What the pre-chat form collects; every part optional (the chat-start API's rule). */
export interface PrechatValues {
  name?: string | undefined;
  email?: string | undefined;
  department?: string | undefined;
  /** The campaign's custom-variable fields that were filled in. */
  variables: Record<string, string>;
}

export interface PrechatOptions {
  greeting: string;
  /** The campaign's form; `enabled: false` leaves only the greeting and the start button. */
  form: PreChatForm;
  /** Choices of a `department` field. */
  departments: readonly { id: string; name: string }[];
  /** The department chosen in advance (the tag's `data-department`). */
  department?: string | undefined;
  /** Starts the chat; `checking` shows a status line while the bot check runs. */
  start(values: PrechatValues, checking: (on: boolean) => void): Promise<void>;
}

/** The pre-chat form, one input per configured field, then "Start chat". */
export function prechatForm(opts: PrechatOptions): HTMLFormElement {
  const fields = opts.form.enabled ? opts.form.fields : [];
  const inputs = fields.map(({ key, label, required }) => {
    let el: HTMLInputElement | HTMLSelectElement;
    if (key === "department") {
      el = h(
        "select",
        { "data-testid": "parley-department", required },
        h("option", { value: "" }, "\u2014"),
        ...opts.departments.map((d) =>
          h("option", { value: d.id, selected: d.id === opts.department }, d.name),
        ),
      );
    } else if (key === "name" || key === "email") {
      el = input(`parley-${key}`, key === "email" ? "email" : "text", key, required);
    } else {
      el = input(`parley-var-${key}`, "text", "off", required);
      el.maxLength = 500;
    }
    return { key, el, label: field(label, el, !required) };
  });
  const status = h(
    "p",
    { class: "note", role: "status", hidden: true, "data-testid": "parley-checking" },
    t.checking,
  );
  return asyncForm(
    t.startForm,
    [
      h("p", { class: "note" }, opts.greeting),
      ...inputs.map((i) => i.label),
      status,
      h("button", { type: "submit", "data-testid": "parley-start" }, t.start),
    ],
    () => {
      const values: PrechatValues = { department: opts.department, variables: {} };
      for (const { key, el } of inputs) {
        const v = value(el);
        if (key === "name" || key === "email" || key === "department") {
          if (v || key !== "department") values[key] = v;
        } else if (v) values.variables[key] = v;
      }
      return opts.start(values, (on) => {
        status.hidden = !on;
      });
    },
  );
}

/** What the offline form shows above its fields. */
export interface OfflineTexts {
  title: string;
  message: string;
  /** When the department opens again (ms), if it is closed for the day. */
  opensAt?: number | null | undefined;
}

/**
 * The offline form: nobody is available, so leave a message and an email for the reply.
 * `send` resolves once the message is stored; the form then turns into a thank-you note.
 */
export function offlineForm(
  texts: OfflineTexts,
  visitor: { name?: string | undefined; email?: string | undefined },
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
  const opens = texts.opensAt ? new Date(texts.opensAt).toLocaleString() : "";
  const view = h("div", { class: "view" });
  const form = asyncForm(
    texts.title,
    [
      h("p", { class: "note" }, texts.message),
      opens && h("p", { class: "note", "data-testid": "parley-opens-at" }, t.opensAt(opens)),
      field(t.name, name, true),
      field(t.email, email),
      field(t.message, message),
      h("button", { type: "submit", "data-testid": "parley-offline-send" }, t.sendMessage),
    ],
    async () => {
      await send({ name: value(name), email: email.value.trim(), message: message.value.trim() });
      thank(view, "parley-offline-thanks", t.thanks);
    },
  );
  view.append(form);
  return view;
}
