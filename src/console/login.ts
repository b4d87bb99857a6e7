/**
 * The sign-in form, with the server's login hardening handled for the agent:
 *
 * - after repeated failures the server asks for a CAPTCHA (`captcha_required`, or
 *   `details.captchaRequired` on a failed attempt); the console solves one and retries once on
 *   its own, and sends a fresh solution with every attempt while one is required (each
 *   solution is accepted once);
 * - a locked account (`account_locked`) disables the form for `retryAfterSeconds`;
 * - an account enrolled in two-factor authentication answers `mfa_required` after the right
 *   password: the form then asks for the code and sends email, password and code again (the
 *   password is kept in memory only, until the login succeeds or the agent goes back).
 */
import { ApiError } from "../client/http.ts";
import type { AgentSessionResponse, LoginRequest } from "../protocol/http.ts";
import { login } from "./api.ts";
import { CaptchaUnsupportedError, solveLoginCaptcha } from "./captcha.ts";
import { showView, ui } from "./elements.ts";

/** The next attempt must carry a CAPTCHA solution. */
let captchaNeeded = false;
/** The CAPTCHA provider cannot be shown by this console: login stays off while it is needed. */
let captchaUnsupported = false;
/** When the account lock runs out (ms since the epoch), or 0. */
let lockedUntil = 0;
let lockTimer: ReturnType<typeof setInterval> | undefined;
let busy = false;
/** Email and password the server accepted, waiting for the second factor; null at step one. */
let pending: { email: string; password: string } | null = null;

function syncSubmit(): void {
  const off = busy || lockedUntil > 0 || (captchaNeeded && captchaUnsupported);
  ui.loginSubmit.disabled = off;
  ui.mfaSubmit.disabled = off;
  ui.mfaBack.disabled = busy;
}

function showError(message: string): void {
  ui.loginError.textContent = message;
  ui.loginError.hidden = !message;
}

function showMfaError(message: string): void {
  ui.mfaError.textContent = message;
  ui.mfaError.hidden = !message;
}

/** Switches the form to step two (the code) or back to step one (email and password). */
function showStep(code: boolean): void {
  for (const el of [ui.loginCredentials, ui.loginSubmit]) el.hidden = code;
  for (const el of [ui.mfaStep, ui.mfaSubmit, ui.mfaBack]) el.hidden = !code;
  ui.loginCredentials.disabled = code;
  ui.mfaStep.disabled = !code;
  ui.mfaCode.value = "";
  showMfaError("");
  if (code) ui.mfaCode.focus();
}

/** Back to step one, forgetting the password kept for step two. */
function leaveCodeStep(): void {
  pending = null;
  showStep(false);
}

/** "Try again in N minutes", recomputed as the lock runs out; re-enables the form at the end. */
function tickLockout(): void {
  const left = lockedUntil - Date.now();
  if (left <= 0) {
    clearInterval(lockTimer);
    lockTimer = undefined;
    lockedUntil = 0;
    ui.lockoutMessage.hidden = true;
    syncSubmit();
    return;
  }
  const minutes = Math.ceil(left / 60_000);
  ui.lockoutMessage.textContent = `Too many failed attempts. Try again in ${minutes} ${
    minutes === 1 ? "minute" : "minutes"
  }.`;
  ui.lockoutMessage.hidden = false;
}

function lockOut(retryAfterSeconds: number): void {
  lockedUntil = Date.now() + Math.max(1, retryAfterSeconds) * 1000;
  clearInterval(lockTimer);
  lockTimer = setInterval(tickLockout, 1000);
  tickLockout();
  syncSubmit();
}

/** Logs in, solving a CAPTCHA first when one is known to be required, and once more on demand. */
async function signIn(credentials: LoginRequest): Promise<AgentSessionResponse> {
  let retried = false;
  for (;;) {
    const captcha = captchaNeeded ? await solveLoginCaptcha() : undefined;
    try {
      const session = await login(captcha ? { ...credentials, captcha } : credentials);
      captchaNeeded = false;
      return session;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const required = err.details.captchaRequired;
      if (typeof required === "boolean") captchaNeeded = required;
      // Only these two mean the password was not even checked: retrying is then harmless.
      // After `invalid_credentials` a retry would just count one more failure.
      const demand = err.code === "captcha_required" || err.code === "captcha_invalid";
      if (!demand || retried) throw err;
      captchaNeeded = true;
      retried = true;
    }
  }
}

function explain(err: unknown): string {
  if (err instanceof CaptchaUnsupportedError) return err.message;
  if (err instanceof ApiError) {
    if (err.code === "captcha_invalid") return "The robot check failed. Please try again.";
    if (err.code === "invalid_mfa_code") {
      return "That code is not valid. Enter the current code from your app, or an unused recovery code.";
    }
    return err.message;
  }
  // The solver gave up (a very slow device) or something unexpected broke.
  console.warn("[console] sign-in failed:", err);
  return "The robot check did not finish. Please try again.";
}

/** Codes after which step two stays: the password was right, only the code (or robot check) failed. */
const RETRY_CODE = new Set(["invalid_mfa_code", "captcha_required", "captcha_invalid", "network"]);

/** Wires the form; `onSignedIn` runs after a successful login. */
export function bindLogin(onSignedIn: (session: AgentSessionResponse) => void): void {
  ui.mfaBack.addEventListener("click", () => {
    leaveCodeStep();
    showError("");
    ui.loginEmail.focus();
  });
  ui.loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy || lockedUntil > 0) return;
    const credentials: LoginRequest = pending
      ? { ...pending, totp: ui.mfaCode.value.trim() }
      : { email: ui.loginEmail.value.trim(), password: ui.loginPassword.value };
    if (pending && (credentials.totp ?? "").length < 6) {
      showMfaError("Enter the 6-digit code from your authenticator app, or a recovery code.");
      ui.mfaCode.focus();
      return;
    }
    busy = true;
    syncSubmit();
    showError("");
    showMfaError("");
    let session: AgentSessionResponse | null = null;
    try {
      session = await signIn(credentials);
    } catch (err) {
      if (err instanceof CaptchaUnsupportedError) captchaUnsupported = true;
      const code = err instanceof ApiError ? err.code : "";
      if (code === "mfa_required" && !pending) {
        // The password was right: keep it (in memory only) for the attempt with the code.
        pending = { email: credentials.email, password: credentials.password };
        ui.loginPassword.value = "";
        showStep(true);
      } else if (pending && (RETRY_CODE.has(code) || !(err instanceof ApiError))) {
        showMfaError(explain(err));
        ui.mfaCode.value = "";
        ui.mfaCode.focus();
      } else {
        leaveCodeStep();
        if (code === "account_locked") {
          const seconds = Number((err as ApiError).details.retryAfterSeconds);
          lockOut(Number.isFinite(seconds) ? seconds : 60);
        } else {
          showError(explain(err));
        }
        ui.loginPassword.value = "";
        ui.loginPassword.focus();
      }
    } finally {
      busy = false;
      syncSubmit();
    }
    if (session) {
      ui.loginPassword.value = "";
      leaveCodeStep();
      onSignedIn(session);
    }
  });
}

/** Shows the sign-in form, with an optional message (e.g. "session expired"). */
export function showLogin(message = ""): void {
  showView(ui.loginView);
  leaveCodeStep();
  showError(message);
  syncSubmit();
  ui.loginEmail.focus();
}
