/**
 * The open chats of this agent. Their ids are kept in `sessionStorage`, so a reload of the
 * console reopens the panels (each replays its chat from the start).
 */
import type { VisitorSummary } from "../protocol/dispatcher-frames.ts";
import type { AgentProfile } from "../protocol/http.ts";
import { type ChatPanel, chatPanel } from "./chat-panel.ts";
import { ui } from "./elements.ts";

const KEY = "parley.console.chats";

export interface Chats {
  /** Opens the chat's panel, or focuses it if it is already open. */
  open(chatId: string, visitor?: VisitorSummary): void;
  /** Disconnects every panel and forgets them (sign-out). */
  closeAll(): void;
}

function loadIds(): string[] {
  try {
    const ids: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

/** Creates the chat area over `#chats` and reopens the chats of this tab. */
export function createChats(agent: AgentProfile): Chats {
  const panels = new Map<string, ChatPanel>();

  const save = () => {
    try {
      sessionStorage.setItem(KEY, JSON.stringify([...panels.keys()]));
    } catch {
      // Best effort: without storage a reload just does not reopen the panels.
    }
  };
  const sync = () => {
    ui.chatsEmpty.hidden = panels.size > 0;
    save();
  };

  const open = (chatId: string, visitor?: VisitorSummary) => {
    const existing = panels.get(chatId);
    if (existing) {
      existing.el.querySelector("textarea")?.focus();
      return;
    }
    const panel = chatPanel({
      chatId,
      agent,
      visitor,
      onClose: (id) => {
        panels.delete(id);
        sync();
      },
    });
    panels.set(chatId, panel);
    ui.chats.append(panel.el);
    sync();
    // After Accept the clicked offer card is gone and focus fell to <body>: pick it up here,
    // but never pull focus away from a chat the agent is typing in.
    if (!document.activeElement || document.activeElement === document.body) {
      panel.el.querySelector("textarea")?.focus();
    }
  };

  for (const id of loadIds()) open(id);

  return {
    open,
    closeAll() {
      for (const panel of panels.values()) {
        panel.disconnect();
        panel.el.remove();
      }
      panels.clear();
      sync();
    },
  };
}
