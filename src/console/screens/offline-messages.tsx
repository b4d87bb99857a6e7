/**
 * Offline messages (`transcripts.view_department` or `transcripts.view_all`, scoped by the
 * server like transcripts): an inbox to search, read, mark handled or reopen, and record the
 * reply the agent sent by their own channel (Parley sends no email); deleting one takes a
 * confirmation and `transcripts.delete`.
 */
import { render, useState } from "hono/jsx/dom";
import type {
  OfflineMessageResponse,
  OfflineMessageSearchResponse,
  OfflineMessageSummary,
} from "../../protocol/http.ts";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import {
  DateRangeFields,
  DepartmentField,
  KeywordsField,
  OlderButton,
  ResultsTable,
  SearchForm,
  SearchStatus,
  SelectField,
  TRANSCRIPT_SCREEN_PERMISSIONS,
  useConfirmedDelete,
  usePagedSearch,
  ViewCell,
} from "./search-screen.tsx";

type Detail = OfflineMessageResponse["offlineMessage"];

const pathOf = (id: string) => `/api/offline-messages/${encodeURIComponent(id)}`;

function MessageDetail(props: {
  message: Detail;
  canDelete: boolean;
  onChanged(detail: Detail): void;
  onDelete(): void;
}) {
  const { message: m } = props;
  const [error, setError] = useState("");
  const act = (path: string, body: unknown, form?: HTMLFormElement) => {
    setError("");
    callApi<OfflineMessageResponse>("POST", path, body).then(
      (data) => {
        form?.reset();
        props.onChanged(data.offlineMessage);
      },
      (err: unknown) => setError(errorText(err)),
    );
  };
  return (
    <section class="data-panel" aria-label="Offline message" data-testid="offline-message-view">
      <dl class="facts">
        <dt>From</dt>
        <dd>
          {m.name ?? "Anonymous"} &lt;{m.email}&gt;
        </dd>
        <dt>Department</dt>
        <dd>{m.department}</dd>
        <dt>Received</dt>
        <dd>{formatTime(m.createdAt)}</dd>
        {m.pageUrl ? (
          <>
            <dt>Page</dt>
            <dd>{m.pageUrl}</dd>
          </>
        ) : null}
        <dt>Status</dt>
        <dd data-testid="offline-message-status">
          {m.handledAt
            ? `Handled by ${m.handledBy?.name ?? "a former agent"}, ${formatTime(m.handledAt)}`
            : "Open"}
        </dd>
      </dl>
      <p class="offline-text">{m.message}</p>
      {m.replies.length > 0 ? (
        <ol class="replies" aria-label="Replies">
          {m.replies.map((reply) => (
            <li key={reply.id}>
              <span class="meta">
                {reply.agentName}, {formatTime(reply.at)}
              </span>
              <span class="text">{reply.text}</span>
            </li>
          ))}
        </ol>
      ) : null}
      <form
        class="inline-form"
        onSubmit={(e: Event) => {
          e.preventDefault();
          const form = e.currentTarget as HTMLFormElement;
          act(`${pathOf(m.id)}/reply`, { text: formValues(form).text ?? "" }, form);
        }}
      >
        <label>
          Reply you sent <textarea name="text" required maxLength={5000} rows={3} />
        </label>
        <button type="submit">Record reply</button>
      </form>
      <div class="actions">
        <button
          type="button"
          class="secondary"
          data-testid="offline-message-handled"
          onClick={() => act(`${pathOf(m.id)}/handled`, { handled: m.handledAt === null })}
        >
          {m.handledAt ? "Reopen" : "Mark handled"}
        </button>
        {props.canDelete ? (
          <button type="button" class="danger" onClick={props.onDelete}>
            Delete
          </button>
        ) : null}
      </div>
      <ErrorLine text={error} />
    </section>
  );
}

function OfflineMessages(props: { ctx: ScreenContext }) {
  const list = usePagedSearch<OfflineMessageSearchResponse, OfflineMessageSummary>({
    path: "/api/offline-messages",
    rowsOf: (data) => data.offlineMessages,
    emptyText: "No matching messages.",
    initial: { status: "open" },
  });
  const [open, setOpen] = useState<Detail | null>(null);
  const deletion = useConfirmedDelete();

  const view = (id: string) =>
    callApi<OfflineMessageResponse>("GET", pathOf(id)).then(
      (data) => setOpen(data.offlineMessage),
      (err: unknown) => list.setStatus(errorText(err)),
    );

  /** Shows a change in the detail and in its row of the list. */
  const changed = (detail: Detail) => {
    setOpen(detail);
    list.setRows((shown) => shown.map((row) => (row.id === detail.id ? detail : row)));
  };

  const remove = () => {
    const id = open?.id;
    if (!id) return;
    deletion.run(pathOf(id), () => {
      setOpen(null);
      list.removeRow(id, "Message deleted.");
    });
  };

  return (
    <div class="data-screen">
      <SearchForm label="Offline message search" onSearch={list.search}>
        <KeywordsField />
        <SelectField
          label="Status"
          name="status"
          options={[
            ["open", "Open"],
            ["handled", "Handled"],
            ["all", "All"],
          ]}
        />
        <DepartmentField />
        <DateRangeFields />
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </SearchForm>
      <SearchStatus text={list.status} />
      <ResultsTable
        testId="offline-messages-rows"
        columns={["Received", "From", "Department", "Message", "Status"]}
        viewColumn
      >
        {list.rows.map((row) => (
          <tr key={row.id} data-testid="offline-message-row">
            <td>{formatTime(row.createdAt)}</td>
            <td>{row.name ?? row.email}</td>
            <td>{row.department}</td>
            <td class="excerpt">{row.message}</td>
            <td>{row.handledAt ? "Handled" : "Open"}</td>
            <ViewCell onClick={() => view(row.id)} />
          </tr>
        ))}
      </ResultsTable>
      <OlderButton next={list.next} label="Older messages" onClick={list.more} />
      {open ? (
        <MessageDetail
          message={open}
          canDelete={props.ctx.can("transcripts.delete")}
          onChanged={changed}
          onDelete={deletion.ask}
        />
      ) : null}
      <ConfirmDialog
        {...deletion.dialog}
        title="Delete this message?"
        text="The message and its recorded replies are removed for good. The deletion is audited."
        confirmLabel="Delete"
        testId="offline-message-delete-dialog"
        onConfirm={remove}
      />
    </div>
  );
}

export const offlineMessagesScreen: Screen = {
  id: "offline-messages",
  title: "Offline messages",
  anyOf: TRANSCRIPT_SCREEN_PERMISSIONS,
  reaches: [
    "GET /api/offline-messages",
    "GET /api/offline-messages/:id",
    "POST /api/offline-messages/:id/handled",
    "POST /api/offline-messages/:id/reply",
    "DELETE /api/offline-messages/:id",
  ],
  render(root, ctx) {
    render(<OfflineMessages ctx={ctx} />, root);
    return undefined;
  },
};
