/**
 * The widget shell: a launcher button and a panel in a Shadow DOM, switching between the
 * pre-chat form, the offline form and the live chat; the page's JS API.
 */
import { h } from "../client/dom.ts";
import { requestJson } from "../client/http.ts";
import type { PreChatForm, WidgetConfig } from "../protocol/campaigns.ts";
import type { StartChatResponse } from "../protocol/http.ts";
import { withChatCaptcha } from "./captcha.ts";
import { chatView } from "./chat-view.ts";
import { createEmitter, createUnread, type Emitter } from "./events.ts";
import { offlineForm, type PrechatValues, prechatForm } from "./forms.ts";
import { loadChat, readStore, saveChat, VISITOR_KEY, writeStore } from "./session.ts";
import { beep, setSound, soundOn } from "./sound.ts";
import { t } from "./strings.ts";
import { adoptStyles } from "./styles.ts";

export interface WidgetOptions {
  /** Origin of the Parley API (where widget.js was loaded from). */
  base: string;
  /** Department slug from the embedding tag's `data-department`; the server's default if unset. */
  department?: string | undefined;
  /**
   * The site-signed identity JWT (the tag's `data-identity`), read at each chat start so a
   * page can set or refresh it after load. `Parley.identify` takes precedence.
   */
  identity?: () => string | undefined;
}

/** `window.Parley`: what the embedding page can do with the widget. */
export interface WidgetApi {
  open(): void;
  close(): void;
  /** Sets the identity JWT for the next chat start (like `data-identity`). */
  identify(jwt: string): void;
  /** Adds custom variables for the next chat start (declared variables only, server-checked). */
  setVariables(variables: Record<string, string | number | boolean>): void;
  on: Emitter["on"];
}

