/** The sign-in form. */

import type { AgentProfile } from "../protocol/http.ts";
import { login } from "./api.ts";
import { ui } from "./elements.ts";

/** Wires the form; `onSignedIn` runs after a successful login. */
export function bindLogin(onSignedIn: (agent: AgentProfile) => void): void {
  ui.loginForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    ui.loginSubmit.disabled = true;
    ui.loginError.hidden = true;
    try {
      const agent = await login({
        email: ui.loginEmail.value.trim(),
        password: ui.loginPassword.value,
      });
      ui.loginPassword.value = "";
      onSignedIn(agent);
    } catch (err) {
      ui.loginError.textContent = err instanceof Error ? err.message : "Sign-in failed.";
      ui.loginError.hidden = false;
      ui.loginPassword.value = "";
      ui.loginPassword.focus();
    } finally {
      ui.loginSubmit.disabled = false;
    }
  });
}

/** Shows the sign-in form, with an optional message (e.g. "session expired"). */
export function showLogin(message = ""): void {
  ui.loading.hidden = true;
  ui.workspace.hidden = true;
  ui.agentBar.hidden = true;
  ui.loginView.hidden = false;
  ui.loginError.textContent = message;
  ui.loginError.hidden = !message;
  ui.loginEmail.focus();
}
