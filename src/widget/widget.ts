/**
 * The widget shell: a launcher button and a panel in a Shadow DOM, switching between the
 * pre-chat form, the offline form and the live chat.
 */
import { h } from "../client/dom.ts";
import { requestJson } from "../client/http.ts";
import type { StartChatResponse } from "../protocol/http.ts";
import { withChatCaptcha } from "./captcha.ts";
import { chatView } from "./chat-view.ts";
import { offlineForm, prechatForm, type Visitor } from "./forms.ts";
import { loadChat, loadVisitorId, saveChat, saveVisitorId } from "./session.ts";
import { adoptStyles } from "./styles.ts";

export interface WidgetOptions {
  /** Origin of the Parley API (where widget.js was loaded from). */
  base: string;
  /** Department slug from the embedding tag's `data-department`; the server's default if unset. */
  department?: string | undefined;
  /**
   * The site-signed identity JWT (the tag's `data-identity`), read at each chat start so a
   * page can set or refresh it after load.
   */
  identity?: () => string | undefined;
}

const TITLE = "Chat with us";

/** Adds the widget to the page; resumes the chat saved in this tab, if any. */
export function mountWidget(opts: WidgetOptions): void {
  const host = h("div", { id: "parley-widget" });
  const root = host.attachShadow({ mode: "open" });
  adoptStyles(root);

  const launcher = h(
    "button",
    {
      type: "button",
      class: "launcher",
      "data-testid": "parley-launcher",
      "aria-expanded": "false",
    },
    TITLE,
  );
  const minimize = h("button", { type: "button", "aria-label": "Minimize chat" }, "\u2212");
  const body = h("div", { class: "body" });
  const panel = h(
    "section",
    {
      class: "panel",
      role: "dialog",
      "aria-label": TITLE,
      hidden: true,
      "data-testid": "parley-panel",
    },
    h("header", null, h("h2", null, TITLE), minimize),
    body,
  );
  root.append(panel, launcher);
  document.body.append(host);

  const focusFirst = () =>
    body.querySelector<HTMLElement>("input, textarea, button, [tabindex]")?.focus();

  const setOpen = (open: boolean, moveFocus = true) => {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (moveFocus) open ? focusFirst() : launcher.focus();
  };

  const show = (view: HTMLElement) => {
    body.replaceChildren(view);
    if (!panel.hidden) focusFirst();
  };

  const api = <T>(path: string, payload: object) =>
    requestJson<T>(opts.base + path, "POST", payload, "omit");

  const startChat = async (visitor: Visitor, checking: (on: boolean) => void) => {
    const form = {
      ...visitor,
      department: opts.department,
      pageUrl: reportablePageUrl(),
      identity: opts.identity?.(),
      visitorId: loadVisitorId(),
    };
    const { data } = await withChatCaptcha(
      (captcha) => api<StartChatResponse>("/api/visitor/chats", { ...form, captcha }),
      checking,
    );
    if ("offline" in data) {
      show(
        offlineForm(visitor, (message) =>
          api("/api/visitor/offline-messages", {
            ...message,
            department: opts.department,
            pageUrl: reportablePageUrl(),
          }).then(() => undefined),
        ),
      );
      return;
    }
    const chat = { chatId: data.chatId, token: data.token, lastSeq: 0 };
    saveChat(chat);
    saveVisitorId(data.visitorId);
    show(
      chatView({ base: opts.base, chat, queuePosition: data.queuePosition, onNewChat: prechat }),
    );
  };

  function prechat() {
    show(prechatForm(startChat));
  }

  launcher.addEventListener("click", () => setOpen(!!panel.hidden));
  minimize.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") setOpen(false);
  });

  const saved = loadChat();
  if (saved) {
    show(chatView({ base: opts.base, chat: saved, onNewChat: prechat }));
    // Reopen the panel after a reload, but leave focus where the page put it.
    setOpen(true, false);
  } else {
    prechat();
  }
}

/**
 * The page URL the pre-chat form reports, or undefined when the server would refuse it
 * (only http(s) URLs up to 2,048 characters are accepted; a chat must not fail over it).
 */
function reportablePageUrl(): string | undefined {
  const url = location.href;
  return /^https?:\/\//i.test(url) && url.length <= 2048 ? url : undefined;
}
