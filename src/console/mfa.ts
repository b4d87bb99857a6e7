/**
 * Two-factor authentication (TOTP, RFC 6238): enrolment — the only thing an agent may do when
 * MFA is required of them and not yet set up (every other route answers 403
 * `mfa_enrollment_required`) — and the voluntary "Two-factor authentication" dialog of the
 * workspace, which sets it up or turns it off.
 *
 * Enrolment shows the secret for typing into an authenticator app, and the `otpauth://` link
 * for apps that open links. There is no QR code yet: drawing one needs a QR encoder, which
 * this console would have to vendor (a third-party script or image service is out of the
 * question under its CSP, and would see the secret). A small vendored encoder rendering to an
 * SVG can come later.
 */
import { h } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";
import { confirmMfa, disableMfa, type MfaSetupResponse, startMfaSetup } from "./api.ts";
import { showView, ui } from "./elements.ts";
import {
  clearOnClose,
  codeField,
  errorLine,
  messageOf,
  passwordField,
  sessionEnded,
  showDone,
} from "./form.ts";
import { needsReauth, reauthForm } from "./reauth.ts";

export interface MfaSetupOptions {
  /** MFA is on and the agent said they saved the recovery codes. */
  onDone(): void;
  /** The session ended meanwhile (revoked, timed out). */
  onSessionEnded(): void;
  /** The server says MFA is already on (409 `mfa_already_enabled`). */
  onAlreadyEnabled(): void;
  /** Shows a Cancel button that calls this. */
  onCancel?: () => void;
}

/** The six digits an app shows, with the space some apps put in the middle. */
const TOTP_CODE = /^\d{3}\s?\d{3}$/;

/** "ABCD EFGH …": the secret in groups of four, as apps and people read it. */
export function groupSecret(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(" ");
}

function cancelButton(onCancel: (() => void) | undefined): HTMLButtonElement | undefined {
  if (!onCancel) return undefined;
  const button = h("button", { type: "button", class: "secondary" }, "Cancel");
  button.addEventListener("click", onCancel);
  return button;
}

/**
 * Creates the enrolment section (`mfa-setup`): asks the server for a secret, shows it with a
 * code input, and after confirmation shows the recovery codes once.
 */
export function mfaSetup(opts: MfaSetupOptions): HTMLElement {
  const section = h("section", { class: "mfa-setup", "data-testid": "mfa-setup" });
  void begin(section, opts);
  return section;
}

async function begin(section: HTMLElement, opts: MfaSetupOptions): Promise<void> {
  section.replaceChildren(h("p", { class: "details", role: "status" }, "Preparing…"));
  let setup: MfaSetupResponse;
  try {
    setup = await startMfaSetup();
  } catch (err) {
    if (sessionEnded(err)) return opts.onSessionEnded();
    if (err instanceof ApiError && err.code === "mfa_already_enabled") {
      return opts.onAlreadyEnabled();
    }
    if (needsReauth(err)) {
      // The sign-in is too old for a security-critical action: prove it again, then retry.
      const form = reauthForm({
        onDone: () => void begin(section, opts),
        onSessionEnded: opts.onSessionEnded,
        onCancel: opts.onCancel,
      });
      section.replaceChildren(form);
      form.querySelector("input")?.focus();
      return;
    }
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => void begin(section, opts));
    const error = errorLine("mfa-setup-error");
    error.show(messageOf(err, "Two-factor authentication could not be set up."));
    section.replaceChildren(
      error.el,
      h("div", { class: "actions" }, retry, cancelButton(opts.onCancel)),
    );
    return;
  }
  section.replaceChildren(...secretStep(section, setup, opts));
  section.querySelector("input")?.focus();
}

/** Step one: the secret (and link) for the app, and the code that proves it was added. */
function secretStep(section: HTMLElement, setup: MfaSetupResponse, opts: MfaSetupOptions) {
  // The URI comes from our server, but a link is only ever made for the otpauth: scheme.
  const uri = setup.uri.startsWith("otpauth://")
    ? h("a", { href: setup.uri, class: "mfa-uri", "data-testid": "mfa-uri" }, setup.uri)
    : h("code", { class: "mfa-uri", "data-testid": "mfa-uri" }, setup.uri);
  const code = codeField("Code shown by the app", "mfa-confirm-code", false);
  const error = errorLine("mfa-confirm-error");
  const submit = h("button", { type: "submit", "data-testid": "mfa-confirm" }, "Turn on");
  const form = h(
    "form",
    { class: "password-form", novalidate: true },
    code.label,
    code.input,
    error.el,
    h("div", { class: "actions" }, submit, cancelButton(opts.onCancel)),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = code.input.value.trim();
    if (!TOTP_CODE.test(value)) {
      return error.show("Enter the 6-digit code your app shows.", code.input);
    }
    error.show("");
    submit.disabled = true;
    let recoveryCodes: string[];
    try {
      recoveryCodes = await confirmMfa(value);
    } catch (err) {
      submit.disabled = false;
      if (sessionEnded(err)) return opts.onSessionEnded();
      code.input.value = "";
      return error.show(messageOf(err, "Two-factor authentication was not turned on."), code.input);
    }
    section.replaceChildren(...recoveryStep(recoveryCodes, opts));
    section.querySelector<HTMLElement>("h3")?.focus();
  });
  return [
    h(
      "p",
      null,
      "1. In your authenticator app, add an account and enter this key (time-based, 6 digits):",
    ),
    h("code", { class: "mfa-secret", "data-testid": "mfa-secret" }, groupSecret(setup.secret)),
    h("p", { class: "details" }, "On a device with the app, you can open this link instead:"),
    uri,
    h("p", null, "2. Enter the code the app now shows, to check it was added correctly."),
    form,
  ];
}

