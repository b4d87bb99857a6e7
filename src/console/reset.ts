/**
 * The one-time password link an administrator hands out (`npm run admin -- reset-password`):
 * `/console/#reset=<token>`. The token is taken out of the address bar at once, so it neither
 * stays in the history nor gets copied along with the URL, and the agent chooses a new
 * password. The checks here are a courtesy; the server's policy and history are authoritative.
 */
import { h, uid } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";
import { resetPassword } from "./api.ts";
import { showView, ui } from "./elements.ts";
import { errorLine, messageOf, passwordField } from "./form.ts";

/** The console's length hint, as in the change-password form (the server may ask for more). */
const MIN_LENGTH = 12;
const PREFIX = "#reset=";
/** What a token can look like (the server issues 43 base64url characters). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,128}$/;
const INVALID = "This link is invalid, used or expired.";

/**
 * The reset token from the address bar, or null without one; the fragment is removed from
 * the address bar (and the current history entry) either way.
 */
export function takeResetToken(): string | null {
  if (!location.hash.startsWith(PREFIX)) return null;
  const token = location.hash.slice(PREFIX.length);
  history.replaceState(null, "", location.pathname + location.search);
  return token;
}

export interface ResetOptions {
  /** The new password is set (every session of the agent has ended). */
  onDone(): void;
  /** The agent left for the sign-in form (the link was unusable). */
  onSignIn(): void;
}

/** Shows the "choose a new password" view (`reset-form`) for `token`. */
export function showReset(token: string, opts: ResetOptions): void {
  showView(ui.resetView);
  const next = passwordField("New password", "new-password", "reset-new");
  const repeat = passwordField("Repeat the new password", "new-password", "reset-repeat");
  const hint = h(
    "p",
    { id: uid("reset-hint"), class: "details" },
    `At least ${MIN_LENGTH} characters. A few unrelated words make a good one; avoid your name, your email and common passwords.`,
  );
  next.input.setAttribute("aria-describedby", hint.id);
  const error = errorLine("reset-error");
  const submit = h("button", { type: "submit", "data-testid": "reset-submit" }, "Set password");
  const form = h(
    "form",
    { class: "password-form", "data-testid": "reset-form", novalidate: true },
    next.label,
    next.input,
    hint,
    repeat.label,
    repeat.input,
    error.el,
    h("div", { class: "actions" }, submit),
  );

  /** The link cannot be used: only the reason and the way to the sign-in form remain. */
  const unusable = (message: string) => {
    const signIn = h("button", { type: "button", "data-testid": "reset-sign-in" }, "Go to sign in");
    signIn.addEventListener("click", () => {
      hideReset();
      opts.onSignIn();
    });
    ui.resetViewBody.replaceChildren(error.el, h("div", { class: "actions" }, signIn));
    error.show(message);
    signIn.focus();
  };

  const check = (): [string, HTMLInputElement] | null => {
    if (!next.input.value) return ["Enter a new password.", next.input];
    if (!repeat.input.value) return ["Repeat the new password.", repeat.input];
    if (next.input.value !== repeat.input.value)
      return ["The two passwords do not match.", repeat.input];
    if ([...next.input.value].length < MIN_LENGTH)
      return [`The new password must be at least ${MIN_LENGTH} characters long.`, next.input];
    return null;
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = check();
    if (problem) return error.show(...problem);
    error.show("");
    submit.disabled = true;
    try {
      await resetPassword(token, next.input.value);
    } catch (err) {
      submit.disabled = false;
      const code = err instanceof ApiError ? err.code : "";
      if (code === "invalid_token") return unusable(messageOf(err, INVALID));
      // The server's messages are written for people (the policy one lists every broken rule).
      return error.show(messageOf(err, "The password was not set."), next.input);
    }
    hideReset();
    opts.onDone();
  });

  if (!TOKEN_SHAPE.test(token)) {
    unusable(INVALID);
    return;
  }
  ui.resetViewBody.replaceChildren(form);
  next.input.focus();
}

/** Hides the view and drops its form (and anything typed in it). */
function hideReset(): void {
  ui.resetView.hidden = true;
  ui.resetViewBody.replaceChildren();
}
