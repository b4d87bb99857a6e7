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
  agentBar: byId<HTMLElement>("agent-bar"),
  agentName: byId<HTMLElement>("agent-name"),
  status: byId<HTMLSelectElement>("agent-status"),
  capacity: byId<HTMLElement>("capacity"),
  connection: byId<HTMLElement>("connection"),
  logout: byId<HTMLButtonElement>("logout"),
  openPassword: byId<HTMLButtonElement>("open-password"),
  openSessions: byId<HTMLButtonElement>("open-sessions"),
  loginView: byId<HTMLElement>("login-view"),
  loginForm: byId<HTMLFormElement>("login-form"),
  loginEmail: byId<HTMLInputElement>("login-email"),
  loginPassword: byId<HTMLInputElement>("login-password"),
  loginError: byId<HTMLElement>("login-error"),
  loginSubmit: byId<HTMLButtonElement>("login-submit"),
  captchaStatus: byId<HTMLElement>("captcha-status"),
  captchaText: byId<HTMLElement>("captcha-text"),
  captchaElapsed: byId<HTMLElement>("captcha-elapsed"),
  lockoutMessage: byId<HTMLElement>("lockout-message"),
  passwordView: byId<HTMLElement>("password-view"),
  passwordViewBody: byId<HTMLElement>("password-view-body"),
  passwordViewLogout: byId<HTMLButtonElement>("password-view-logout"),
  passwordDialog: byId<HTMLDialogElement>("password-dialog"),
  passwordDialogBody: byId<HTMLElement>("password-dialog-body"),
  sessionsDialog: byId<HTMLDialogElement>("sessions-dialog"),
  sessionsList: byId<HTMLUListElement>("sessions-list"),
  sessionsStatus: byId<HTMLElement>("sessions-status"),
  sessionsError: byId<HTMLElement>("sessions-error"),
  workspace: byId<HTMLElement>("workspace"),
  offers: byId<HTMLElement>("offers"),
  offersEmpty: byId<HTMLElement>("offers-empty"),
  queue: byId<HTMLOListElement>("queue"),
  queueEmpty: byId<HTMLElement>("queue-empty"),
  chats: byId<HTMLElement>("chats"),
  chatsEmpty: byId<HTMLElement>("chats-empty"),
};

/** Shows a page-level message (role="alert"); an empty message hides it. */
export function showNotice(message: string): void {
  ui.notice.textContent = message;
  ui.notice.hidden = !message;
}
