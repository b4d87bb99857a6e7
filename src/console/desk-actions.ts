/**
 * A chat panel's desk controls (issue 7's actions, issue 11's workspace): write an internal
 * note (whisper) instead of a message, transfer the chat to a colleague (picked from the
 * agents of one's departments) or a department, invite a colleague in, leave a chat one joined. Each control shows only with its permission
 * and in the socket modes where the server accepts it; the server checks again and its
 * refusal is shown as the panel's error.
 */
import type { DeskFrame } from "../client/chat-connection.ts";
import { h, uid } from "../client/dom.ts";
import type { ColleagueListResponse } from "../protocol/colleagues.ts";
import type { Permission } from "../security/permissions.ts";
import { apiRequest } from "./api.ts";

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

/**
 * A small inline form behind a disclosure: its fields and a submit button. `onOpen` runs each
 * time it is opened (to load the colleague list fresh).
 */
function inlineForm(
  label: string,
  testId: string,
  fields: HTMLElement[],
  onSubmit: () => void,
  onOpen: () => void,
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
  const details = h(
    "details",
    { class: "desk-action", "data-testid": testId },
    h("summary", null, label),
    form,
  );
  details.addEventListener("toggle", () => details.open && onOpen());
  return details;
}

/**
 * A labelled colleague picker (`GET /api/agent/colleagues`: the agents of one's departments);
 * `load()` fills it, keeping the choice when the colleague is still listed.
 */
function colleaguePicker(label: string, testId: string, showError: (message: string) => void) {
  const id = uid(testId);
  const select = h("select", { id, "data-testid": testId }, h("option", { value: "" }, "—"));
  const load = () => {
    const chosen = select.value;
    apiRequest<ColleagueListResponse>("/api/agent/colleagues", "GET").then(
      ({ data }) => {
        select.replaceChildren(
          h("option", { value: "" }, "—"),
          ...data.colleagues.map((c) => h("option", { value: c.id }, c.name)),
        );
        select.value = chosen;
      },
      (err: unknown) =>
        showError(err instanceof Error ? err.message : "Loading colleagues failed."),
    );
  };
  return { select, load, els: [h("label", { for: id }, label), select] };
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
    const agent = colleaguePicker("To a colleague", "transfer-agent", opts.showError);
    const department = field("or a department", "transfer-department", { maxlength: 64 });
    controls.push(
      inlineForm(
        "Transfer",
        "transfer",
        [...agent.els, ...department.els],
        () => {
          const agentId = agent.select.value;
          const dept = department.input.value.trim();
          if (!agentId === !dept) {
            opts.showError("Choose a colleague or give a department, not both.");
            return;
          }
          send(agentId ? { type: "transfer", agentId } : { type: "transfer", department: dept });
        },
        agent.load,
      ),
    );
  }
  if (opts.mode === "participate" && can("chats.invite")) {
    const agent = colleaguePicker("Colleague", "invite-agent", opts.showError);
    controls.push(
      inlineForm(
        "Invite",
        "invite",
        agent.els,
        () => {
          if (agent.select.value) send({ type: "invite", agentId: agent.select.value });
        },
        agent.load,
      ),
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
