/**
 * The widget shell: a launcher button and a panel in a Shadow DOM, switching between the
 * pre-chat form, the offline form and the live chat; the invitation card (an agent's, from the
 * presence socket, or the campaign's auto-invitation); the page's JS API.
 */
import { h } from "../client/dom.ts";
import { requestJson } from "../client/http.ts";
import type { PreChatForm, WidgetConfig } from "../protocol/campaigns.ts";
import type { StartChatResponse } from "../protocol/http.ts";
import type { WidgetAvailability } from "../protocol/widget-availability.ts";
import { withChatCaptcha } from "./captcha.ts";
import { chatView } from "./chat-view.ts";
import { createEmitter, createUnread, type Emitter } from "./events.ts";
import { offlineForm, type PrechatValues, prechatForm } from "./forms.ts";
import { inviteCard } from "./invite-card.ts";
import { connectPresence, type PageView } from "./presence.ts";
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

/** How long a route of a single-page site must hold before it is reported as a page view. */
const ROUTE_SETTLE_MS = 500;

/** Set in `sessionStorage` once the visitor answered the campaign's auto-invitation. */
const AUTO_INVITED_KEY = "parley.autoInvited";

/** Adds the widget to the page; resumes the chat saved in this tab, if any. */
export function mountWidget(opts: WidgetOptions): WidgetApi {
  const events = createEmitter();
  let identity: string | undefined;
  const variables: Record<string, string | number | boolean> = {};
  let config: WidgetConfig | undefined;
  /** The agent's invitation the visitor accepted, sent with the next chat start. */
  let invitationId: string | undefined;
  /** A chat is on screen and not ended: no invitation is shown meanwhile. */
  let chatting = false;
  /** The pre-chat form while untouched: the configuration, when it comes, redraws it. */
  let shownForm: HTMLElement | undefined;
  let sound = soundOn();

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
  const invite = inviteCard(
    (shown, accept) => {
      if (shown.invitationId) presence.answer(shown.invitationId, accept);
      // Answered in this tab: the auto-invitation is not offered again until the tab closes.
      else writeStore(false, AUTO_INVITED_KEY, "1");
      if (!accept) return;
      invitationId = shown.invitationId;
      setOpen(true);
    },
    (text) => {
      announce.textContent = text;
    },
  );
  root.append(panel, invite.el, launcher, announce);
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
    if (open) {
      invite.hide();
      markOnline();
    }
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
  const get = <T>(path: string) => requestJson<T>(opts.base + path, "GET", undefined, "omit");

  /**
   * Marks each department of the picker on screen online or offline. Asked at each opening
   * (not cached: agents come and go), and only when the picker is there to show it.
   */
  function markOnline() {
    const picker = body.querySelector<HTMLSelectElement>("[data-testid=parley-department]");
    if (!picker || panel.hidden) return;
    get<WidgetAvailability>("/api/widget/availability").then(
      ({ data }) => {
        for (const option of picker.options) {
          const online = data.departments.find((d) => d.id === option.value)?.online;
          // The label is what the picker shows; the text keeps the department's name.
          if (online !== undefined) option.label = (online ? t.online : t.offline)(option.text);
        }
        // Unknown (network, rate limit): the plain names serve.
      },
      () => {},
    );
  }

  const startChat = async (values: PrechatValues, checking: (on: boolean) => void) => {
    const { variables: typed, ...visitor } = values;
    const all = { ...variables, ...typed };
    const form = {
      ...visitor,
      variables: Object.keys(all).length ? all : undefined,
      // The page the chat starts on: on a single-page site, the route the visitor is on now.
      pageUrl: here(),
      identity: identity ?? opts.identity?.(),
      visitorId: readStore(false, VISITOR_KEY),
      presenceToken: presence.token(),
      invitationId,
    };
    const { data } = await withChatCaptcha(
      (captcha) => post<StartChatResponse>("/api/visitor/chats", { ...form, captcha }),
      checking,
    );
    // Used up by this start, whatever its answer.
    invitationId = undefined;
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
              pageUrl: here(),
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
    chatting = true;
    invite.hide();
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
        onEnded: () => {
          chatting = false;
          events.emit("chat_ended", { chatId: chat.chatId });
        },
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
    markOnline();
  }

  /** Applies the campaign's look and texts, then offers its auto-invitation when it is time. */
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
    const auto = next.autoInvite;
    if (auto.enabled && !readStore(false, AUTO_INVITED_KEY)) {
      // Counted from the page load, not from this answer.
      setTimeout(
        () => {
          if (panel.hidden && !chatting && invite.el.hidden) invite.show(auto);
        },
        auto.afterSeconds * 1000 - performance.now(),
      );
    }
  };

  const presence = connectPresence({
    base: opts.base,
    page: pageView(),
    onInvitation: (frame) => {
      // Not while the visitor is busy with the widget already.
      if (panel.hidden && !chatting) invite.show(frame);
    },
    onWithdrawn: (id) => invite.hide(id),
  });

  // A single-page site changes routes without a page load: each new URL is a page view.
  // Reported once the route settles (its title is often set after the URL, and some sites
  // rewrite the URL as the visitor scrolls). The Navigation API sees pushState and
  // replaceState; where it is missing, back and forward still count.
  let reported = here();
  let settling: ReturnType<typeof setTimeout> | undefined;
  const routeChanged = () => {
    clearTimeout(settling);
    settling = setTimeout(() => {
      const page = here() !== reported && pageView();
      reported = here();
      if (page) presence.pageChanged(page);
    }, ROUTE_SETTLE_MS);
  };
  addEventListener("popstate", routeChanged);
  (globalThis as { navigation?: EventTarget }).navigation?.addEventListener(
    "currententrychange",
    routeChanged,
  );

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
  const pageUrl = here();
  if (pageUrl) {
    get<WidgetConfig>(`/api/widget/config?url=${encodeURIComponent(pageUrl)}`).then(
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
 * The page the visitor is on now, as the presence socket reports it (undefined: not
 * reportable). The referrer stays the page load's: where the visitor came from, not the route
 * before.
 */
function pageView(): PageView | undefined {
  const url = here();
  return url
    ? {
        url,
        // MAX_PAGE_TITLE_CHARS (visitor-frames.ts imports zod: not in the widget).
        title: document.title.slice(0, 200) || undefined,
        referrer: reportable(document.referrer),
      }
    : undefined;
}

/**
 * The page's URL as the widget reports it: without its fragment, which is the page's own
 * client-side state and can hold secrets (OAuth's implicit flow returns `#access_token=…`).
 */
function here(): string | undefined {
  return reportable(location.href.split("#")[0] as string);
}

/**
 * `url` if the server accepts it as a page (or referrer) URL, else undefined: only http(s)
 * URLs up to 2,048 characters are; a chat or a page view must not fail over it.
 */
function reportable(url: string): string | undefined {
  return /^https?:\/\//i.test(url) && url.length <= 2048 ? url : undefined;
}
