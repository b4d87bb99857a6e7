/**
 * Password change: the only thing an agent with an expired password may do (every other route
 * answers 403 `password_expired`), and a voluntary action from the workspace. The checks here
 * are a courtesy; the server's policy, history and minimum age are authoritative.
 */
import { h, uid } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";
import { changePassword } from "./api.ts";
import { showView, ui } from "./elements.ts";
import {
  clearOnClose,
  errorLine,
  messageOf,
  passwordField,
  sessionEnded,
  showDone,
} from "./form.ts";

/**
 * The console's own length hint: the default PASSWORD_MIN_LENGTH. A deployment may ask for
 * more (the server then says so); it cannot sensibly ask for less under PCI DSS 8.3.6.
 */
const MIN_LENGTH = 12;

export interface PasswordFormOptions {
  /** The server accepted the new password (other sessions are already signed out). */
  onChanged(): void;
  /** The session ended meanwhile (revoked, timed out, account locked). */
  onSessionEnded(): void;
  /** Shows a Cancel button that calls this. */
  onCancel?: () => void;
}

/** Creates the change-password form (`password-form`). */
export function passwordForm(opts: PasswordFormOptions): HTMLFormElement {
  const fields = [
    passwordField("Current password", "current-password", "password-current"),
    passwordField("New password", "new-password", "password-new"),
    passwordField("Repeat the new password", "new-password", "password-repeat"),
  ] as const;
  const current = fields[0].input;
  const next = fields[1].input;
  const repeat = fields[2].input;
  const hint = h(
    "p",
    { id: uid("password-hint"), class: "details" },
    `At least ${MIN_LENGTH} characters. A few unrelated words make a good one; avoid your name, your email and common passwords.`,
  );
  next.setAttribute("aria-describedby", hint.id);
  const error = errorLine("password-error");
  const submit = h(
    "button",
    { type: "submit", "data-testid": "password-submit" },
    "Change password",
  );
  const cancel =
    opts.onCancel &&
    h("button", { type: "button", class: "secondary", "data-testid": "password-cancel" }, "Cancel");
  const form = h(
    "form",
    { class: "password-form", "data-testid": "password-form", novalidate: true },
    fields[0].label,
    current,
    fields[1].label,
    next,
    hint,
    fields[2].label,
    repeat,
    error.el,
    h("div", { class: "actions" }, submit, cancel),
  );

  const showError = error.show;

  const check = (): [string, HTMLInputElement] | null => {
    if (!current.value) return ["Enter your current password.", current];
    if ([...next.value].length < MIN_LENGTH)
      return [`The new password must be at least ${MIN_LENGTH} characters long.`, next];
    if (next.value !== repeat.value) return ["The two new passwords do not match.", repeat];
    if (next.value === current.value)
      return ["The new password must differ from the current one.", next];
    return null;
  };

  cancel?.addEventListener("click", () => opts.onCancel?.());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = check();
    if (problem) return showError(...problem);
    showError("");
    submit.disabled = true;
    try {
      await changePassword({ currentPassword: current.value, newPassword: next.value });
    } catch (err) {
      submit.disabled = false;
      if (sessionEnded(err)) return opts.onSessionEnded();
      const code = err instanceof ApiError ? err.code : "";
      // The server's messages are written for people (the policy one lists every broken rule).
      const message = messageOf(err, "The password was not changed.");
      if (code === "invalid_credentials") {
        current.value = "";
        return showError(message, current);
      }
      return showError(message, code === "password_too_recent" ? undefined : next);
    }
    for (const input of [current, next, repeat]) input.value = "";
    opts.onChanged();
  });
  return form;
}

/** Shows only the change-password form (expired password); `onDone` runs after the change. */
export function showExpiredPassword(onDone: () => void, onSessionEnded: () => void): void {
  showView(ui.passwordView);
  const form = passwordForm({
    onChanged: () => {
      hideExpiredPassword();
      onDone();
    },
    onSessionEnded: () => {
      hideExpiredPassword();
      onSessionEnded();
    },
  });
  ui.passwordViewBody.replaceChildren(form);
  form.querySelector("input")?.focus();
}

/** Hides the expired-password view and drops its form (and anything typed in it). */
export function hideExpiredPassword(): void {
  ui.passwordView.hidden = true;
  ui.passwordViewBody.replaceChildren();
}

/** Opens the voluntary change-password dialog from the workspace. */
export function openPasswordDialog(onSessionEnded: () => void): void {
  const dialog = ui.passwordDialog;
  const close = () => dialog.close();
  const form = passwordForm({
    onChanged: () =>
      showDone(
        ui.passwordDialogBody,
        "Password changed. Your other sessions were signed out.",
        "password-changed",
        close,
      ),
    onSessionEnded: () => {
      close();
      onSessionEnded();
    },
    onCancel: close,
  });
  ui.passwordDialogBody.replaceChildren(form);
  dialog.showModal();
  form.querySelector("input")?.focus();
}

clearOnClose(ui.passwordDialog, ui.passwordDialogBody);