/** Step two: the recovery codes, shown this once. */
function recoveryStep(codes: readonly string[], opts: MfaSetupOptions) {
  const list = h(
    "ul",
    { class: "recovery-codes", "data-testid": "mfa-recovery-codes" },
    ...codes.map((code) => h("li", null, code)),
  );
  const status = h("p", { class: "details", role: "status" });
  let copy: HTMLButtonElement | undefined;
  if (navigator.clipboard) {
    const button = h("button", { type: "button", class: "secondary" }, "Copy");
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(codes.join("\n")).then(
        () => {
          status.textContent = "Copied.";
        },
        () => {
          status.textContent = "Could not copy: select the codes and copy them by hand.";
        },
      );
    });
    copy = button;
  }
  const done = h("button", { type: "button", "data-testid": "mfa-done" }, "I have saved them");
  done.addEventListener("click", () => {
    list.replaceChildren();
    opts.onDone();
  });
  return [
    h("h3", { tabindex: -1 }, "Two-factor authentication is on"),
    h(
      "p",
      { class: "recovery-warning" },
      "Save these codes now; each works once. If you lose your phone, sign in with one of them instead of a code from the app. They will not be shown again.",
    ),
    list,
    status,
    h("div", { class: "actions" }, copy, done),
  ];
}

/** Shows only the enrolment (MFA required, not set up); `onDone` runs once it is on. */
export function showMfaEnrollment(onDone: () => void, onSessionEnded: () => void): void {
  showView(ui.mfaView);
  const finish = (then: () => void) => () => {
    hideMfaEnrollment();
    then();
  };
  ui.mfaViewBody.replaceChildren(
    mfaSetup({
      onDone: finish(onDone),
      onSessionEnded: finish(onSessionEnded),
      // Set up meanwhile (another tab): nothing left to do here.
      onAlreadyEnabled: finish(onDone),
    }),
  );
}

/** Hides the enrolment view and drops its content (secret, codes). */
export function hideMfaEnrollment(): void {
  ui.mfaView.hidden = true;
  ui.mfaViewBody.replaceChildren();
}

interface DisableOptions {
  onDisabled(): void;
  onSessionEnded(): void;
  onCancel(): void;
}

/** The "turn off" form: the password and a code (or a recovery code). */
function disableForm(opts: DisableOptions): HTMLFormElement {
  const password = passwordField("Password", "current-password", "mfa-disable-password");
  const code = codeField("Code from your app, or a recovery code", "mfa-disable-code", true);
  const error = errorLine("mfa-disable-error");
  const submit = h(
    "button",
    { type: "submit", class: "danger", "data-testid": "mfa-disable" },
    "Turn off",
  );
  const form = h(
    "form",
    { class: "password-form", novalidate: true },
    h(
      "p",
      { class: "details" },
      "Two-factor authentication is on. To turn it off, confirm your password and a code.",
    ),
    password.label,
    password.input,
    code.label,
    code.input,
    error.el,
    h("div", { class: "actions" }, submit, cancelButton(opts.onCancel)),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!password.input.value) return error.show("Enter your password.", password.input);
    if (code.input.value.trim().length < 6) {
      return error.show("Enter a code from your app, or a recovery code.", code.input);
    }
    error.show("");
    submit.disabled = true;
    try {
      await disableMfa(password.input.value, code.input.value.trim());
    } catch (err) {
      if (sessionEnded(err)) return opts.onSessionEnded();
      if (err instanceof ApiError && err.code === "mfa_required") {
        // Required by the deployment or a department: no point in trying again.
        return error.show("Two-factor authentication is required for your account.");
      }
      submit.disabled = false;
      password.input.value = "";
      code.input.value = "";
      return error.show(
        messageOf(err, "Two-factor authentication was not turned off."),
        password.input,
      );
    }
    opts.onDisabled();
  });
  return form;
}

/**
 * Opens the workspace's two-factor dialog. The session response does not say whether MFA is
 * on, so the dialog starts the setup: `mfa_already_enabled` switches it to "turn off".
 */
export function openMfaDialog(onSessionEnded: () => void): void {
  const dialog = ui.mfaDialog;
  const body = ui.mfaDialogBody;
  const close = () => dialog.close();
  const ended = () => {
    close();
    onSessionEnded();
  };
  const showDisable = () => {
    if (!dialog.open) return; // closed while the setup request was on its way
    const form = disableForm({
      onDisabled: () => showDone(body, "Two-factor authentication is off.", "mfa-disabled", close),
      onSessionEnded: ended,
      onCancel: close,
    });
    body.replaceChildren(form);
    form.querySelector("input")?.focus();
  };
  body.replaceChildren(
    mfaSetup({
      onDone: close,
      onSessionEnded: ended,
      onAlreadyEnabled: showDisable,
      onCancel: close,
    }),
  );
  dialog.showModal();
}

clearOnClose(ui.mfaDialog, ui.mfaDialogBody);
// Escape must not throw away recovery codes the agent has not saved yet (MFA is on by then).
ui.mfaDialog.addEventListener("cancel", (e) => {
  if (ui.mfaDialogBody.querySelector("[data-testid=mfa-recovery-codes] li")) e.preventDefault();
});
