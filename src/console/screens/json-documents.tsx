/**
 * Screens for structured documents (visitor segments, campaigns): a table of the documents
 * and an editor holding one document as JSON. Their nested rules (conditions, URL rules,
 * pre-chat forms, invitations) are edited as text so that every field the API accepts can be
 * set; the server validates and its 400 message names the field that is wrong.
 */
import { useState } from "hono/jsx/dom";
import { AdminTable, EditDeleteButtons } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { callApi, errorText } from "./request.ts";
import { useResource } from "./use-resource.ts";

/** What one kind of document looks like to this screen. */
export interface DocumentKind<T> {
  /** The collection, e.g. `/api/segments`; one document is `<path>/<key>`. */
  path: string;
  /** The list's property in `GET <path>` and the testid prefix: `segments`. */
  plural: string;
  /** "segment". */
  noun: string;
  key(doc: T): string;
  /** Column headings of the table, and one document's cells. */
  columns: string[];
  cells(doc: T): string[];
  /** The body of a new document, as first shown. */
  template: unknown;
  /** The body `PUT <path>/<key>` takes for `doc` (its editable fields). */
  editable(doc: T): unknown;
  /** Read the document again (`GET <path>/<key>`) when opening it. */
  fetchOne?: (answer: unknown) => T;
}

type Draft = { key: string | null; text: string };

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

/** The list, "New", and the JSON editor of one kind of document. */
export function DocumentsScreen<T>({ kind }: { kind: DocumentKind<T> }) {
  const list = useResource<Record<string, T[]>>(kind.path);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const [error, setError] = useState("");
  const docs = list.data?.[kind.plural] ?? [];
  const url = (doc: T) => `${kind.path}/${encodeURIComponent(kind.key(doc))}`;

  const open = async (doc: T) => {
    setError("");
    try {
      const fresh = kind.fetchOne ? kind.fetchOne(await callApi("GET", url(doc))) : doc;
      setDraft({ key: kind.key(fresh), text: pretty(kind.editable(fresh)) });
    } catch (err) {
      setError(errorText(err));
    }
  };
  const save = async () => {
    if (!draft) return;
    let body: unknown;
    try {
      body = JSON.parse(draft.text);
    } catch (err) {
      return setError(`Not valid JSON: ${err instanceof Error ? err.message : ""}`);
    }
    try {
      if (draft.key === null) await callApi("POST", kind.path, body);
      else await callApi("PUT", `${kind.path}/${encodeURIComponent(draft.key)}`, body);
      setDraft(null);
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async () => {
    if (!deleting) return;
    try {
      await callApi("DELETE", url(deleting));
      setDeleting(null);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId={`${kind.plural}-load-error`} />
      <div class="actions">
        <button
          type="button"
          data-testid={`${kind.noun}-new`}
          onClick={() => setDraft({ key: null, text: pretty(kind.template) })}
        >
          New {kind.noun}
        </button>
      </div>
      <AdminTable testId={`${kind.plural}-table`} columns={kind.columns}>
        {docs.map((doc) => (
          <tr key={kind.key(doc)}>
            {kind.cells(doc).map((cell, i) => (
              <td key={kind.columns[i]}>{cell}</td>
            ))}
            <td class="row-actions">
              <EditDeleteButtons
                name={`${kind.noun} ${kind.cells(doc)[0]}`}
                onEdit={() => void open(doc)}
                onDelete={() => setDeleting(doc)}
              />
            </td>
          </tr>
        ))}
      </AdminTable>
      <ErrorLine text={error} testId={`${kind.noun}-error`} />
      {draft ? (
        <section class="admin-editor" aria-label={`Edit ${kind.noun}`}>
          <label>
            {draft.key === null ? `New ${kind.noun}` : `${kind.noun} ${draft.key}`} (JSON)
            <textarea
              class="json"
              rows={16}
              spellcheck={false}
              value={draft.text}
              data-testid={`${kind.noun}-json`}
              onInput={(e: Event) =>
                setDraft({ ...draft, text: (e.target as HTMLTextAreaElement).value })
              }
            />
          </label>
          <div class="actions">
            <button type="button" onClick={() => void save()} data-testid={`${kind.noun}-save`}>
              Save
            </button>
            <button type="button" class="secondary" onClick={() => setDraft(null)}>
              Cancel
            </button>
          </div>
        </section>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${kind.noun}`}
        text={`Delete ${kind.noun} ${deleting ? kind.cells(deleting)[0] : ""}?`}
        confirmLabel="Delete"
        testId={`${kind.noun}-delete`}
        onConfirm={() => void remove()}
        onCancel={() => setDeleting(null)}
      />
    </div>
  );
}
