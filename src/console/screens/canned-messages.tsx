/**
 * Canned messages: every agent keeps personal ones; with `canned_messages.manage` also those
 * of their departments and global ones. Search, create, edit (shortcut, title, text — the
 * scope stays as created) and delete after a confirmation. The server says which messages
 * the agent may change (`editable`).
 */
import { render, useState } from "hono/jsx/dom";
import type {
  CannedMessage,
  CannedMessageListResponse,
  CannedScope,
} from "../../protocol/canned-messages.ts";
import { AdminTable, EditDeleteButtons, SaveCancel } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { formValues, withQuery } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import { useResource } from "./use-resource.ts";

const SCOPE_LABELS: Record<CannedScope, string> = {
  personal: "Personal (only you)",
  department: "Department",
  global: "Global (every agent)",
};

/** The editable fields of a form, with an empty shortcut meaning none. */
function fieldsOf(values: Record<string, string>) {
  return {
    shortcut: values.shortcut?.trim() ? values.shortcut.trim() : null,
    title: values.title ?? "",
    text: values.text ?? "",
  };
}

function CannedScreen({ ctx }: { ctx: ScreenContext }) {
  const [q, setQ] = useState("");
  const list = useResource<CannedMessageListResponse>(withQuery("/api/canned-messages", { q }));
  const [scope, setScope] = useState<CannedScope>("personal");
  const [editing, setEditing] = useState<CannedMessage | null>(null);
  const [deleting, setDeleting] = useState<CannedMessage | null>(null);
  const [error, setError] = useState("");
  const manager = ctx.can("canned_messages.manage");
  const scopes: CannedScope[] = manager ? ["personal", "department", "global"] : ["personal"];

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    const body = {
      scope,
      ...fieldsOf(values),
      ...(scope === "department" ? { department: values.department } : {}),
    };
    try {
      await callApi("POST", "/api/canned-messages", body);
      form.reset();
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const update = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    const values = formValues(e.target as HTMLFormElement);
    try {
      await callApi(
        "PUT",
        `/api/canned-messages/${encodeURIComponent(editing.id)}`,
        fieldsOf(values),
      );
      setEditing(null);
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async () => {
    if (!deleting) return;
    try {
      await callApi("DELETE", `/api/canned-messages/${encodeURIComponent(deleting.id)}`);
      setDeleting(null);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId="canned-load-error" />
      <form class="admin-form" onSubmit={create} data-testid="canned-create">
        <h3>New canned message</h3>
        <label>
          Who sees it
          <select
            name="scope"
            onChange={(e: Event) => setScope((e.target as HTMLSelectElement).value as CannedScope)}
          >
            {scopes.map((s) => (
              <option key={s} value={s} selected={s === scope}>
                {SCOPE_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        {scope === "department" ? (
          <label>
            Department
            <select name="department">
              {ctx.me.departments.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <CannedFields />
        <button type="submit" data-testid="canned-submit">
          Create
        </button>
        <ErrorLine text={error} testId="canned-error" />
      </form>
      <label class="search">
        Search
        <input
          type="search"
          value={q}
          onChange={(e: Event) => setQ((e.target as HTMLInputElement).value)}
        />
      </label>
      <AdminTable
        testId="canned-table"
        caption="Canned messages"
        columns={["Shortcut", "Title", "Text", "Scope"]}
      >
        {(list.data?.cannedMessages ?? []).map((m) => (
          <tr key={m.id}>
            <td>{m.shortcut ? `/${m.shortcut}` : "—"}</td>
            <td>{m.title}</td>
            <td class="pre">{m.text}</td>
            <td>{m.scope === "department" ? `department ${m.department}` : m.scope}</td>
            <td class="row-actions">
              {m.editable ? (
                <EditDeleteButtons
                  name={m.title}
                  onEdit={() => setEditing(m)}
                  onDelete={() => setDeleting(m)}
                />
              ) : null}
            </td>
          </tr>
        ))}
      </AdminTable>
      {editing ? (
        <form
          key={editing.id}
          class="admin-editor"
          onSubmit={update}
          aria-label={`Edit ${editing.title}`}
        >
          <h3>Edit "{editing.title}"</h3>
          <CannedFields message={editing} />
          <SaveCancel onCancel={() => setEditing(null)} />
        </form>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete canned message"
        text={`Delete "${deleting?.title ?? ""}"?`}
        confirmLabel="Delete"
        testId="canned-delete"
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}

/** Shortcut, title and text inputs, filled from `message` when editing. */
function CannedFields(props: { message?: CannedMessage }) {
  return (
    <>
      <label>
        Shortcut (typed as /shortcut; optional)
        <input
          name="shortcut"
          maxlength={32}
          pattern="[a-z0-9][a-z0-9_\-]{0,31}"
          value={props.message?.shortcut ?? ""}
        />
      </label>
      <label>
        Title
        <input
          name="title"
          required
          maxlength={100}
          value={props.message?.title ?? ""}
          data-testid="canned-title"
        />
      </label>
      <label>
        Text
        <textarea
          data-testid="canned-text"
          name="text"
          required
          maxlength={2000}
          rows={3}
          value={props.message?.text ?? ""}
        />
      </label>
    </>
  );
}

/** `#/canned-messages`. */
export const cannedMessagesScreen: Screen = {
  id: "canned-messages",
  title: "Canned messages",
  anyOf: [],
  reaches: [
    "GET /api/canned-messages",
    "POST /api/canned-messages",
    "PUT /api/canned-messages/:id",
    "DELETE /api/canned-messages/:id",
  ],
  render(root, ctx) {
    render(<CannedScreen ctx={ctx} />, root);
    return undefined;
  },
};
