/**
 * The composer's `/` shortcut: typing `/greet` and pressing Tab replaces it with the canned
 * message whose shortcut is `greet` (personal, department or global, as the server lists them
 * for this agent), its placeholders filled with this chat's values. Nothing is sent: the agent
 * reads, edits and sends it as an ordinary message.
 */
import { type PlaceholderValues, renderCannedMessage } from "../desk/canned-placeholders.ts";
import type { CannedMessageListResponse } from "../protocol/canned-messages.ts";
import { apiRequest } from "./api.ts";

const SHORTCUT = /^\/([a-z0-9][a-z0-9_-]{0,31})$/;

/** Wires Tab on `input`; `values()` gives the placeholders' values at that moment. */
export function bindCannedShortcut(
  input: HTMLTextAreaElement,
  values: () => PlaceholderValues,
  showError: (message: string) => void,
): void {
  input.addEventListener("keydown", (e) => {
    const match = SHORTCUT.exec(input.value.trim().toLowerCase());
    if (e.key !== "Tab" || e.shiftKey || !match?.[1]) return;
    // Only a complete `/shortcut` takes Tab; otherwise Tab moves focus as usual.
    e.preventDefault();
    const shortcut = match[1];
    void apiRequest<CannedMessageListResponse>(
      `/api/canned-messages?q=${encodeURIComponent(shortcut)}`,
      "GET",
    ).then(
      ({ data }) => {
        const found = data.cannedMessages.find((m) => m.shortcut === shortcut);
        if (!found) {
          showError(`No canned message has the shortcut /${shortcut}.`);
          return;
        }
        showError("");
        input.value = renderCannedMessage(found.text, values());
        input.setSelectionRange(input.value.length, input.value.length);
      },
      (err: unknown) => showError(err instanceof Error ? err.message : "Canned messages failed."),
    );
  });
}
