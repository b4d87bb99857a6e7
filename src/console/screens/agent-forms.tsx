/**
 * The agents screen's forms: a new agent (no password: the agent chooses one through a
 * one-time link), the link itself (shown once), and the agent's capacity.
 */
import { useState } from "hono/jsx/dom";
import type { ManagedSubject, PasswordLinkResponse } from "../../protocol/management.ts";
import type { AgentCapacityResponse } from "../../protocol/routing.ts";
import { Checklist, ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";

/** The departments and groups an agent can be put in. */
export interface Teams {
  departments: ManagedSubject[];
  groups: ManagedSubject[];
}

/** Departments or groups as checklist choices. */
export const asChoices = (teams: ManagedSubject[]) =>
  teams.map((t) => ({ id: t.id, label: t.name }));

/** The new agent's form: no password here, the agent chooses one through the link. */
export function CreateAgent(props: {
  teams: Teams;
  onCreated(answer: PasswordLinkResponse): void;
}) {
  const [chosenDepartments, setDepartments] = useState<string[]>([]);
  const [chosenGroups, setGroups] = useState<string[]>([]);
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    try {
      const answer = await callApi<PasswordLinkResponse>("POST", "/api/agents", {
        email: values.email,
        name: values.name,
        departments: chosenDepartments,
        groups: chosenGroups,
      });
      form.reset();
      setDepartments([]);
      setGroups([]);
      setError("");
      props.onCreated(answer);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="admin-form" onSubmit={submit} data-testid="agent-create">
      <h3>New agent</h3>
      <label>
        Email
        <input
          name="email"
          type="email"
          required
          maxlength={254}
          autocomplete="off"
          data-testid="agent-email"
        />
      </label>
      <label>
        Name
        <input
          name="name"
          required
          maxlength={100}
          autocomplete="off"
          data-testid="agent-name-input"
        />
      </label>
      <Checklist
        legend="Departments"
        choices={asChoices(props.teams.departments)}
        selected={chosenDepartments}
        onChange={setDepartments}
        testId="agent-create-department"
      />
      <Checklist
        legend="Groups"
        choices={asChoices(props.teams.groups)}
        selected={chosenGroups}
        onChange={setGroups}
        testId="agent-create-group"
      />
      <button type="submit" data-testid="agent-submit">
        Create agent
      </button>
      <ErrorLine text={error} testId="agent-create-error" />
    </form>
  );
}

/** The one-time link: shown once, to be handed to the agent over a trusted channel. */
export function LinkBox(props: { link: PasswordLinkResponse; onDismiss(): void }) {
  return (
    <section
      class="link-box"
      role="status"
      aria-label="One-time password link"
      data-testid="password-link-box"
    >
      <p>
        Give this one-time link to {props.link.agent.name} ({props.link.agent.email}). It lets them
        choose a password, works once, expires {formatTime(props.link.expiresAt)}, and is not shown
        again.
      </p>
      <input
        readonly
        aria-label="One-time password link"
        value={props.link.link}
        data-testid="password-link"
        onFocus={(e: Event) => (e.target as HTMLInputElement).select()}
      />
      <button type="button" class="secondary" onClick={props.onDismiss}>
        Done
      </button>
    </section>
  );
}

/** The most chats the agent takes at once (a routing setting, `routing.manage`). */
export function CapacityForm({ agentId }: { agentId: string }) {
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    const { maxChats } = formValues(e.target as HTMLFormElement);
    try {
      const path = `/api/routing/capacity/${encodeURIComponent(agentId)}`;
      const answer = await callApi<AgentCapacityResponse>("PUT", path, {
        maxChats: maxChats ? Number(maxChats) : null,
      });
      setStatus(`Capacity in effect: ${answer.capacity} chats.`);
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="admin-form" onSubmit={submit} aria-label="Capacity">
      <label>
        Most chats at once (1–50; empty: the deployment's default)
        <input name="maxChats" type="number" min={1} max={50} data-testid="agent-max-chats" />
      </label>
      <button type="submit">Set capacity</button>
      <p role="status" class="details">
        {status}
      </p>
      <ErrorLine text={error} />
    </form>
  );
}
