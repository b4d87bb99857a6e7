/**
 * One open chat in the console: its own socket (`?mode=participate`, or `join`/`monitor` for a
 * supervisor), the visitor's details, transcript (whispers marked internal), typing indicator,
 * desk actions (whisper, transfer, invite, leave), the secure form's controls, composer with
 * the `/` canned-message shortcut, and End/Close buttons. Several panels live side by side;
 * a monitor's panel is read-only.
 */
import { connectChat } from "../client/chat-connection.ts";
import { bindComposer } from "../client/composer.ts";
import { h, uid } from "../client/dom.ts";
import type { SocketState } from "../client/reconnecting-socket.ts";
import { createTranscript } from "../client/transcript.ts";
import type { VisitorSummary } from "../protocol/dispatcher-frames.ts";
import type { AgentProfile } from "../protocol/http.ts";
import { MAX_MESSAGE_CHARS, SUBPROTOCOL } from "../protocol/limits.ts";
import { wsBase } from "./api-origin.ts";
import { bindCannedShortcut } from "./canned-shortcut.ts";
import { type ChatMode, deskActions } from "./desk-actions.ts";
import { verifiedBadge, visitorLabel } from "./offers.ts";
import { secureForms } from "./secure-form.ts";
import { visitorPanel } from "./visitor-panel.ts";

export interface ChatPanelOptions {
  chatId: string;
  agent: AgentProfile;
  /** What the offer or queue said about the visitor, when known. */
  visitor?: VisitorSummary | undefined;
  /** How this agent is in the chat; default `participate`. */
  mode?: ChatMode | undefined;
  /** The agent closed the panel of a finished chat. */
  onClose(chatId: string): void;
}

export interface ChatPanel {
  el: HTMLElement;
  /** Closes the socket (the chat itself stays open on the server). */
  disconnect(): void;
}

const STATE_TEXT: Record<SocketState, string> = {
  connecting: "Connecting…",
  open: "",
  reconnecting: "Connection lost. Reconnecting…",
  closed: "",
};

