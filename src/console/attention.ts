/**
 * Getting the agent's attention, and getting around by keyboard: a sound when a chat is
 * offered (switchable, remembered in this browser), and the workspace's shortcuts —
 *
 *   Alt+Shift+A  accept the oldest offer        Alt+Shift+N / P  next / previous chat
 *   Alt+Shift+W  back to the workspace          Alt+Shift+S      sound on offers on/off
 *
 * Alt+Shift keeps clear of the browser's and screen readers' own keys. The buttons they press
 * carry `aria-keyshortcuts`, so assistive technology announces them.
 */
import { beep } from "../client/beep.ts";
import { h, uid } from "../client/dom.ts";

const SOUND_KEY = "parley.console.sound";

/** Whether offers make a sound (on until the agent turns it off). */
function soundOn(): boolean {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true;
  }
}

function setSound(on: boolean): void {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // Without storage the choice lasts until the page is reloaded.
  }
}

/** A new offer arrived: beep, if the agent wants sound. */
export function announceOffer(): void {
  if (soundOn()) beep();
}

/** The "Sound on offers" checkbox for the sidebar. */
export function soundToggle(): HTMLElement {
  const id = uid("offer-sound");
  const box = h("input", {
    id,
    type: "checkbox",
    "data-testid": "offer-sound",
    "aria-keyshortcuts": "Alt+Shift+S",
    checked: soundOn(),
  });
  box.addEventListener("change", () => setSound(box.checked));
  return h("p", { class: "sound-toggle" }, box, h("label", { for: id }, "Sound on offers"));
}

/** The chat panels' composers, in page order. */
const composers = () =>
  [...document.querySelectorAll<HTMLTextAreaElement>('[data-testid="chat-panel"] textarea')].filter(
    (input) => !input.disabled,
  );

/** Moves focus to the next (+1) or previous (−1) open chat's composer, wrapping around. */
function cycleChats(step: 1 | -1): void {
  const inputs = composers();
  if (inputs.length === 0) return;
  const at = inputs.findIndex((input) =>
    input.closest("section")?.contains(document.activeElement),
  );
  const next = inputs[(at + step + inputs.length) % inputs.length];
  next?.focus();
}

/** Installs the workspace's keyboard shortcuts (once per page). */
export function bindShortcuts(): void {
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    const key = e.code.replace(/^Key/, "");
    if (key === "A") {
      document.querySelector<HTMLButtonElement>('[data-testid="accept-offer"]:enabled')?.click();
    } else if (key === "N" || key === "P") {
      if (location.hash && location.hash !== "#/workspace") location.hash = "#/workspace";
      cycleChats(key === "N" ? 1 : -1);
    } else if (key === "W") {
      location.hash = "#/workspace";
    } else if (key === "S") {
      const box = document.querySelector<HTMLInputElement>('[data-testid="offer-sound"]');
      box?.click();
    } else {
      return;
    }
    e.preventDefault();
  });
}