/** Adds the widget to the page; resumes the chat saved in this tab, if any. */
export function mountWidget(opts: WidgetOptions): WidgetApi {
  const events = createEmitter();
  let identity: string | undefined;
  const variables: Record<string, string | number | boolean> = {};
  let config: WidgetConfig | undefined;
  /** The pre-chat form while untouched: the configuration, when it comes, redraws it. */
  let shownForm: HTMLElement | undefined;
  let sound = soundOn();
  const pageUrl = reportablePageUrl();

  const host = h("div", { id: "parley-widget" });
  const root = host.attachShadow({ mode: "open" });
  adoptStyles(root);

  const label = h("span", null, t.title);
  const badge = h("span", { class: "badge", hidden: true, "data-testid": "parley-unread" });
  const launcher = h(
    "button",
    {
      type: "button",
      class: "launcher",
      "data-testid": "parley-launcher",
      "aria-expanded": "false",
    },
    label,
    badge,
  );
  // Says "2 new messages" while the panel (and its message log) is closed.
  const announce = h("p", { class: "sr", "aria-live": "polite", "data-testid": "parley-announce" });
  const soundToggle = h(
    "button",
    { type: "button", "aria-label": t.sound, "data-testid": "parley-sound" },
    "\u266a",
  );
  const minimize = h(
    "button",
    { type: "button", "aria-label": t.minimize, "data-testid": "parley-minimize" },
    "\u2212",
  );
  // Ids are scoped to the shadow root: a fixed one cannot clash with the page's.
  const title = h("h2", { id: "parley-title" }, t.title);
  const body = h("div", { class: "body" });
  const panel = h(
    "section",
    {
      class: "panel",
      role: "dialog",
      "aria-labelledby": "parley-title",
      hidden: true,
      "data-testid": "parley-panel",
    },
    h("header", null, title, soundToggle, minimize),
    body,
  );
  root.append(panel, launcher, announce);
  document.body.append(host);

  const renderSound = () => soundToggle.setAttribute("aria-pressed", String(sound));
  renderSound();
  soundToggle.addEventListener("click", () => {
    sound = !sound;
    setSound(sound);
    renderSound();
  });

  const unread = createUnread((count) => {
    badge.textContent = String(count);
    badge.hidden = !count;
    const text = count ? t.unread(count) : "";
    if (text) launcher.setAttribute("aria-label", `${label.textContent}, ${text}`);
    else launcher.removeAttribute("aria-label");
    announce.textContent = text;
    events.emit("unread", { count });
  });

  const focusFirst = () =>
    body.querySelector<HTMLElement>("input, textarea, select, button, [tabindex]")?.focus();

  const setOpen = (open: boolean, moveFocus = true) => {
    if (open === !panel.hidden) return;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    unread.setOpen(open);
    if (moveFocus) open ? focusFirst() : launcher.focus();
    events.emit(open ? "open" : "close", undefined);
  };

  const show = (view: HTMLElement) => {
    body.replaceChildren(view);
    if (!panel.hidden) focusFirst();
  };

  /** The campaign's look and texts; none without a campaign (the language's own texts). */
  const look = () => (config?.campaignId ? config.widget : undefined);

  const post = <T>(path: string, payload: object) =>
    requestJson<T>(opts.base + path, "POST", payload, "omit");

  const startChat = async (values: PrechatValues, checking: (on: boolean) => void) => {
    const { variables: typed, ...visitor } = values;
    const all = { ...variables, ...typed };
    const form = {
      ...visitor,
      variables: Object.keys(all).length ? all : undefined,
      pageUrl,
      identity: identity ?? opts.identity?.(),
      visitorId: readStore(false, VISITOR_KEY),
    };
    const { data } = await withChatCaptcha(
      (captcha) => post<StartChatResponse>("/api/visitor/chats", { ...form, captcha }),
      checking,
    );
    if ("offline" in data) {
      show(
        offlineForm(
          {
            title: look()?.offlineTitle ?? t.offlineTitle,
            message: look()?.offlineMessage ?? t.offlineMessage,
            opensAt: data.reason === "outside_hours" ? data.opensAt : undefined,
          },
          visitor,
          (message) =>
            post("/api/visitor/offline-messages", {
              ...message,
              department: values.department,
              pageUrl,
            }).then(() => undefined),
        ),
      );
      return;
    }
    const chat = { chatId: data.chatId, token: data.token, lastSeq: 0 };
    saveChat(chat);
    writeStore(false, VISITOR_KEY, data.visitorId);
    showChat(chat, data.queuePosition);
    events.emit("chat_started", { chatId: chat.chatId });
  };

  function showChat(chat: { chatId: string; token: string; lastSeq: number }, queue?: number) {
    show(
      chatView({
        base: opts.base,
        chat,
        queuePosition: queue,
        survey: config?.survey ?? true,
        onNewChat: prechat,
        onAgentMessage: (event) => {
          unread.message();
          if (sound && (panel.hidden || document.hidden)) beep();
          events.emit("message", { text: event.text ?? "", agent: event.from.name, at: event.at });
        },
        onEnded: () => events.emit("chat_ended", { chatId: chat.chatId }),
      }),
    );
  }

  function prechat() {
    shownForm = prechatForm({
      greeting: look()?.greeting ?? t.greeting,
      form: config?.campaignId ? config.preChatForm : defaultForm(),
      departments: config?.departments ?? [],
      department: opts.department,
      start: startChat,
    });
    show(shownForm);
    // Typed in: the configuration must not redraw it any more.
    shownForm.addEventListener("input", () => (shownForm = undefined), { once: true });
  }

  /** Applies the campaign's look and texts. */
  const configure = (next: WidgetConfig) => {
    config = next;
    host.style.setProperty("--c", next.widget.color);
    host.classList.toggle("left", next.widget.position === "left");
    const custom = look();
    if (custom) {
      label.textContent = custom.launcherLabel;
      title.textContent = custom.title;
    }
    if (shownForm && body.contains(shownForm)) prechat();
  };

  launcher.addEventListener("click", () => setOpen(!!panel.hidden));
  minimize.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") setOpen(false);
  });

  const saved = loadChat();
  if (saved) {
    showChat(saved);
    // Reopen the panel after a reload, but leave focus where the page put it.
    setOpen(true, false);
  } else {
    prechat();
  }
  if (pageUrl) {
    requestJson<WidgetConfig>(
      `${opts.base}/api/widget/config?url=${encodeURIComponent(pageUrl)}`,
      "GET",
      undefined,
      "omit",
    ).then(
      ({ data }) => configure(data),
      // No configuration (network, rate limit): the built-in form and texts serve.
      () => {},
    );
  }

  return {
    open: () => setOpen(true),
    close: () => setOpen(false),
    identify: (jwt) => {
      identity = jwt;
    },
    setVariables: (more) => {
      Object.assign(variables, more);
    },
    on: events.on,
  };
}

/** The form without a campaign: name and email, optional, labelled in the page's language. */
function defaultForm(): PreChatForm {
  return {
    enabled: true,
    fields: [
      { key: "name", label: t.name, required: false },
      { key: "email", label: t.email, required: false },
    ],
  };
}

/**
 * The page URL the pre-chat form reports, or undefined when the server would refuse it
 * (only http(s) URLs up to 2,048 characters are accepted; a chat must not fail over it).
 */
function reportablePageUrl(): string | undefined {
  const url = location.href;
  return /^https?:\/\//i.test(url) && url.length <= 2048 ? url : undefined;
}
