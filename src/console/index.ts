/**
 * Agent console entry: opens a one-time password link (`#reset=`) when given one; otherwise
 * checks the session, then shows the sign-in form, the change-password form (expired
 * password: nothing else is allowed), the two-factor enrolment (required and not set up:
 * likewise), or connects the workspace (presence socket, offers, queue, chat panels,
 * password, two-factor and sessions dialogs) with the navigation to the other screens.
 */
import type { SocketState } from "../client/reconnecting-socket.ts";
import type {
  AgentStatus,
  DispatcherServerFrame,
  HandoffOutcome,
  VisitorSummary,
} from "../protocol/dispatcher-frames.ts";
import type { AgentProfile, AgentSessionResponse } from "../protocol/http.ts";
import { fetchMe, logout } from "./api.ts";
import { announceOffer, bindShortcuts, soundToggle } from "./attention.ts";
import { type Chats, createChats } from "./chats.ts";
import { connectDispatcher, type Dispatcher } from "./dispatcher.ts";
import { showNotice, showView, ui } from "./elements.ts";
import { bindLogin, showLogin } from "./login.ts";
import { hideMfaEnrollment, openMfaDialog, showMfaEnrollment } from "./mfa.ts";
import { startNav, stopNav } from "./nav.tsx";
import { createOffers, renderQueue } from "./offers.ts";
import { hideExpiredPassword, openPasswordDialog, showExpiredPassword } from "./password.ts";
import { showReset, takeResetToken } from "./reset.ts";
import { bindSessions } from "./sessions.ts";

/** Delay before checking the session again after the server closed the presence socket. */
const RECHECK_MS = 3000;

const CONNECTION_TEXT: Record<SocketState, string> = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

let dispatcher: Dispatcher | null = null;
let chats: Chats | null = null;
/** What offers and the queue told us about visitors, for the chat panel headers. */
const visitors = new Map<string, VisitorSummary>();

const offers = createOffers({
  accept: (chatId) => dispatcher?.send({ type: "accept", chatId }),
  refuse: (chatId) => dispatcher?.send({ type: "refuse", chatId }),
  acceptInvitation: (chatId) => dispatcher?.send({ type: "accept_invitation", chatId }),
  declineInvitation: (chatId) => dispatcher?.send({ type: "decline_invitation", chatId }),
});

/** What became of a transfer or invitation this agent started, in words. */
const HANDOFF_TEXT: Record<HandoffOutcome, string> = {
  pending: "is waiting for an answer",
  accepted: "was accepted",
  refused: "was refused",
  declined: "was declined",
  expired: "expired without an answer",
  ended: "ended with the chat",
};

function onFrame(frame: DispatcherServerFrame): void {
  switch (frame.type) {
    case "status":
      ui.status.value = frame.status;
      ui.capacity.textContent = `${frame.activeChats}/${frame.capacity} chats`;
      return;
    case "queue":
      for (const chat of frame.chats) visitors.set(chat.chatId, chat.visitor);
      renderQueue(frame.chats);
      return;
    case "offer":
      visitors.set(frame.chatId, frame.visitor);
      offers.add(
        frame.chatId,
        frame.visitor,
        frame.expiresAt,
        frame.transfer && { kind: "transfer", from: frame.transfer.from },
      );
      announceOffer();
      return;
    case "invitation":
      visitors.set(frame.chatId, frame.visitor);
      offers.add(frame.chatId, frame.visitor, frame.expiresAt, {
        kind: "invitation",
        from: frame.from,
      });
      announceOffer();
      return;
    case "offer_withdrawn":
    case "invitation_withdrawn":
      offers.remove(frame.chatId);
      return;
    case "transfer_result":
      showNotice(`Your transfer ${HANDOFF_TEXT[frame.outcome]}.`, "info");
      return;
    case "invitation_result":
      showNotice(`Your invitation ${HANDOFF_TEXT[frame.outcome]}.`, "info");
      return;
    case "assigned":
      showNotice("");
      offers.remove(frame.chatId);
      chats?.open(frame.chatId, visitors.get(frame.chatId));
      return;
    case "error":
      offers.enable();
      showNotice(frame.message);
      return;
  }
}

