/**
 * Agent console entry: checks the session, then either shows the sign-in form or connects the
 * workspace (presence socket, offers, queue, chat panels).
 */
import type { SocketState } from "../client/reconnecting-socket.ts";
import type {
  AgentStatus,
  DispatcherServerFrame,
  VisitorSummary,
} from "../protocol/dispatcher-frames.ts";
import type { AgentProfile } from "../protocol/http.ts";
import { fetchMe, logout } from "./api.ts";
import { type Chats, createChats } from "./chats.ts";
import { connectDispatcher, type Dispatcher } from "./dispatcher.ts";
import { showNotice, ui } from "./elements.ts";
import { bindLogin, showLogin } from "./login.ts";
import { createOffers, renderQueue } from "./offers.ts";

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
});

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
      offers.add(frame.chatId, frame.visitor, frame.expiresAt);
      return;
    case "offer_withdrawn":
      offers.remove(frame.chatId);
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

/** Shows the workspace for `agent` and connects it. */
function enter(agent: AgentProfile): void {
  showNotice("");
  ui.loading.hidden = true;
  ui.loginView.hidden = true;
  ui.workspace.hidden = false;
  ui.agentBar.hidden = false;
  ui.agentName.textContent = agent.name;
  chats = createChats(agent);
  connect();
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
  const agent = await fetchMe().catch(() => undefined);
  if (agent === null) leave("Your session has ended. Please sign in again.");
  else if (!dispatcher && chats) connect();
}

/** Disconnects everything and returns to the sign-in form. */
function leave(message = ""): void {
  dispatcher?.close();
  dispatcher = null;
  chats?.closeAll();
  chats = null;
  offers.clear();
  renderQueue([]);
  visitors.clear();
  ui.capacity.textContent = "";
  ui.connection.textContent = "";
  showLogin(message);
}

ui.status.addEventListener("change", () => {
  const status: AgentStatus = ui.status.value === "away" ? "away" : "online";
  dispatcher?.send({ type: "status", status });
});
ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  await logout();
  ui.logout.disabled = false;
  leave();
});
bindLogin(enter);

fetchMe().then(
  (agent) => (agent ? enter(agent) : showLogin()),
  (err: unknown) => {
    ui.loading.hidden = true;
    showNotice(err instanceof Error ? err.message : "Could not reach the server.");
    showLogin();
  },
);
