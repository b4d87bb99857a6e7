/**
 * The pieces the console's search screens (audit log, transcripts, offline messages) share:
 * a cursor-paged search against one list API, its filter form and common fields, the status
 * line, the results table's frame, the "older" button, and the confirm-then-delete flow. Each
 * screen keeps its own columns, filters and detail view.
 */
import type { Child } from "hono/jsx";
import { useEffect, useState } from "hono/jsx/dom";
import type { Permission } from "../../security/permissions.ts";
import { HeaderRow } from "./admin-table.tsx";
import type { ConfirmDialogProps } from "./confirm-dialog.tsx";
import { searchFilters, withQuery } from "./query.ts";
import { callApi, errorText } from "./request.ts";

/**
 * Who is shown the transcript and offline-message screens: the readers, and
 * `transcripts.delete` too — its holder sees the screen, where the server's answer (a refusal
 * without a read permission: deleting needs reading) is displayed, never hidden.
 */
export const TRANSCRIPT_SCREEN_PERMISSIONS: Permission[] = [
  "transcripts.view_department",
  "transcripts.view_all",
  "transcripts.delete",
];

/** A search's filters as sent in the query string (field name → value). */
export type Filters = Record<string, string>;

/** What {@link usePagedSearch} needs to know about one list API. */
export interface PagedSearchOptions<R, T> {
  /** The list route, e.g. `/api/transcripts`. */
  path: string;
  /** The rows of one answer (each API names its list differently). */
  rowsOf(data: R): T[];
  /** The status line when a fresh search finds nothing. */
  emptyText: string;
  /** The filters of the first search, matching the form's defaults. */
  initial?: Filters;
}

/**
 * A cursor-paged search: the first page loads on mount, `search` starts over with new
 * filters, `more` appends the next page with the same filters. The status line reads
 * "Loading…", the API's error, or `emptyText`.
 */
export function usePagedSearch<R extends { nextCursor: string | null }, T extends { id: unknown }>(
  options: PagedSearchOptions<R, T>,
) {
  const [filters, setFilters] = useState<Filters>(options.initial ?? {});
  const [rows, setRows] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [status, setStatus] = useState("Loading…");

  const load = (query: Filters, cursor: string | null) => {
    setStatus("Loading…");
    const url = withQuery(options.path, { ...query, cursor: cursor ?? undefined });
    callApi<R>("GET", url).then(
      (data) => {
        const page = options.rowsOf(data);
        setRows((shown) => (cursor ? [...shown, ...page] : page));
        setNext(data.nextCursor);
        setStatus(page.length === 0 && !cursor ? options.emptyText : "");
      },
      (err: unknown) => setStatus(errorText(err)),
    );
  };
  useEffect(() => load(filters, null), []);

  return {
    filters,
    rows,
    setRows,
    next,
    status,
    setStatus,
    /** Starts over with `query` (from {@link SearchForm}). */
    search(query: Filters) {
      setFilters(query);
      load(query, null);
    },
    /** Takes a deleted row out of the list and says so in the status line. */
    removeRow(id: T["id"], statusText: string) {
      setRows((shown) => shown.filter((row) => row.id !== id));
      setStatus(statusText);
    },
    /** Appends the next page. */
    more() {
      if (next) load(filters, next);
    },
  };
}

/** The filter form: its fields are the children; submitting hands over their filters. */
export function SearchForm(props: {
  label: string;
  onSearch(query: Filters): void;
  children: Child;
}) {
  return (
    <form
      class="data-filters"
      aria-label={props.label}
      onSubmit={(e: Event) => {
        e.preventDefault();
        props.onSearch(searchFilters(e.currentTarget as HTMLFormElement));
      }}
    >
      {props.children}
    </form>
  );
}

/** The free-text `q` field every search API takes. */
export function KeywordsField(props: { testId?: string }) {
  return (
    <label>
      Keywords <input name="q" type="search" maxLength={200} data-testid={props.testId} />
    </label>
  );
}

/** A drop-down filter; `options` are `[value, label]` pairs, the first one selected. */
export function SelectField(props: {
  label: string;
  name: string;
  options: [value: string, label: string][];
  testId?: string;
}) {
  return (
    <label>
      {props.label}
      <select name={props.name} data-testid={props.testId}>
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The `department` filter (a department id is at most 63 characters). */
export function DepartmentField() {
  return (
    <label>
      Department <input name="department" maxLength={63} />
    </label>
  );
}

/** The first and the last day wanted; {@link SearchForm} makes `to` the API's exclusive end. */
export function DateRangeFields() {
  return (
    <>
      <label>
        From <input name="from" type="date" />
      </label>
      <label>
        To <input name="to" type="date" />
      </label>
    </>
  );
}

/** The search's status line, announced politely. */
export function SearchStatus(props: { text: string }) {
  return (
    <p class="details" role="status">
      {props.text}
    </p>
  );
}

/**
 * The results table: one header cell per column, plus a last one named for screen readers
 * only when the rows end in a "View" button (`viewColumn`).
 */
export function ResultsTable(props: {
  testId: string;
  columns: string[];
  viewColumn?: boolean;
  children: Child;
}) {
  return (
    <div class="table-scroll">
      <table class="data-table" data-testid={props.testId}>
        <thead>
          <HeaderRow columns={props.columns} last={props.viewColumn ? "Open" : undefined} />
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** A row's last cell: the "View" button of a {@link ResultsTable} with `viewColumn`. */
export function ViewCell(props: { onClick(): void }) {
  return (
    <td>
      <button type="button" class="secondary" onClick={props.onClick}>
        View
      </button>
    </td>
  );
}

/** The next page's button, shown while the API has one. */
export function OlderButton(props: { next: string | null; label: string; onClick(): void }) {
  if (!props.next) return null;
  return (
    <button type="button" class="secondary" onClick={props.onClick}>
      {props.label}
    </button>
  );
}

/**
 * Delete after a confirmation: `ask` opens the dialog, `run` sends the DELETE and, once it
 * succeeded, closes it and calls `onDone`; a failure stays in the dialog. `dialog` holds the
 * {@link ConfirmDialog} props this state drives.
 */
export function useConfirmedDelete() {
  const [state, setState] = useState<"" | "ask" | "busy">("");
  const [error, setError] = useState("");
  const dialog: Pick<ConfirmDialogProps, "open" | "busy" | "error" | "onCancel"> = {
    open: state !== "",
    busy: state === "busy",
    error,
    onCancel: () => setState(""),
  };
  return {
    dialog,
    ask() {
      setError("");
      setState("ask");
    },
    run(path: string, onDone: () => void) {
      setState("busy");
      callApi("DELETE", path).then(
        () => {
          setState("");
          onDone();
        },
        (err: unknown) => {
          setState("ask");
          setError(errorText(err));
        },
      );
    },
  };
}
