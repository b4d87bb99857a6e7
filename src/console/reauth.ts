/**
 * "Confirm it's you": the form shown when a security-critical action answers 403
 * `reauth_required` (the session's sign-in is more than a few minutes old). It sends the
 * password to `POST /api/auth/reauth`, and a code as well once the server asks for one
 * (`mfa_required`, agents enrolled in two-factor authentication); then the caller repeats
 * the action.
 */
import { h } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";
import { reauthenticate } from "./api.ts";
import { codeField, errorLine, messageOf, passwordField, sessionEnded } from "./form.ts";

export interface ReauthOptions {
  /** The proof is renewed: repeat the action. */
  onDone(): void;
  /** The session ended meanwhile (revoked, timed out, account locked). */
  onSessionEnded(): void;
  /** Shows a Cancel button that calls this. */
  onCancel?: () => void;
}

/** True when `err` asks for {@link reauthForm} before the action is repeated. */
export function needsReauth(err: unknown): boolean {
  return err instanceof ApiError && err.code === "reauth_required";
}

/** Creates the form (`reauth-form`); focus its first input once it is in the page. */
export function reauthForm(opts: ReauthOptions): HTMLFormElement {
  const password = passwordField("Password", "current-password", "reauth-password");
  const code = codeField("Code from your app, or a recovery code", "reauth-code", true);
  // Asked for only when the server wants it (enrolled agents).
  const showCode = (on: boolean) => {
    code.label.hidden = !on;
    code.input.hidden = !on;
  };
  showCode(false);
  const error = errorLine("reauth-error");
  const submit = h("button", { type: "submit", "data-testid": "reauth-submit" }, "Continue");
  const cancel = opts.onCancel && h("button", { type: "button", class: "secondary" }, "Cancel");
  cancel?.addEventListener("click", () => opts.onCancel?.());
  const form = h(
    "form",
    { class: "password-form", "data-testid": "reauth-form", novalidate: true },
    h("p", { class: "details" }, "For your security, confirm it's you to continue."),
    password.label,
    password.input,
    code.label,
    code.input,
    error.el,
    h("div", { class: "actions" }, submit, cancel),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const totp = code.input.value.trim();
    if (!password.input.value) return error.show("Enter your password.", password.input);
    if (!code.input.hidden && totp.length < 6) {
      return error.show("Enter a code from your app, or a recovery code.", code.input);
    }
    error.show("");
    submit.disabled = true;
    try {
      await reauthenticate(password.input.value, code.input.hidden ? undefined : totp);
    } catch (err) {
      submit.disabled = false;
      if (sessionEnded(err)) return opts.onSessionEnded();
      const reason = err instanceof ApiError ? err.code : "";
      if (reason === "mfa_required") {
        // The password was right; it stays in its field for the attempt with the code.
        showCode(true);
        return error.show("", code.input);
      }
      code.input.value = "";
      if (reason === "invalid_mfa_code") {
        return error.show(messageOf(err, "That code is not valid."), code.input);
      }
      password.input.value = "";
      return error.show(messageOf(err, "That did not work. Please try again."), password.input);
    }
    password.input.value = "";
    code.input.value = "";
    opts.onDone();
  });
  return form;
}
