/**
 * Departments and groups: the same shape (id, name, grants, members), so one screen serves
 * both. Departments also carry "require two-factor authentication"; groups can be deleted.
 * Grant changes, renames of departments and deletions need a recent re-authentication,
 * which `callApi` asks for.
 */
import { render, useState } from "hono/jsx/dom";
import type { ManagedSubject } from "../../protocol/management.ts";
import type { Permission } from "../../security/permissions.ts";
import { AdminTable } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { Checklist, ErrorLine, lockedFor, PERMISSION_CHOICES } from "./controls.tsx";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import { useResource } from "./use-resource.ts";

type Kind = "departments" | "groups";

const SINGULAR: Record<Kind, string> = { departments: "department", groups: "group" };

interface TeamProps {
  kind: Kind;
  ctx: ScreenContext;
}

function TeamsScreen({ kind, ctx }: TeamProps) {
  const list = useResource<Record<Kind, ManagedSubject[]>>(`/api/${kind}`);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState("");
  const teams = list.data?.[kind] ?? [];
  const one = SINGULAR[kind];

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    const body: Record<string, unknown> = { id: values.id, name: values.name };
    if (kind === "departments") body.mfaRequired = values.mfaRequired === "on";
    try {
      await callApi("POST", `/api/${kind}`, body);
      form.reset();
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const current = teams.find((t) => t.id === editing);
  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId={`${kind}-load-error`} />
      <form class="admin-form" onSubmit={create} data-testid={`${one}-create`}>
        <h3>New {one}</h3>
        <label>
          Id (lowercase letters, digits, - and _)
          <input name="id" required pattern="[a-z0-9][a-z0-9_\-]{0,62}" data-testid={`${one}-id`} />
        </label>
        <label>
          Name
          <input name="name" required maxlength={100} data-testid={`${one}-name`} />
        </label>
        {kind === "departments" ? (
          <label class="check">
            <input type="checkbox" name="mfaRequired" /> Require two-factor authentication
          </label>
        ) : null}
        <button type="submit" data-testid={`${one}-submit`}>
          Create {one}
        </button>
        <ErrorLine text={error} testId={`${one}-error`} />
      </form>
      <AdminTable
        testId={`${kind}-table`}
        caption={kind === "departments" ? "Departments" : "Groups"}
        columns={[
          "Id",
          "Name",
          "Members",
          ...(kind === "departments" ? ["Two-factor"] : []),
          "Grants",
        ]}
      >
        {teams.map((t) => (
          <tr key={t.id} data-testid={`${one}-row-${t.id}`}>
            <td>{t.id}</td>
            <td>{t.name}</td>
            <td>{t.members}</td>
            {kind === "departments" ? <td>{t.mfaRequired ? "required" : "optional"}</td> : null}
            <td>{t.grants.length}</td>
            <td>
              <button
                type="button"
                class="secondary"
                aria-label={`Edit ${one} ${t.name}`}
                data-testid={`${one}-edit-${t.id}`}
                onClick={() => setEditing(t.id)}
              >
                Edit
              </button>
            </td>
          </tr>
        ))}
      </AdminTable>
      {current ? (
        <TeamEditor
          key={current.id}
          kind={kind}
          team={current}
          held={ctx.me.permissions}
          onChanged={list.reload}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </div>
  );
}

interface EditorProps {
  kind: Kind;
  team: ManagedSubject;
  held: Permission[];
  onChanged(): void;
  onClose(): void;
}

/** Rename, two-factor (departments), grants and deletion (groups) of one team. */
function TeamEditor({ kind, team, held, onChanged, onClose }: EditorProps) {
  const one = SINGULAR[kind];
  const [grants, setGrants] = useState<string[]>(team.grants);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const [confirming, setConfirming] = useState(false);
  const path = `/api/${kind}/${encodeURIComponent(team.id)}`;

  const run = async (what: string, action: () => Promise<unknown>) => {
    setError("");
    setStatus("");
    try {
      await action();
      setStatus(what);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const update = (e: Event) => {
    e.preventDefault();
    const values = formValues(e.target as HTMLFormElement);
    const body: Record<string, unknown> = { name: values.name };
    if (kind === "departments") body.mfaRequired = values.mfaRequired === "on";
    void run("Saved.", () => callApi("PATCH", path, body));
  };
  const saveGrants = () =>
    void run("Grants saved.", () => callApi("PUT", `${path}/grants`, { permissions: grants }));
  const remove = () =>
    void run("Deleted.", async () => {
      await callApi("DELETE", path);
      setConfirming(false);
      onClose();
    });

  return (
    <section
      class="admin-editor"
      aria-label={`Edit ${one} ${team.name}`}
      data-testid={`${one}-editor`}
    >
      <h3>
        {team.name} <span class="details">({team.id})</span>
      </h3>
      <form class="admin-form" onSubmit={update}>
        <label>
          Name
          <input name="name" required maxlength={100} value={team.name} />
        </label>
        {kind === "departments" ? (
          <label class="check">
            <input type="checkbox" name="mfaRequired" checked={team.mfaRequired} /> Require
            two-factor authentication
          </label>
        ) : null}
        <button type="submit">Save</button>
      </form>
      <Checklist
        legend={`Permissions granted to every member of ${team.name}`}
        choices={PERMISSION_CHOICES}
        selected={grants}
        onChange={setGrants}
        locked={lockedFor(held)}
        testId={`${one}-grant`}
      />
      <div class="actions">
        <button type="button" onClick={saveGrants} data-testid={`${one}-save-grants`}>
          Save grants
        </button>
        {kind === "groups" ? (
          <button
            type="button"
            class="danger"
            data-testid="group-delete-open"
            onClick={() => setConfirming(true)}
          >
            Delete group
          </button>
        ) : null}
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <p role="status" class="details" data-testid={`${one}-status`}>
        {status}
      </p>
      <ErrorLine text={error} testId={`${one}-editor-error`} />
      <ConfirmDialog
        open={confirming}
        title="Delete group"
        text={`Delete the group ${team.name}? Its members lose the permissions it grants.`}
        confirmLabel="Delete"
        testId="group-delete"
        error={error}
        onConfirm={remove}
        onCancel={() => setConfirming(false)}
      />
    </section>
  );
}

function teamScreen(kind: Kind): Screen["render"] {
  return (root, ctx) => {
    render(<TeamsScreen kind={kind} ctx={ctx} />, root);
    return undefined;
  };
}

/** `#/departments`. */
export const departmentsScreen: Screen = {
  id: "departments",
  title: "Departments",
  anyOf: ["departments.manage"],
  reaches: [
    "GET /api/departments",
    "POST /api/departments",
    "PATCH /api/departments/:id",
    "PUT /api/departments/:id/grants",
  ],
  render: teamScreen("departments"),
};

/** `#/groups`. */
export const groupsScreen: Screen = {
  id: "groups",
  title: "Groups and permissions",
  anyOf: ["groups.manage"],
  reaches: [
    "GET /api/groups",
    "POST /api/groups",
    "PATCH /api/groups/:id",
    "PUT /api/groups/:id/grants",
    "DELETE /api/groups/:id",
  ],
  render: teamScreen("groups"),
};
