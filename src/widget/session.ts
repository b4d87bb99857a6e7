/**
 * The visitor's chat, kept in `sessionStorage` so a reload or a navigation on the same site
 * resumes it. Storage can be unavailable (privacy modes, sandboxed frames): then the chat
 * simply does not survive a reload.
 */

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
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Partial<SavedChat> | null;
    if (v && typeof v.chatId === "string" && typeof v.token === "string") {
      return { chatId: v.chatId, token: v.token, lastSeq: Number(v.lastSeq) || 0 };
    }
  } catch {
    // Unavailable or corrupt storage: start afresh.
  }
  return null;
}

/** Saves (or with null, forgets) the current chat. */
export function saveChat(chat: SavedChat | null): void {
  try {
    if (chat) sessionStorage.setItem(KEY, JSON.stringify(chat));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Best effort: see the module comment.
  }
}

const VISITOR_KEY = "parley.visitor";

/**
 * The visitor id of this tab's last chat: sent with the next pre-chat form so a ban on the
 * visitor holds for them. Kept in `sessionStorage` only (it dies with the tab), like the chat.
 */
export function loadVisitorId(): string | undefined {
  try {
    return sessionStorage.getItem(VISITOR_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the visitor id the server issued. */
export function saveVisitorId(id: string): void {
  try {
    sessionStorage.setItem(VISITOR_KEY, id);
  } catch {
    // Best effort: see the module comment.
  }
}
