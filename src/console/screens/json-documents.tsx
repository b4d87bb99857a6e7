/**
 * Screens for structured documents (visitor segments, campaigns): a table of the documents
 * and an editor of one document. A kind with a form (`segment-form.tsx`, `campaign-form.tsx`)
 * opens in it, with its JSON one click away; a kind without one is edited as JSON text.
 * Either way the server validates, and its 400 message names the field that is wrong.
 */
import type { Child } from "hono/jsx";
import { ErrorBoundary, useState } from "hono/jsx/dom";
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
  /** A form for the body; without one the document is edited as JSON. */
  Form?: (props: DocumentFormProps) => Child;
}

/** What a kind's form gets: the body being edited (`template` or `editable`). */
export interface DocumentFormProps {
  value: unknown;
  /** A new document (its key can still be chosen), rather than a stored one. */
  isNew: boolean;
  onChange(value: unknown): void;
}

/** The document being edited: its body, and its JSON text while the JSON view is open. */
type Draft = { key: string | null; body: unknown; text: string | null };

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
      edit(kind.key(fresh), kind.editable(fresh));
    } catch (err) {
      setError(errorText(err));
    }
  };
  const edit = (key: string | null, body: unknown) =>
    setDraft({ key, body, text: kind.Form ? null : pretty(body) });
  /** The draft's body, read from the JSON text while that is open; null after an error. */
  const bodyOf = (d: Draft): { body: unknown } | null => {
    if (d.text === null) return { body: d.body };
    try {
      return { body: JSON.parse(d.text) };
    } catch (err) {
      setError(`Not valid JSON: ${err instanceof Error ? err.message : ""}`);
      return null;
    }
  };
  /** Between the form and the JSON view, carrying the edits over. */
  const toggleJson = () => {
    if (!draft) return;
    if (draft.text === null) return setDraft({ ...draft, text: pretty(draft.body) });
    const read = bodyOf(draft);
    if (!read) return;
    setError("");
    setDraft({ ...draft, body: read.body, text: null });
  };
  const save = async () => {
    const read = draft && bodyOf(draft);
    if (!draft || !read) return;
    const { body } = read;
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
          onClick={() => {
            setError("");
            edit(null, kind.template);
          }}
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
          <h3>{draft.key === null ? `New ${kind.noun}` : `${kind.noun} ${draft.key}`}</h3>
          {draft.text === null && kind.Form ? (
            // JSON brought back from the JSON view may not have the shape the form draws
            // (a list where it wants an object): say so instead of breaking the screen.
            <ErrorBoundary
              fallback={
                <p class="error" role="alert" data-testid={`${kind.noun}-form-error`}>
                  This JSON does not fit the form. Edit it as JSON, or save it for the server to
                  name what is wrong.
                </p>
              }
            >
              <kind.Form
                value={draft.body}
                isNew={draft.key === null}
                onChange={(body) => setDraft({ ...draft, body })}
              />
            </ErrorBoundary>
          ) : (
            <label>
              JSON
              <textarea
                class="json"
                rows={16}
                spellcheck={false}
                value={draft.text ?? ""}
                data-testid={`${kind.noun}-json`}
                onInput={(e: Event) =>
                  setDraft({ ...draft, text: (e.target as HTMLTextAreaElement).value })
                }
              />
            </label>
          )}
          <div class="actions">
            <button type="button" onClick={() => void save()} data-testid={`${kind.noun}-save`}>
              Save
            </button>
            <button type="button" class="secondary" onClick={() => setDraft(null)}>
              Cancel
            </button>
            {kind.Form ? (
              <button
                type="button"
                class="secondary"
                data-testid={`${kind.noun}-json-toggle`}
                onClick={toggleJson}
              >
                {draft.text === null ? "Edit as JSON" : "Back to the form"}
              </button>
            ) : null}
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