/** Creates and connects a chat panel. */
export function chatPanel(opts: ChatPanelOptions): ChatPanel {
  const { chatId, agent } = opts;
  const mode = opts.mode ?? "participate";
  let over = false;
  const me = { role: "agent", id: agent.id, name: agent.name } as const;

  // Visitor messages that arrived while the agent was elsewhere (another chat, another
  // screen, another window); cleared when the agent comes back to this panel.
  let unread = 0;
  let live = false;
  const unreadBadge = h("span", { class: "unread", hidden: true, "data-testid": "chat-unread" });
  const title = h(
    "h2",
    { id: uid("chat-title") },
    visitorLabel(opts.visitor),
    verifiedBadge(opts.visitor),
    unreadBadge,
  );
  const showUnread = () => {
    unreadBadge.hidden = unread === 0;
    unreadBadge.textContent = unread ? `${unread} new` : "";
  };
  const status = h("p", { class: "state", role: "status" });
  const log = h("div", { class: "log", role: "log", "aria-live": "polite", tabindex: 0 });
  log.setAttribute("aria-labelledby", title.id);
  const typing = h("p", { class: "typing", hidden: true }, "Visitor is typing…");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const inputId = uid("chat-input");
  const input = h("textarea", {
    id: inputId,
    rows: 2,
    maxlength: MAX_MESSAGE_CHARS,
    "data-testid": "chat-input",
  });
  const send = h("button", { type: "submit", "data-testid": "chat-send" }, "Send");
  const form = h(
    "form",
    { class: "composer" },
    h("label", { for: inputId, class: "sr-only" }, "Message"),
    input,
    send,
  );
  const end = h(
    "button",
    { type: "button", class: "danger", "data-testid": "end-chat" },
    "End chat",
  );
  const close = h(
    "button",
    { type: "button", class: "secondary", hidden: true, "data-testid": "close-chat" },
    "Close",
  );
  const secure = secureForms({
    permissions: agent.permissions,
    send: (frame) => conn.sendForm(frame),
    showError: (message) => showError(message),
  });
  const desk = deskActions({
    mode,
    permissions: agent.permissions,
    act: (frame) => conn.act(frame),
    showError: (message) => showError(message),
  });
  const readOnly = mode === "monitor";
  const el = h(
    "section",
    {
      class: "chat-panel",
      "data-testid": "chat-panel",
      "data-chat-id": chatId,
      "data-mode": mode,
      "aria-labelledby": title.id,
    },
    h(
      "header",
      null,
      title,
      h("div", { class: "actions" }, !readOnly && secure.request, !readOnly && end, close),
    ),
    readOnly && h("p", { class: "details", "data-testid": "monitoring" }, "Monitoring: read-only"),
    visitorPanel(opts.visitor),
    desk.el,
    status,
    log,
    typing,
    secure.el,
    error,
    !readOnly && form,
  );

  const transcript = createTranscript({
    list: log,
    testId: "chat-message",
    isOwn: (from) => from.role === "agent" && from.id === agent.id,
    author: (from, own) =>
      own
        ? "You"
        : (from.name ??
          (from.role === "visitor" ? "Visitor" : from.role === "agent" ? "Agent" : "System")),
    notice: (event) => {
      const who = event.from.name ?? (event.from.role === "visitor" ? "The visitor" : "An agent");
      if (event.kind === "joined") return `${who} joined the chat`;
      if (event.kind === "left") return `${who} left the chat`;
      if (event.kind === "transferred") return `${who} took over the chat`;
      if (event.kind === "requeued") return "The agent went offline: the chat waits in the queue";
      if (event.kind === "ended")
        return event.reason ? `Chat ended by the ${event.reason}` : "Chat ended";
      return null;
    },
  });

  const showError = (message: string) => {
    error.textContent = message;
    error.hidden = !message;
  };

  const finish = (message = "") => {
    if (over) return;
    over = true;
    typing.hidden = true;
    for (const c of [input, send]) c.disabled = true;
    end.hidden = true;
    close.hidden = false;
    desk.end();
    el.classList.add("ended");
    secure.end();
    status.textContent = "";
    showError(message);
  };

  const conn = connectChat({
    url: `${wsBase()}/api/agent/chats/${encodeURIComponent(chatId)}/ws?mode=${mode}`,
    protocols: [SUBPROTOCOL],
    onEvent: (event) => {
      transcript.addEvent(event);
      secure.onEvent(event);
      if (event.from.role === "visitor") {
        if (event.kind === "message") typing.hidden = true;
        // Replayed history is not news; a live message the agent is not looking at is.
        if (
          event.kind === "message" &&
          live &&
          !(document.hasFocus() && el.contains(document.activeElement))
        ) {
          unread += 1;
          showUnread();
        }
        // The offer may not have named the visitor; the chat's own events do.
        if (!opts.visitor && event.from.name) title.textContent = event.from.name;
      }
      if (event.kind === "ended") finish();
    },
    onReady: (chatStatus) => {
      live = true;
      if (chatStatus === "ended") finish();
    },
    onTyping: (from, on) => {
      if (from.role === "visitor") typing.hidden = !on;
    },
    onSecureValues: (frame) => secure.onValues(frame),
    onError: (code, message) => {
      if (secure.onError(code, message)) return;
      if (code === "chat_ended") finish();
      else showError(message);
    },
    onState: (state) => {
      if (!over) status.textContent = STATE_TEXT[state];
    },
    onClosed: (code) => {
      if (code === 1008) finish("You no longer have access to this chat.");
      else finish();
    },
  });

  bindComposer({
    form,
    input,
    end,
    conn,
    transcript,
    me,
    showError,
    isOver: () => over,
    kind: () => (desk.whispering() ? "whisper" : "message"),
  });
  bindCannedShortcut(
    input,
    () => ({
      "visitor.name": opts.visitor?.name ?? null,
      "visitor.email": opts.visitor?.email ?? null,
      "agent.name": agent.name,
      "department.name": opts.visitor?.department ?? null,
    }),
    showError,
  );
  el.addEventListener("focusin", () => {
    unread = 0;
    showUnread();
  });
  close.addEventListener("click", () => {
    secure.hide();
    conn.close();
    el.remove();
    opts.onClose(chatId);
  });

  return {
    el,
    disconnect: () => {
      secure.hide();
      conn.close();
    },
  };
}
