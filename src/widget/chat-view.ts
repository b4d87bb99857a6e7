/**
 * The visitor's live chat: message log, typing indicator, the secure form when an agent asks
 * for card details, composer and "End chat". The socket protocol (hello/replay, resend,
 * dedupe, typing throttle) lives in the shared `connectChat`; this file only maps it onto the
 * DOM.
 */
import { connectChat } from "../client/chat-connection.ts";
import { bindComposer } from "../client/composer.ts";
import { h } from "../client/dom.ts";
import { requestJson, toWsBase } from "../client/http.ts";
import type { SocketState } from "../client/reconnecting-socket.ts";
import { createTranscript } from "../client/transcript.ts";
import type { ChatEvent } from "../protocol/chat-frames.ts";
import { BEARER_PREFIX, MAX_MESSAGE_CHARS, SUBPROTOCOL } from "../protocol/limits.ts";
import { type SecureFormPanel, secureForm } from "./secure-form.ts";
import { type SavedChat, saveChat } from "./session.ts";
import { t } from "./strings.ts";
import { surveyForm } from "./survey.ts";

export interface ChatViewOptions {
  /** The API origin (`https://chat.example.com`). */
  base: string;
  chat: SavedChat;
  /** Queue position from the start response, shown until an agent joins. */
  queuePosition?: number;
  /** Offer the post-chat survey (the campaign's choice). */
  survey: boolean;
  /** Called when the visitor asks for a fresh chat after this one is over. */
  onNewChat(): void;
  /** An agent's message arrived live (not in the replay that rebuilds the view). */
  onAgentMessage(event: ChatEvent): void;
  /** The chat ended (or became unavailable). */
  onEnded(): void;
}

/** A stale typing indicator is hidden after this long (an `on:false` frame may be lost). */
const TYPING_TTL_MS = 6000;
/** About 5 minutes of retries; then the token has likely expired or the chat is gone. */
const MAX_FAILURES = 12;
/** Error codes that answer a secure-form submission. */
const FORM_ERRORS = new Set(["invalid_secure_form", "already_submitted", "not_found"]);

