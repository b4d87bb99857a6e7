/**
 * The open chats of this agent. Their ids (and how the agent is in each: participating,
 * joined, monitoring) are kept in `sessionStorage`, so a reload of the console reopens the
 * panels (each replays its chat from the start). Supervisors get a small form to join or
 * monitor a chat by its id (from the transcripts or reports screens).
 */

import { h, uid } from "../client/dom.ts";
import type { VisitorSummary } from "../protocol/dispatcher-frames.ts";
import type { AgentProfile } from "../protocol/http.ts";
import { type ChatPanel, chatPanel } from "./chat-panel.ts";
import type { ChatMode } from "./desk-actions.ts";
import { ui } from "./elements.ts";

const KEY = "parley.console.chats";

export interface Chats {
  /** Opens the chat's panel, or focuses it if it is already open. */
  open(chatId: string, visitor?: VisitorSummary, mode?: ChatMode): void;
  /** Disconnects every panel and forgets them (sign-out). */
  closeAll(): void;
}

const MODES = new Set<string>(["participate", "join", "monitor"]);

/** Saved panels: `id` (participating, as saved before modes) or `[id, mode]`. */
function loadSaved(): [string, ChatMode][] {
  try {
    const saved: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    if (!Array.isArray(saved)) return [];
    return saved.flatMap((entry): [string, ChatMode][] => {
      if (typeof entry === "string") return [[entry, "participate"]];
      const [id, mode] = Array.isArray(entry) ? entry : [];
      return typeof id === "string" && MODES.has(mode) ? [[id, mode as ChatMode]] : [];
    });
  } catch {
    return [];
  }
}

/**
 * "Join or monitor a chat" for agents holding `chats.join` or `chats.monitor`: the server
 * checks the permission and the chat's department when the socket opens.
 */
function superviseForm(agent: AgentProfile, open: Chats["open"]): HTMLElement | null {
  const modes = (["join", "monitor"] as const).filter((mode) =>
    agent.permissions.includes(`chats.${mode}`),
  );
  if (modes.length === 0) return null;
  const id = uid("supervise");
  const input = h("input", {
    id,
    type: "text",
    required: true,
    maxlength: 64,
    autocomplete: "off",
    "data-testid": "supervise-chat-id",
  });
  const buttons = modes.map((mode) => {
    const button = h(
      "button",
      { type: "button", class: "secondary", "data-testid": `supervise-${mode}` },
      mode === "join" ? "Join" : "Monitor",
    );
    button.addEventListener("click", () => {
      const chatId = input.value.trim();
      if (!chatId) return;
      open(chatId, undefined, mode);
      input.value = "";
    });
    return button;
  });
  return h(
    "section",
    { class: "supervise", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title` }, "Supervise"),
    h("label", { for: id }, "Chat id"),
    input,
    h("div", { class: "actions" }, ...buttons),
  );
}

/** Creates the chat area over `#chats` and reopens the chats of this tab. */
export function createChats(agent: AgentProfile): Chats {
  const panels = new Map<string, ChatPanel & { mode: ChatMode }>();

  const save = () => {
    try {
      sessionStorage.setItem(
        KEY,
        JSON.stringify([...panels].map(([id, panel]) => [id, panel.mode])),
      );
    } catch {
      // Best effort: without storage a reload just does not reopen the panels.
    }
  };
  const sync = () => {
    ui.chatsEmpty.hidden = panels.size > 0;
    save();
  };

  const open = (chatId: string, visitor?: VisitorSummary, mode: ChatMode = "participate") => {
    const existing = panels.get(chatId);
    // A supervisor who now takes part (accepted an invitation or a transfer) gets a new panel.
    if (existing && existing.mode === mode) {
      existing.el.querySelector("textarea")?.focus();
      return;
    }
    if (existing) {
      existing.disconnect();
      existing.el.remove();
    }
    const panel = chatPanel({
      chatId,
      agent,
      visitor,
      mode,
      onClose: (id) => {
        panels.delete(id);
        sync();
      },
    });
    panels.set(chatId, { ...panel, mode });
    ui.chats.append(panel.el);
    sync();
    // After Accept the clicked offer card is gone and focus fell to <body>: pick it up here,
    // but never pull focus away from a chat the agent is typing in.
    if (!document.activeElement || document.activeElement === document.body) {
      panel.el.querySelector("textarea")?.focus();
    }
  };

  for (const [id, mode] of loadSaved()) open(id, undefined, mode);
  const supervise = superviseForm(agent, open);
  if (supervise) ui.supervise.replaceChildren(supervise);

  return {
    open,
    closeAll() {
      for (const panel of panels.values()) {
        panel.disconnect();
        panel.el.remove();
      }
      panels.clear();
      ui.supervise.replaceChildren();
      sync();
    },
  };
}
