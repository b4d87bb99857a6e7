/**
 * What the widget keeps in the browser. The chat lives in `sessionStorage` so a reload or a
 * navigation on the same site resumes it (and it dies with the tab); the presence token and
 * the sound choice live in `localStorage`, across visits. Storage can be unavailable (privacy
 * modes, sandboxed frames): then nothing survives the page, and nothing fails.
 */

/** Reads `key` (from `localStorage` when `local`); undefined when absent or unavailable. */
export function readStore(local: boolean, key: string): string | undefined {
  try {
    return (local ? localStorage : sessionStorage).getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Writes `key`, or removes it when `value` is undefined; best effort (see above). */
export function writeStore(local: boolean, key: string, value?: string): void {
  try {
    const store = local ? localStorage : sessionStorage;
    if (value === undefined) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    // Unavailable storage: see the module comment.
  }
}

/** What a reload needs to rejoin a chat. */
export interface SavedChat {
  chatId: string;
  /** The short-lived visitor token (JWT) for the chat socket. */
  token: string;
  /** Highest event seq seen. */
  lastSeq: number;
}

const KEY = "parley.chat";

/** The saved chat, or null when there is none (or it is unreadable). */
export function loadChat(): SavedChat | null {
  try {
    const v = JSON.parse(readStore(false, KEY) ?? "null") as Partial<SavedChat> | null;
    if (v && typeof v.chatId === "string" && typeof v.token === "string") {
      return { chatId: v.chatId, token: v.token, lastSeq: Number(v.lastSeq) || 0 };
    }
  } catch {
    // Corrupt: start afresh.
  }
  return null;
}

/** Saves (or with null, forgets) the current chat. */
export function saveChat(chat: SavedChat | null): void {
  writeStore(false, KEY, chat ? JSON.stringify(chat) : undefined);
}

/**
 * The visitor id of this tab's last chat (`parley.visitor`): sent with the next pre-chat
 * form so a ban on the visitor holds for them.
 */
export const VISITOR_KEY = "parley.visitor";
