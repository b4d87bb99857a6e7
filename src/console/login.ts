/**
 * The sign-in form, with the server's login hardening handled for the agent:
 *
 * - after repeated failures the server asks for a CAPTCHA (`captcha_required`, or
 *   `details.captchaRequired` on a failed attempt); the console solves one and retries once on
 *   its own, and sends a fresh solution with every attempt while one is required (each
 *   solution is accepted once);
 * - a locked account (`account_locked`) disables the form for `retryAfterSeconds`.
 */
import { ApiError } from "../client/http.ts";
import type { AgentSessionResponse, LoginRequest } from "../protocol/http.ts";
import { login } from "./api.ts";
import { CaptchaUnsupportedError, solveLoginCaptcha } from "./captcha.ts";
import { ui } from "./elements.ts";

/** The next attempt must carry a CAPTCHA solution. */
let captchaNeeded = false;
/** The CAPTCHA provider cannot be shown by this console: login stays off while it is needed. */
let captchaUnsupported = false;
/** When the account lock runs out (ms since the epoch), or 0. */
let lockedUntil = 0;
let lockTimer: ReturnType<typeof setInterval> | undefined;
let busy = false;

function syncSubmit(): void {
  ui.loginSubmit.disabled = busy || lockedUntil > 0 || (captchaNeeded && captchaUnsupported);
}

function showError(message: string): void {
  ui.loginError.textContent = message;
  ui.loginError.hidden = !message;
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
    return err.message;
  }
  // The solver gave up (a very slow device) or something unexpected broke.
  console.warn("[console] sign-in failed:", err);
  return "The robot check did not finish. Please try again.";
}

/** Wires the form; `onSignedIn` runs after a successful login. */
export function bindLogin(onSignedIn: (session: AgentSessionResponse) => void): void {
  ui.loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy || lockedUntil > 0) return;
    busy = true;
    syncSubmit();
    showError("");
    let session: AgentSessionResponse | null = null;
    try {
      session = await signIn({
        email: ui.loginEmail.value.trim(),
        password: ui.loginPassword.value,
      });
    } catch (err) {
      if (err instanceof CaptchaUnsupportedError) captchaUnsupported = true;
      if (err instanceof ApiError && err.code === "account_locked") {
        const seconds = Number(err.details.retryAfterSeconds);
        lockOut(Number.isFinite(seconds) ? seconds : 60);
      } else {
        showError(explain(err));
      }
      ui.loginPassword.value = "";
      ui.loginPassword.focus();
    } finally {
      busy = false;
      syncSubmit();
    }
    if (session) {
      ui.loginPassword.value = "";
      onSignedIn(session);
    }
  });
}

/** Shows the sign-in form, with an optional message (e.g. "session expired"). */
export function showLogin(message = ""): void {
  ui.loading.hidden = true;
  ui.workspace.hidden = true;
  ui.agentBar.hidden = true;
  ui.passwordView.hidden = true;
  ui.loginView.hidden = false;
  showError(message);
  syncSubmit();
  ui.loginEmail.focus();
}
