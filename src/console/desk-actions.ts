/**
 * A chat panel's desk controls (issue 7's actions, issue 11's workspace): write an internal
 * note (whisper) instead of a message, transfer the chat to a colleague or a department,
 * invite a colleague in, leave a chat one joined. Each control shows only with its permission
 * and in the socket modes where the server accepts it; the server checks again and its
 * refusal is shown as the panel's error.
 */
import type { DeskFrame } from "../client/chat-connection.ts";
import { h, uid } from "../client/dom.ts";
import type { Permission } from "../security/permissions.ts";

/** How the agent's socket is in the chat (the server's `mode` query parameter). */
export type ChatMode = "participate" | "join" | "monitor";

export interface DeskActionsOptions {
  mode: ChatMode;
  permissions: readonly Permission[];
  act(frame: DeskFrame): boolean;
  showError(message: string): void;
}

export interface DeskActions {
  /** The toolbar (empty for monitors: they only watch). */
  el: HTMLElement;
  /** True while "internal note" is ticked: the composer then sends whispers. */
  whispering(): boolean;
  /** The chat is over: every control is disabled. */
  end(): void;
}

const NOT_CONNECTED = "Not connected. Try again in a moment.";

/** A small inline form behind a disclosure: one text field and a submit button. */
function inlineForm(
  label: string,
  testId: string,
  fields: HTMLElement[],
  onSubmit: () => void,
): HTMLElement {
  const form = h(
    "form",
    { class: "desk-form" },
    ...fields,
    h("button", { type: "submit", "data-testid": `${testId}-submit` }, label),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    onSubmit();
  });
  return h(
    "details",
    { class: "desk-action", "data-testid": testId },
    h("summary", null, label),
    form,
  );
}

/** A labelled text input. */
function field(label: string, testId: string, attrs: Record<string, string | number> = {}) {
  const id = uid(testId);
  const input = h("input", { id, type: "text", "data-testid": testId, ...attrs });
  return { input, els: [h("label", { for: id }, label), input] };
}

/** Builds the controls for one chat panel. */
export function deskActions(opts: DeskActionsOptions): DeskActions {
  const can = (p: Permission) => opts.permissions.includes(p);
  const send = (frame: DeskFrame) => {
    opts.showError("");
    if (!opts.act(frame)) opts.showError(NOT_CONNECTED);
  };
  const controls: HTMLElement[] = [];
  const whisperId = uid("whisper");
  const whisper = h("input", { id: whisperId, type: "checkbox", "data-testid": "whisper-toggle" });

  if (opts.mode !== "monitor") {
    controls.push(
      h(
        "span",
        { class: "whisper" },
        whisper,
        h("label", { for: whisperId }, "Internal note (agents only)"),
      ),
    );
  }
  if (opts.mode === "participate" && can("chats.transfer")) {
    const agent = field("Agent id", "transfer-agent", { maxlength: 64, autocomplete: "off" });
    const department = field("or department", "transfer-department", { maxlength: 64 });
    controls.push(
      inlineForm("Transfer", "transfer", [...agent.els, ...department.els], () => {
        const agentId = agent.input.value.trim();
        const dept = department.input.value.trim();
        if (!agentId === !dept) {
          opts.showError("Give either an agent id or a department.");
          return;
        }
        send(agentId ? { type: "transfer", agentId } : { type: "transfer", department: dept });
      }),
    );
  }
  if (opts.mode === "participate" && can("chats.invite")) {
    const agent = field("Agent id", "invite-agent", { maxlength: 64, autocomplete: "off" });
    controls.push(
      inlineForm("Invite", "invite", agent.els, () => {
        const agentId = agent.input.value.trim();
        if (agentId) send({ type: "invite", agentId });
      }),
    );
  }
  const leave = h(
    "button",
    { type: "button", class: "secondary", "data-testid": "leave-chat" },
    "Leave",
  );
  leave.addEventListener("click", () => send({ type: "leave" }));
  // The owner cannot leave (they transfer or end): only a joined or invited agent sees it,
  // and an invited agent's socket is a participant's, so the server has the last word.
  if (opts.mode === "join") controls.push(leave);

  const el = h("div", { class: "desk-actions", "data-testid": "desk-actions" }, ...controls);
  return {
    el,
    whispering: () => whisper.checked,
    end() {
      for (const control of el.querySelectorAll<HTMLInputElement | HTMLButtonElement>(
        "input, button",
      )) {
        control.disabled = true;
      }
    },
  };
}
