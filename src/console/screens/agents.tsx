/**
 * Agents: list, create (the new agent chooses a password through a one-time link, shown
 * here once and never again), disable and enable, unlock, issue a password link, and set
 * departments, groups and own grants with a preview of the resulting effective permissions.
 * Every change needs a recent re-authentication (`callApi` asks for it); the server refuses
 * changes beyond the editor's own permissions, and the refusal is shown.
 */
import { render, useState } from "hono/jsx/dom";
import type {
  ManagedAgent,
  ManagedSubject,
  PasswordLinkResponse,
} from "../../protocol/management.ts";
import type { Permission } from "../../security/permissions.ts";
import { AdminTable } from "./admin-table.tsx";
import { asChoices, CapacityForm, CreateAgent, LinkBox, type Teams } from "./agent-forms.tsx";
import {
  Checklist,
  EffectivePreview,
  ErrorLine,
  lockedFor,
  PERMISSION_CHOICES,
} from "./controls.tsx";
import { effectiveSources } from "./effective.ts";
import { formatTime } from "./format.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import { useResource } from "./use-resource.ts";

function AgentsScreen({ ctx }: { ctx: ScreenContext }) {
  const list = useResource<{ agents: ManagedAgent[] }>("/api/agents");
  const departments = useResource<{ departments: ManagedSubject[] }>("/api/departments");
  const groups = useResource<{ groups: ManagedSubject[] }>("/api/groups");
  const [editing, setEditing] = useState<string | null>(null);
  const [link, setLink] = useState<PasswordLinkResponse | null>(null);
  const [error, setError] = useState("");
  const teams: Teams = {
    departments: departments.data?.departments ?? [],
    groups: groups.data?.groups ?? [],
  };
  const agents = list.data?.agents ?? [];

  const act = async (
    agent: ManagedAgent,
    action: "disable" | "enable" | "unlock" | "password-link",
  ) => {
    setError("");
    try {
      const path = `/api/agents/${encodeURIComponent(agent.id)}/${action}`;
      const answer = await callApi<PasswordLinkResponse>("POST", path);
      if (action === "password-link") setLink(answer);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const current = agents.find((a) => a.id === editing);
  return (
    <div class="admin-screen">
      <ErrorLine
        text={list.error || departments.error || groups.error}
        testId="agents-load-error"
      />
      <CreateAgent
        teams={teams}
        onCreated={(answer) => {
          setLink(answer);
          list.reload();
        }}
      />
      {link ? <LinkBox link={link} onDismiss={() => setLink(null)} /> : null}
      <ErrorLine text={error} testId="agent-action-error" />
      {/* The last column is the inactivity clock: last sign-in, or creation or re-enabling. */}
      <AdminTable
        testId="agents-table"
        caption="Agents"
        columns={["Name", "Email", "Departments", "Groups", "State", "Last sign-in or enabled"]}
      >
        {agents.map((a) => {
          const locked = a.lockedUntil !== null && a.lockedUntil > Date.now();
          return (
            <tr key={a.id} data-testid={`agent-row-${a.email}`}>
              <td>{a.name}</td>
              <td>{a.email}</td>
              <td>{a.departments.join(", ") || "general"}</td>
              <td>{a.groups.join(", ")}</td>
              <td>
                {a.disabledAt !== null ? "disabled" : locked ? "locked" : "active"}
                {a.mfaEnabled ? " · 2FA" : ""}
              </td>
              <td>{formatTime(a.lastLoginAt)}</td>
              <td class="row-actions">
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Edit ${a.name}`}
                  data-testid="agent-edit"
                  onClick={() => setEditing(a.id)}
                >
                  Edit
                </button>
                {a.disabledAt === null ? (
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Disable ${a.name}`}
                    data-testid="agent-disable"
                    onClick={() => void act(a, "disable")}
                  >
                    Disable
                  </button>
                ) : (
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Enable ${a.name}`}
                    data-testid="agent-enable"
                    onClick={() => void act(a, "enable")}
                  >
                    Enable
                  </button>
                )}
                {locked ? (
                  <button
                    type="button"
                    class="secondary"
                    aria-label={`Unlock ${a.name}`}
                    data-testid="agent-unlock"
                    onClick={() => void act(a, "unlock")}
                  >
                    Unlock
                  </button>
                ) : null}
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Password link for ${a.name}`}
                  data-testid="agent-password-link"
                  onClick={() => void act(a, "password-link")}
                >
                  Password link
                </button>
              </td>
            </tr>
          );
        })}
      </AdminTable>
      {current ? (
        <AgentEditor
          key={current.id}
          agent={current}
          teams={teams}
          held={ctx.me.permissions}
          canRoute={ctx.can("routing.manage")}
          onChanged={list.reload}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </div>
  );
}

interface EditorProps {
  agent: ManagedAgent;
  teams: Teams;
  held: Permission[];
  /** May set the agent's capacity (`routing.manage`). */
  canRoute: boolean;
  onChanged(): void;
  onClose(): void;
}

/** Departments, groups and own grants, with the effective permissions they would give. */
function AgentEditor({ agent, teams, held, canRoute, onChanged, onClose }: EditorProps) {
  const [chosenDepartments, setDepartments] = useState<string[]>(agent.departments);
  const [chosenGroups, setGroups] = useState<string[]>(agent.groups);
  const [grants, setGrants] = useState<string[]>(agent.grants);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const sources = effectiveSources(
    { grants: grants as Permission[], departments: chosenDepartments, groups: chosenGroups },
    teams.departments,
    teams.groups,
  );
  const path = `/api/agents/${encodeURIComponent(agent.id)}`;
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x) => b.includes(x));

  const save = async () => {
    setError("");
    setStatus("");
    try {
      // One call per changed part: each is reviewed (and audited) on its own by the server.
      if (!same(chosenDepartments, agent.departments)) {
        await callApi("PUT", `${path}/departments`, { departments: chosenDepartments });
      }
      if (!same(chosenGroups, agent.groups)) {
        await callApi("PUT", `${path}/groups`, { groups: chosenGroups });
      }
      if (!same(grants, agent.grants)) {
        await callApi("PUT", `${path}/grants`, { permissions: grants });
      }
      const fresh = await callApi<{ agent: ManagedAgent }>("GET", path);
      setStatus(`Saved: ${fresh.agent.permissions.length} effective permissions.`);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section class="admin-editor" aria-label={`Edit ${agent.name}`} data-testid="agent-editor">
      <h3>
        {agent.name} <span class="details">({agent.email})</span>
      </h3>
      <div class="editor-columns">
        <div>
          <Checklist
            legend="Departments"
            choices={asChoices(teams.departments)}
            selected={chosenDepartments}
            onChange={setDepartments}
            testId="agent-department"
          />
          <Checklist
            legend="Groups"
            choices={asChoices(teams.groups)}
            selected={chosenGroups}
            onChange={setGroups}
            testId="agent-group"
          />
          <Checklist
            legend="Own grants"
            choices={PERMISSION_CHOICES}
            selected={grants}
            onChange={setGrants}
            locked={lockedFor(held)}
            testId="agent-grant"
          />
        </div>
        <EffectivePreview sources={sources} testId="effective-preview" />
      </div>
      <div class="actions">
        <button type="button" onClick={() => void save()} data-testid="agent-save">
          Save
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <p role="status" class="details" data-testid="agent-status">
        {status}
      </p>
      <ErrorLine text={error} testId="agent-editor-error" />
      {canRoute ? <CapacityForm agentId={agent.id} /> : null}
    </section>
  );
}

/** `#/agents`. */
export const agentsScreen: Screen = {
  id: "agents",
  title: "Agents",
  anyOf: ["agents.manage"],
  reaches: [
    "GET /api/agents",
    "GET /api/agents/:id",
    "POST /api/agents",
    "POST /api/agents/:id/disable",
    "POST /api/agents/:id/enable",
    "POST /api/agents/:id/unlock",
    "POST /api/agents/:id/password-link",
    "PUT /api/agents/:id/departments",
    "PUT /api/agents/:id/groups",
    "PUT /api/agents/:id/grants",
    "GET /api/departments",
    "GET /api/groups",
    "PUT /api/routing/capacity/:agentId",
  ],
  render(root, ctx) {
    render(<AgentsScreen ctx={ctx} />, root);
    return undefined;
  },
};