/** Builds the chat view and connects it. */
export function chatView(opts: ChatViewOptions): HTMLElement {
  const chat = { ...opts.chat };
  let state: SocketState = "connecting";
  let queue = opts.queuePosition ?? 0;
  let over = false;
  // The first replay rebuilds what an earlier page showed: nothing in it is news.
  let live = false;
  let answered = false;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;

  const status = h("p", { class: "note", role: "status", "data-testid": "parley-status" });
  const log = h("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t.messages,
    tabindex: 0,
    "data-testid": "parley-messages",
  });
  const typing = h("p", { class: "note", hidden: true, "data-testid": "parley-typing" }, t.typing);
  const error = h("p", { class: "err", role: "alert", hidden: true });
  const input = h("textarea", {
    "data-testid": "parley-input",
    rows: 2,
    maxlength: MAX_MESSAGE_CHARS,
    "aria-label": t.message,
    placeholder: t.placeholder,
  });
  const send = h("button", { type: "submit", "data-testid": "parley-send" }, t.send);
  const form = h("form", { class: "bar", "aria-label": t.composer }, input, send);
  const link = (testId: string, text: string) =>
    h("button", { type: "button", class: "link", "data-testid": testId }, text);
  const end = link("parley-end", t.end);
  const download = link("parley-download", t.download);
  const again = link("parley-new-chat", t.newChat);
  again.hidden = true;
  // The secure form's panel, apart from the messages; at most one form at a time.
  const secureArea = h("div", { class: "forms" });
  const forms = new Map<string, SecureFormPanel>();

  const view = h(
    "div",
    { class: "view" },
    status,
    log,
    typing,
    secureArea,
    error,
    form,
    h("div", { class: "links" }, end, download),
    again,
  );
  const transcript = createTranscript({
    list: log,
    testId: "parley-message",
    isOwn: (from) => from.role === "visitor",
    author: (from, own) =>
      own ? t.you : (from.name ?? (from.role === "agent" ? t.agent : t.system)),
    notice: (event) => {
      if (event.kind === "ended") return t.ended;
      if (event.kind === "joined" && event.from.role === "agent") {
        return t.joined(event.from.name ?? t.anAgent);
      }
      return null;
    },
    sending: t.sending,
    delivered: t.delivered,
  });

  // The download is what the log shows, one line per row: "author · time: text" or a notice.
  download.addEventListener("click", () => {
    const text = [...log.children]
      .map((row) => [...row.children].map((part) => part.textContent).join(": "))
      .join("\n");
    const a = h("a", {
      href: URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" })),
      download: "chat-transcript.txt",
    });
    a.click();
    // Later: some browsers read the URL after the click handler returns.
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  const renderStatus = () => {
    status.textContent = over
      ? ""
      : state === "reconnecting"
        ? t.reconnecting
        : state === "connecting"
          ? t.connecting
          : queue > 0
            ? t.queue(queue)
            : "";
    status.hidden = !status.textContent;
    // For styling and tests: connecting, open, reconnecting or closed.
    status.dataset.state = over ? "closed" : state;
  };

  const showError = (message: string) => {
    error.textContent = message;
    error.hidden = !message;
  };

  const setTyping = (on: boolean) => {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_TTL_MS);
  };

  /** The panel waiting for the server's answer to a submission, if any. */
  const sendingForm = () => [...forms.values()].find((panel) => panel.sending());

  /** Opens a requested form (replacing older ones), or closes a submitted one for good. */
  const onFormEvent = (event: ChatEvent) => {
    const id = event.form?.requestId;
    if (!id) return;
    if (event.kind === "secure_form.submitted") {
      forms.get(id)?.close(event.text ?? t.secureSubmitted);
    } else if (event.kind === "secure_form.requested" && event.form?.fields && !over) {
      for (const [other, panel] of forms) {
        if (panel.sending()) continue;
        panel.close();
        panel.el.remove();
        forms.delete(other);
      }
      const panel = secureForm({
        requestId: id,
        fields: event.form.fields,
        submit: (frame) => conn.sendForm(frame),
      });
      forms.set(id, panel);
      secureArea.append(panel.el);
    }
  };

  /** The chat is over (ended, or the connection gave up): freeze the view, forget the chat. */
  const finish = (message?: string) => {
    if (over) return;
    over = true;
    saveChat(null);
    // The values are wiped on the server when the chat ends: an open form can only fail now.
    for (const panel of forms.values()) panel.close();
    setTyping(false);
    for (const el of [input, send, end]) el.disabled = true;
    end.hidden = true;
    again.hidden = false;
    if (message) showError(message);
    renderStatus();
    opts.onEnded();
    if (opts.survey && answered && !message) {
      view.insertBefore(
        surveyForm((rating, comment) =>
          requestJson(
            `${opts.base}/api/visitor/chats/${encodeURIComponent(chat.chatId)}/survey`,
            "POST",
            { rating, comment: comment || undefined },
            "omit",
            { authorization: `Bearer ${chat.token}` },
          ).then(() => undefined),
        ),
        again,
      );
    }
    // Move focus only if the visitor was in the chat; never steal it from the host page.
    if (view.contains((view.getRootNode() as ShadowRoot).activeElement)) again.focus();
  };

  const conn = connectChat({
    url: `${toWsBase(opts.base)}/api/visitor/chats/${encodeURIComponent(chat.chatId)}/ws`,
    protocols: [SUBPROTOCOL, BEARER_PREFIX + chat.token],
    // Always replay from 0: after a reload the page has lost the messages it showed, and the
    // server's replay is the only copy. Within this page, reconnects resume from the last seq.
    lastSeq: 0,
    maxFailures: MAX_FAILURES,
    onEvent: (event) => {
      transcript.addEvent(event);
      onFormEvent(event);
      chat.lastSeq = event.seq;
      if (!over) saveChat(chat);
      if (event.from.role === "agent") {
        queue = 0;
        answered = true;
        if (event.kind === "message") {
          setTyping(false);
          if (live) opts.onAgentMessage(event);
        }
      }
      if (event.kind === "ended") finish();
      renderStatus();
    },
    onReady: (chatStatus) => {
      live = true;
      if (chatStatus === "ended") finish();
      // The replay has come and holds no submission: the connection dropped before it arrived.
      sendingForm()?.refused(t.secureAgain);
    },
    onTyping: (from, on) => {
      if (from.role === "agent") setTyping(on);
    },
    onQueue: (position) => {
      queue = position;
      renderStatus();
    },
    onError: (code, message, fields) => {
      const sending = FORM_ERRORS.has(code) ? sendingForm() : undefined;
      if (code === "already_submitted") sending?.close(t.secureDone);
      else if (sending) sending.refused(message, fields);
      else if (code === "chat_ended") finish();
      else showError(message);
    },
    onState: (next) => {
      state = next;
      renderStatus();
    },
    onClosed: (code) => {
      // 1000 follows the `ended` event; anything else means we could not (re)join.
      if (code !== 1000) finish(t.gone);
      else finish();
    },
  });

  const me = { role: "visitor", id: null, name: null } as const;
  bindComposer({
    form,
    input,
    end,
    conn,
    transcript,
    me,
    showError,
    isOver: () => over,
    notConnected: t.notConnected,
  });
  again.addEventListener("click", () => {
    conn.close();
    opts.onNewChat();
  });

  renderStatus();
  return view;
}
