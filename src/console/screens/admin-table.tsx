/**
 * The list table of the admin screens (agents, teams, routing, bans, canned messages,
 * variables, tokens, JSON documents), the Edit / Delete buttons of a row and the Save / Cancel
 * buttons of an edit form: one markup for every screen, so they read and are announced alike.
 */
import type { Child } from "hono/jsx";

/**
 * A table's header row: one cell per column, then, when `last` is given, a last column named
 * `last` for screen readers only (a column of row buttons needs no visible heading).
 */
export function HeaderRow(props: { columns: string[]; last?: string }) {
  return (
    <tr>
      {props.columns.map((column) => (
        <th key={column} scope="col">
          {column}
        </th>
      ))}
      {props.last ? (
        <th scope="col">
          <span class="visually-hidden">{props.last}</span>
        </th>
      ) : null}
    </tr>
  );
}

/**
 * An admin list: a caption when given, one header cell per column, then a last column of
 * row actions named for screen readers only; the rows are the children.
 */
export function AdminTable(props: {
  testId: string;
  caption?: string;
  columns: string[];
  children: Child;
}) {
  return (
    <table class="admin-table" data-testid={props.testId}>
      {props.caption ? <caption>{props.caption}</caption> : null}
      <thead>
        <HeaderRow columns={props.columns} last="Actions" />
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A row's Edit and Delete buttons, labelled with what they act on (`name`). */
export function EditDeleteButtons(props: { name: string; onEdit(): void; onDelete(): void }) {
  return (
    <>
      <button
        type="button"
        class="secondary"
        aria-label={`Edit ${props.name}`}
        onClick={props.onEdit}
      >
        Edit
      </button>
      <button
        type="button"
        class="secondary"
        aria-label={`Delete ${props.name}`}
        onClick={props.onDelete}
      >
        Delete
      </button>
    </>
  );
}

/** An edit form's buttons: Save submits the form, Cancel closes it unsaved. */
export function SaveCancel(props: { onCancel(): void }) {
  return (
    <div class="actions">
      <button type="submit">Save</button>
      <button type="button" class="secondary" onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}
