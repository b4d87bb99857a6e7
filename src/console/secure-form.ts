/**
 * The secure form in a console chat panel (DESIGN invariant 2): a "Request card details"
 * button, one line per form with its state, and for a submitted form a View button. Viewing
 * needs a recent sign-in (else the re-authentication dialog opens, then the view is retried);
 * the values show in a marked box until they expire, the chat ends, the agent hides them or
 * the panel closes. Values go into that box as text and nowhere else: never the transcript,
 * storage or the console output.
 */
import type { SecureFormFrame, SecureFormValues } from "../client/chat-connection.ts";
import { h, uid } from "../client/dom.ts";
import type { ChatEvent, ErrorCode } from "../protocol/chat-frames.ts";
import type { Permission } from "../security/permissions.ts";
import type { SecureFormField } from "../security/secure-form.ts";
import { reauthForm } from "./reauth.ts";

export interface SecureFormsOptions {
  /** The agent's effective permissions: they decide which buttons show. */
  permissions: readonly Permission[];
  /** Sends a frame on the chat socket; false when not connected. */
  send(frame: SecureFormFrame): boolean;
  /** Shows a message in the panel's error line. */
  showError(message: string): void;
}

export interface SecureForms {
  /** "Request card details", or null without the permission. */
  request: HTMLButtonElement | null;
  /** The forms' lines and the values box. */
  el: HTMLElement;
  /** Follows the chat's `secure_form.*` events (others are ignored). */
  onEvent(event: ChatEvent): void;
  onValues(frame: SecureFormValues): void;
  /** Takes the error that answers a view or a request; false when it is not one of those. */
  onError(code: ErrorCode, message: string): boolean;
  /** Hides the values and closes the re-authentication dialog (the panel closes or disconnects). */
  hide(): void;
  /** The chat ended: its values are wiped on the server, so nothing more can be viewed. */
  end(): void;
}

/** What "Request card details" asks for. */
const CARD_FIELDS: SecureFormField[] = [
  { name: "card_number", kind: "card_number", label: "Card number" },
  { name: "expiry", kind: "expiry", label: "Expiry date" },
  { name: "security_code", kind: "security_code", label: "Security code" },
  { name: "cardholder_name", kind: "cardholder_name", label: "Name on card" },
];

/** Errors that can answer `secure_form.view`. */
const VIEW_ERRORS = new Set<ErrorCode>([
  "reauth_required",
  "gone",
  "forbidden",
  "not_found",
  "unavailable",
]);

const GONE =
  "These values are gone: the chat ended, the time limit passed, or the server restarted. Ask the visitor again if needed.";
const NOT_CONNECTED = "Not connected. Try again in a moment.";

/** One form of the chat, as the panel lists it. */
interface FormLine {
  fields: SecureFormField[];
  item: HTMLLIElement;
  text: HTMLElement;
  status: HTMLElement;
  view: HTMLButtonElement | null;
}