const SESSION_ENDED = "Your session has ended. Please sign in again.";

/**
 * Goes where a signed-in agent belongs: the workspace, or first the password change, then
 * the two-factor enrolment, when those are due.
 */
function start(session: AgentSessionResponse): void {
  showNotice("");
  if (session.passwordExpired) {
    showExpiredPassword(
      () => start({ ...session, passwordExpired: false }),
      () => leave(SESSION_ENDED),
    );
  } else if (session.mfaEnrollmentRequired) {
    showMfaEnrollment(
      () => start({ ...session, mfaEnrollmentRequired: false }),
      () => leave(SESSION_ENDED),
    );
  } else {
    enter(session.agent);
  }
}

/** Shows the workspace for `agent` and connects it. */
function enter(agent: AgentProfile): void {
  showNotice("");
  hideExpiredPassword();
  hideMfaEnrollment();
  showView(ui.workspace);
  ui.agentName.textContent = agent.name;
  chats = createChats(agent);
  connect();
  startNav(agent);
}

function connect(): void {
  dispatcher = connectDispatcher({
    status: () => (ui.status.value === "away" ? "away" : "online"),
    onFrame,
    onState: (state) => {
      ui.connection.textContent = CONNECTION_TEXT[state];
    },
    onClosed: () => {
      // The server closed presence for good: find out whether the session is still valid.
      dispatcher = null;
      setTimeout(() => void recheck(), RECHECK_MS);
    },
  });
}

async function recheck(): Promise<void> {
  const me = await fetchMe().catch(() => undefined);
  if (me === null) leave(SESSION_ENDED);
  else if (me?.passwordExpired || me?.mfaEnrollmentRequired) {
    // An administrator required a new password, or two-factor authentication (for the
    // agent's department, say): only the password form or the enrolment is allowed now.
    disconnect();
    start(me);
  } else if (!dispatcher && chats) connect();
}

/** Disconnects everything and returns to the sign-in form. */
function leave(message = ""): void {
  disconnect();
  hideExpiredPassword();
  hideMfaEnrollment();
  showLogin(message);
}

/** Closes the sockets, the dialogs and the panels, and forgets what they showed. */
function disconnect(): void {
  stopNav();
  for (const dialog of [ui.passwordDialog, ui.mfaDialog, ui.sessionsDialog]) {
    if (dialog.open) dialog.close();
  }
  dispatcher?.close();
  dispatcher = null;
  chats?.closeAll();
  chats = null;
  offers.clear();
  renderQueue([]);
  visitors.clear();
  ui.capacity.textContent = "";
  ui.connection.textContent = "";
}

ui.status.addEventListener("change", () => {
  const status: AgentStatus = ui.status.value === "away" ? "away" : "online";
  dispatcher?.send({ type: "status", status });
});
for (const button of [ui.logout, ui.passwordViewLogout, ui.mfaViewLogout]) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    await logout();
    button.disabled = false;
    leave();
  });
}
const sessions = bindSessions(() => leave(SESSION_ENDED));
ui.openSessions.addEventListener("click", () => sessions.open());
ui.openPassword.addEventListener("click", () => openPasswordDialog(() => leave(SESSION_ENDED)));
ui.openMfa.addEventListener("click", () => openMfaDialog(() => leave(SESSION_ENDED)));
bindLogin(start);
bindShortcuts();
ui.offers.before(soundToggle());

// A one-time password link (`#reset=<token>`) comes first, whatever session there may be:
// setting the password ends every session of the agent anyway.
const resetToken = takeResetToken();
if (resetToken !== null) {
  showReset(resetToken, {
    onDone: () => {
      showNotice("Your password is set. Sign in with it.", "info");
      showLogin();
    },
    onSignIn: () => showLogin(),
  });
} else {
  fetchMe().then(
    (me) => (me ? start(me) : showLogin()),
    (err: unknown) => {
      ui.loading.hidden = true;
      showNotice(err instanceof Error ? err.message : "Could not reach the server.");
      showLogin();
    },
  );
}
