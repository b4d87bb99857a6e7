/**
 * Custom variables: what the embedding site may set when a chat starts (name, label, type,
 * longest value, shown to agents or not). Declare, edit (everything but the name) and delete
 * after a confirmation.
 */
import { render, useState } from "hono/jsx/dom";
import type {
  VariableDeclaration,
  VariableListResponse,
  VariableType,
} from "../../protocol/variables.ts";
import { AdminTable, EditDeleteButtons, SaveCancel } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";
import { useResource } from "./use-resource.ts";

/** Every type, labelled (a Record, so a new type in the protocol fails to compile here). */
const TYPE_LABELS: Record<VariableType, string> = {
  string: "Text",
  number: "Number",
  boolean: "Yes / no",
  email: "Email address",
  url: "Web address",
};
const TEXT_TYPES = new Set<string>(["string", "email", "url"]);

/** The request fields of a declaration form (`maxLength` for text types only). */
function fieldsOf(values: Record<string, string>) {
  const type = (values.type ?? "string") as VariableType;
  return {
    label: values.label ?? "",
    type,
    visibleToAgents: values.visibleToAgents === "on",
    ...(TEXT_TYPES.has(type) && values.maxLength ? { maxLength: Number(values.maxLength) } : {}),
  };
}

function VariablesScreen() {
  const list = useResource<VariableListResponse>("/api/variables");
  const [editing, setEditing] = useState<VariableDeclaration | null>(null);
  const [deleting, setDeleting] = useState<VariableDeclaration | null>(null);
  const [error, setError] = useState("");

  const send = async (action: () => Promise<unknown>, after: () => void) => {
    try {
      await action();
      setError("");
      after();
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    void send(
      () => callApi("POST", "/api/variables", { name: values.name, ...fieldsOf(values) }),
      () => form.reset(),
    );
  };
  const update = (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    const values = formValues(e.target as HTMLFormElement);
    const path = `/api/variables/${encodeURIComponent(editing.name)}`;
    void send(
      () => callApi("PUT", path, fieldsOf(values)),
      () => setEditing(null),
    );
  };
  const remove = () => {
    if (!deleting) return;
    const path = `/api/variables/${encodeURIComponent(deleting.name)}`;
    void send(
      () => callApi("DELETE", path),
      () => setDeleting(null),
    );
  };

  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId="variables-load-error" />
      <form class="admin-form" onSubmit={create} data-testid="variable-create">
        <h3>New variable</h3>
        <label>
          Name (as the site sends it)
          <input
            name="name"
            data-testid="variable-name"
            required
            maxlength={64}
            pattern="[A-Za-z][A-Za-z0-9_.\-]{0,63}"
          />
        </label>
        <VariableFields />
        <button type="submit" data-testid="variable-submit">
          Declare
        </button>
      </form>
      <ErrorLine text={error} testId="variable-error" />
      <AdminTable
        testId="variables-table"
        caption="Custom variables"
        columns={["Name", "Label", "Type", "Longest", "Agents see it"]}
      >
        {(list.data?.variables ?? []).map((v) => (
          <tr key={v.name}>
            <td>
              <code>{v.name}</code>
            </td>
            <td>{v.label}</td>
            <td>{TYPE_LABELS[v.type]}</td>
            <td>{v.maxLength ?? "—"}</td>
            <td>{v.visibleToAgents ? "yes" : "no"}</td>
            <td class="row-actions">
              <EditDeleteButtons
                name={v.name}
                onEdit={() => setEditing(v)}
                onDelete={() => setDeleting(v)}
              />
            </td>
          </tr>
        ))}
      </AdminTable>
      {editing ? (
        <form
          key={editing.name}
          class="admin-editor"
          onSubmit={update}
          aria-label={`Edit ${editing.name}`}
        >
          <h3>
            Edit <code>{editing.name}</code>
          </h3>
          <VariableFields variable={editing} />
          <SaveCancel onCancel={() => setEditing(null)} />
        </form>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete variable"
        text={`Delete the variable ${deleting?.name ?? ""}? Sites can no longer set it.`}
        confirmLabel="Delete"
        testId="variable-delete"
        onConfirm={remove}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}

/** Label, type, longest value and visibility, filled from `variable` when editing. */
function VariableFields(props: { variable?: VariableDeclaration }) {
  const v = props.variable;
  return (
    <>
      <label>
        Label (shown to agents)
        <input
          name="label"
          required
          maxlength={100}
          value={v?.label ?? ""}
          data-testid="variable-label"
        />
      </label>
      <label>
        Type
        <select name="type">
          {Object.entries(TYPE_LABELS).map(([id, label]) => (
            <option key={id} value={id} selected={id === (v?.type ?? "string")}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Longest value (text types; empty: 500)
        <input name="maxLength" type="number" min={1} max={500} value={v?.maxLength ?? ""} />
      </label>
      <label class="check">
        <input type="checkbox" name="visibleToAgents" checked={v?.visibleToAgents ?? true} /> Shown
        to agents
      </label>
    </>
  );
}

/** `#/variables`. */
export const variablesScreen: Screen = {
  id: "variables",
  title: "Custom variables",
  anyOf: ["variables.manage"],
  reaches: [
    "GET /api/variables",
    "POST /api/variables",
    "PUT /api/variables/:name",
    "DELETE /api/variables/:name",
  ],
  render(root) {
    render(<VariablesScreen />, root);
    return undefined;
  },
};