/** `m:ss` until `at`. */
function remaining(at: number): string {
  const s = Math.max(0, Math.ceil((at - Date.now()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Creates the secure-form controls of one chat panel. */
export function secureForms(opts: SecureFormsOptions): SecureForms {
  const lines = new Map<string, FormLine>();
  const list = h("ul", { class: "secure-forms", "data-testid": "secure-forms" });
  const el = h("div", { class: "secure-area" }, list);
  const canView = opts.permissions.includes("secure_form.view");
  let pendingView: string | null = null;
  let pendingRequest = false;
  let over = false;
  /** The values box on show, and what removes it. */
  let shown: { requestId: string; remove: () => void } | null = null;
  let reauthDialog: HTMLDialogElement | null = null;

  const request = opts.permissions.includes("secure_form.request")
    ? h(
        "button",
        { type: "button", class: "secondary", "data-testid": "request-card" },
        "Request card details",
      )
    : null;
  if (request) {
    request.addEventListener("click", () => {
      opts.showError("");
      if (!opts.send({ type: "secure_form.request", fields: CARD_FIELDS })) {
        return opts.showError(NOT_CONNECTED);
      }
      // Until the request comes back as an event (or an error): one click, one form.
      pendingRequest = true;
      request.disabled = true;
    });
  }

  const setStatus = (line: FormLine, message: string) => {
    line.status.textContent = message;
    line.status.hidden = !message;
  };

  const hideValues = () => {
    shown?.remove();
    shown = null;
  };
  const hide = () => {
    hideValues();
    reauthDialog?.close();
  };

  const view = (requestId: string) => {
    const line = lines.get(requestId);
    if (!line?.view || pendingView || over) return;
    setStatus(line, "");
    if (!opts.send({ type: "secure_form.view", requestId })) return setStatus(line, NOT_CONNECTED);
    pendingView = requestId;
    line.view.disabled = true;
  };

  /** The sign-in is too old to view card data: prove it again, then view. */
  const confirmIdentity = (retry: () => void) => {
    const titleId = uid("reauth-title");
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId, "data-testid": "reauth-dialog" },
      h("h2", { id: titleId }, "Confirm it's you to view card details"),
    );
    const form = reauthForm({
      onDone: () => {
        dialog.close();
        retry();
      },
      onSessionEnded: () => {
        dialog.close();
        // The server closes this chat's socket too; the console then returns to sign-in.
        opts.showError("Your session has ended. Please sign in again.");
      },
      onCancel: () => dialog.close(),
    });
    dialog.append(form);
    // Nothing typed stays in the page once the dialog is gone.
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (reauthDialog === dialog) reauthDialog = null;
    });
    reauthDialog?.close();
    reauthDialog = dialog;
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector("input")?.focus();
  };

  const showValues = (frame: SecureFormValues, line: FormLine) => {
    hideValues();
    const titleId = uid("secure-values-title");
    const countdown = h("p", {
      class: "countdown",
      role: "timer",
      "data-testid": "secure-form-countdown",
    });
    const close = h("button", { type: "button", class: "secondary" }, "Hide");
    const rows = line.fields.map((field) => [
      h("dt", null, field.label),
      h("dd", { "data-testid": "secure-form-value" }, frame.values[field.name] ?? ""),
    ]);
    const box = h(
      "section",
      {
        class: "secure-values",
        "aria-labelledby": titleId,
        tabindex: -1,
        "data-testid": "secure-form-values",
      },
      h("h3", { id: titleId }, "Card details \u2014 confidential, do not copy"),
      h("dl", null, ...rows.flat()),
      h("div", { class: "actions" }, countdown, close),
    );
    const tick = () => {
      if (Date.now() < frame.expiresAt) {
        countdown.textContent = `Hidden in ${remaining(frame.expiresAt)}`;
        return;
      }
      hideValues();
      // The server wiped them at the same moment: a view now could only answer `gone`.
      if (line.view) line.view.disabled = true;
      setStatus(line, GONE);
    };
    const timer = setInterval(tick, 1000);
    shown = {
      requestId: frame.requestId,
      remove: () => {
        clearInterval(timer);
        box.replaceChildren();
        box.remove();
      },
    };
    close.addEventListener("click", () => {
      hideValues();
      line.view?.focus();
    });
    tick();
    if (shown) {
      el.append(box);
      box.focus();
    }
  };

  return {
    request,
    el,
    onEvent(event) {
      const requestId = event.form?.requestId;
      if (!requestId) return;
      if (event.kind === "secure_form.requested") {
        pendingRequest = false;
        if (request) request.disabled = over;
        const text = h("span", null, "Card details requested: waiting for the visitor\u2026");
        const status = h("p", { class: "details", role: "status", hidden: true });
        const item = h("li", { "data-testid": "secure-form-item" }, text, status);
        item.dataset.requestId = requestId;
        lines.set(requestId, {
          fields: event.form?.fields ?? [],
          item,
          text,
          status,
          view: null,
        });
        list.append(item);
      } else if (event.kind === "secure_form.submitted") {
        const line = lines.get(requestId);
        if (!line) return;
        line.text.textContent = event.text ?? "Secure form submitted";
        if (canView && !over && !line.view) {
          line.view = h("button", { type: "button", "data-testid": "secure-form-view" }, "View");
          line.view.addEventListener("click", () => view(requestId));
          line.item.insertBefore(line.view, line.status);
        }
      }
    },
    onValues(frame) {
      const line = lines.get(frame.requestId);
      if (pendingView === frame.requestId) pendingView = null;
      if (!line || over) return;
      if (line.view) line.view.disabled = false;
      showValues(frame, line);
    },
    onError(code, message) {
      if (pendingView && VIEW_ERRORS.has(code)) {
        const requestId = pendingView;
        pendingView = null;
        const line = lines.get(requestId);
        if (!line?.view) return true;
        line.view.disabled = code === "gone";
        if (code === "reauth_required") confirmIdentity(() => view(requestId));
        else setStatus(line, code === "gone" ? GONE : message);
        return true;
      }
      if (pendingRequest && request) {
        // The request was refused (no permission, bad frame…): the panel shows why.
        pendingRequest = false;
        request.disabled = over;
      }
      return false;
    },
    hide,
    end() {
      over = true;
      hide();
      if (request) request.disabled = true;
      for (const line of lines.values()) {
        if (!line.view) continue;
        line.view.disabled = true;
        setStatus(line, "The values were deleted when the chat ended.");
      }
    },
  };
}
