/**
 * API calls of the console's screens. Sensitive changes answer 403 `reauth_required` when the
 * sign-in is a few minutes old: the call then opens the "confirm it's you" dialog (the same
 * form as the workspace's, reauth.ts) and is repeated once the agent confirmed. Every other
 * failure is thrown as an {@link ApiError} for the screen to show — a 403 is the server's
 * word and is displayed, never hidden.
 */
import { ApiError } from "../../client/http.ts";
import { apiRequest } from "../api.ts";
import { needsReauth, reauthForm } from "../reauth.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Sends the call; after a confirmed re-authentication, sends it once more. */
export async function callApi<T>(method: Method, path: string, body?: unknown): Promise<T> {
  try {
    return (await apiRequest<T>(path, method, body)).data;
  } catch (err) {
    if (!needsReauth(err) || !(await confirmIdentity())) throw err;
    return (await apiRequest<T>(path, method, body)).data;
  }
}

/** What to show for a failed call: a refusal says so plainly, anything else its message. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError && err.code === "forbidden") {
    return `Not allowed: ${err.message}`;
  }
  if (err instanceof ApiError && err.code === "reauth_required") {
    return "Cancelled: this change needs you to confirm it's you.";
  }
  return err instanceof Error ? err.message : "Something went wrong.";
}

/**
 * Shows the re-authentication form in a modal dialog; resolves true once confirmed, false
 * when cancelled. If the session ended meanwhile the page reloads, which shows the sign-in
 * form (the screens have no other way back to it).
 */
function confirmIdentity(): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "dialog";
    dialog.setAttribute("aria-label", "Confirm it's you");
    dialog.dataset.testid = "reauth-dialog";
    const finish = (done: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(done);
    };
    const form = reauthForm({
      onDone: () => finish(true),
      onCancel: () => finish(false),
      onSessionEnded: () => location.reload(),
    });
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      finish(false);
    });
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector("input")?.focus();
  });
}
