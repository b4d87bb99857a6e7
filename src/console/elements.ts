/** Typed access to the static elements of index.html. */

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`[console] index.html lacks #${id}`);
  return el as T;
}

/** The page's fixed elements, looked up once at start. */
export const ui = {
  loading: byId<HTMLElement>("loading"),
  notice: byId<HTMLElement>("notice"),
  statusNotice: byId<HTMLElement>("status-notice"),
  agentBar: byId<HTMLElement>("agent-bar"),
  agentName: byId<HTMLElement>("agent-name"),
  status: byId<HTMLSelectElement>("agent-status"),
  capacity: byId<HTMLElement>("capacity"),
  connection: byId<HTMLElement>("connection"),
  logout: byId<HTMLButtonElement>("logout"),
  openPassword: byId<HTMLButtonElement>("open-password"),
  openSessions: byId<HTMLButtonElement>("open-sessions"),
  openMfa: byId<HTMLButtonElement>("open-mfa"),
  loginView: byId<HTMLElement>("login-view"),
  loginForm: byId<HTMLFormElement>("login-form"),
  loginCredentials: byId<HTMLFieldSetElement>("login-credentials"),
  loginEmail: byId<HTMLInputElement>("login-email"),
  loginPassword: byId<HTMLInputElement>("login-password"),
  loginError: byId<HTMLElement>("login-error"),
  loginSubmit: byId<HTMLButtonElement>("login-submit"),
  mfaStep: byId<HTMLFieldSetElement>("mfa-step"),
  mfaCode: byId<HTMLInputElement>("mfa-code"),
  mfaError: byId<HTMLElement>("mfa-error"),
  mfaSubmit: byId<HTMLButtonElement>("mfa-submit"),
  mfaBack: byId<HTMLButtonElement>("mfa-back"),
  captchaStatus: byId<HTMLElement>("captcha-status"),
  captchaText: byId<HTMLElement>("captcha-text"),
  captchaElapsed: byId<HTMLElement>("captcha-elapsed"),
  lockoutMessage: byId<HTMLElement>("lockout-message"),
  passwordView: byId<HTMLElement>("password-view"),
  passwordViewBody: byId<HTMLElement>("password-view-body"),
  passwordViewLogout: byId<HTMLButtonElement>("password-view-logout"),
  resetView: byId<HTMLElement>("reset-view"),
  resetViewBody: byId<HTMLElement>("reset-view-body"),
  mfaView: byId<HTMLElement>("mfa-view"),
  mfaViewBody: byId<HTMLElement>("mfa-view-body"),
  mfaViewLogout: byId<HTMLButtonElement>("mfa-view-logout"),
  mfaDialog: byId<HTMLDialogElement>("mfa-dialog"),
  mfaDialogBody: byId<HTMLElement>("mfa-dialog-body"),
  passwordDialog: byId<HTMLDialogElement>("password-dialog"),
  passwordDialogBody: byId<HTMLElement>("password-dialog-body"),
  sessionsDialog: byId<HTMLDialogElement>("sessions-dialog"),
  sessionsList: byId<HTMLUListElement>("sessions-list"),
  sessionsStatus: byId<HTMLElement>("sessions-status"),
  sessionsError: byId<HTMLElement>("sessions-error"),
  screenNav: byId<HTMLElement>("screen-nav"),
  screenRoot: byId<HTMLElement>("screen-root"),
  workspace: byId<HTMLElement>("workspace"),
  offers: byId<HTMLElement>("offers"),
  offersEmpty: byId<HTMLElement>("offers-empty"),
  queue: byId<HTMLOListElement>("queue"),
  queueEmpty: byId<HTMLElement>("queue-empty"),
  chats: byId<HTMLElement>("chats"),
  chatsEmpty: byId<HTMLElement>("chats-empty"),
  supervise: byId<HTMLElement>("supervise"),
};

/** What a page-level message is: a failure, or news such as a transfer's outcome. */
export type NoticeTone = "error" | "info";

/**
 * Shows a page-level message in place of any other: a failure in the alert region
 * (`role="alert"`, announced at once, in the danger colour), news in the status region
 * (`role="status"`, announced politely, neutral), so good news never looks or sounds like an
 * error. An empty message hides both.
 */
export function showNotice(message: string, tone: NoticeTone = "error"): void {
  const regions = [
    [ui.notice, "error"],
    [ui.statusNotice, "info"],
  ] as const;
  for (const [region, shows] of regions) {
    const shown = message !== "" && shows === tone;
    region.textContent = shown ? message : "";
    region.hidden = !shown;
  }
}

/**
 * Shows one of the main views (sign-in, password reset, password change, MFA
 * enrolment, workspace) and hides
 * the others and the loading line; the agent bar goes with the workspace.
 */
export function showView(view: HTMLElement): void {
  ui.loading.hidden = true;
  for (const each of [ui.loginView, ui.resetView, ui.passwordView, ui.mfaView, ui.workspace]) {
    each.hidden = each !== view;
  }
  ui.agentBar.hidden = view !== ui.workspace;
}
