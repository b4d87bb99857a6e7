/**
 * The "Sessions" dialog: the agent's live sessions (device, IP, last activity) with a Revoke
 * button for each one but this. Revoking ends that session on the server at once; its sockets
 * are closed with 1008.
 */
import { h } from "../client/dom.ts";
import { ApiError } from "../client/http.ts";
import { listSessions, revokeSession, type SessionInfo } from "./api.ts";
import { ui } from "./elements.ts";

const BROWSERS: [RegExp, string][] = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
  [/OPR\/(\d+)/, "Opera"],
  [/(?:Firefox|FxiOS)\/(\d+)/, "Firefox"],
  [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
  [/(?:Chrome|CriOS)\/(\d+)/, "Chrome"],
  [/Version\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, "Safari"],
];

// Order matters: iPhone user agents say "like Mac OS X", Android ones say "Linux".
const SYSTEMS: [RegExp, string][] = [
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux/, "Linux"],
];

const MAX_RAW_LENGTH = 40;

/** A short device label from a user agent: "Chrome 126 on Windows", else the raw start. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  let browser: string | null = null;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(userAgent);
    if (match) {
      browser = `${name} ${match[1]}`;
      break;
    }
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser) return system ? `${browser} on ${system}` : browser;
  return userAgent.length > MAX_RAW_LENGTH ? `${userAgent.slice(0, MAX_RAW_LENGTH)}…` : userAgent;
}

function lastSeen(at: number): string {
  return new Date(at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** Wires the dialog; `onSessionEnded` runs when our own session turns out to be gone. */
export function bindSessions(onSessionEnded: () => void): { open(): void } {
  const dialog = ui.sessionsDialog;

  const showError = (message: string) => {
    ui.sessionsError.textContent = message;
    ui.sessionsError.hidden = !message;
  };

  /** True when the error means our session is over (the dialog is closed then). */
  const ended = (err: unknown) => {
    if (!(err instanceof ApiError) || err.status !== 401) return false;
    dialog.close();
    onSessionEnded();
    return true;
  };

  const item = (session: SessionInfo) => {
    const device = describeDevice(session.userAgent);
    const details = `${session.ip ?? "Unknown IP"} · last active ${lastSeen(session.lastSeenAt)}`;
    let action: HTMLElement;
    if (session.current) {
      action = h("span", { class: "badge" }, "This session");
    } else {
      const button = h(
        "button",
        {
          type: "button",
          class: "danger",
          "data-testid": "revoke-session",
          "aria-label": `Revoke the session on ${device}, ${details}`,
        },
        "Revoke",
      );
      button.addEventListener("click", () => void revoke(session.id, button));
      action = button;
    }
    return h(
      "li",
      {
        class: "session",
        "data-testid": "session-item",
        "data-session-id": session.id,
        "data-current": String(session.current),
      },
      h(
        "div",
        null,
        h("strong", { title: session.userAgent ?? undefined }, device),
        h("span", { class: "details" }, details),
      ),
      action,
    );
  };

  const load = async () => {
    ui.sessionsStatus.textContent = "Loading…";
    try {
      const sessions = await listSessions();
      ui.sessionsList.replaceChildren(...sessions.map(item));
      ui.sessionsStatus.textContent =
        sessions.length === 1 ? "1 active session." : `${sessions.length} active sessions.`;
    } catch (err) {
      if (ended(err)) return;
      ui.sessionsStatus.textContent = "";
      showError(err instanceof Error ? err.message : "Could not load the sessions.");
    }
  };

  const revoke = async (id: string, button: HTMLButtonElement) => {
    button.disabled = true;
    showError("");
    try {
      await revokeSession(id);
    } catch (err) {
      if (ended(err)) return;
      // A 404 means it was already gone (revoked elsewhere, or timed out): the reload shows it.
      if (!(err instanceof ApiError && err.status === 404)) {
        showError(err instanceof Error ? err.message : "The session was not revoked.");
      }
    }
    await load();
    // The clicked button is gone with its row: keep keyboard focus inside the dialog.
    if (!dialog.contains(document.activeElement)) {
      dialog.querySelector<HTMLButtonElement>("[data-close-dialog]")?.focus();
    }
  };

  dialog.querySelector("[data-close-dialog]")?.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    ui.sessionsList.replaceChildren();
    ui.sessionsStatus.textContent = "";
    showError("");
  });

  return {
    open() {
      showError("");
      ui.sessionsList.replaceChildren();
      dialog.showModal();
      void load();
    },
  };
}
