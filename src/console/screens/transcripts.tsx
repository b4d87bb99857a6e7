/**
 * Transcripts (`transcripts.view_department` or `transcripts.view_all`; the server scopes
 * every answer to the departments the agent may read): search by keywords, status,
 * department, rating and dates, read a chat — whispers marked internal, secure-form requests
 * and the masked summary of each submission, never values — and delete an ended chat after a
 * confirmation (`transcripts.delete`), or place and lift its legal hold (same permission).
 */
import { render, useState } from "hono/jsx/dom";
import type {
  TranscriptMessage,
  TranscriptResponse,
  TranscriptSearchResponse,
  TranscriptSummary,
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

type Transcript = TranscriptResponse["transcript"];

const pathOf = (id: string) => `/api/transcripts/${encodeURIComponent(id)}`;

/** What a non-message event reads as in the transcript. */
function eventText(message: TranscriptMessage): string {
  const who = message.senderName ?? message.senderRole;
  switch (message.kind) {
    case "joined":
      return `${who} joined`;
    case "left":
      return `${who} left`;
    case "transferred":
      return `Transferred to ${who}`;
    case "requeued":
      return "Back in the queue (the agent went offline)";
    case "ended":
      return "Chat ended";
    case "secure_form.requested":
      return `${who} requested a secure form`;
    case "secure_form.submitted":
      // The stored text is the masked summary (`card •••• 1111, exp 12/29`), never values.
      return `Secure form submitted${message.text ? `: ${message.text}` : ""}`;
    default:
      return message.text ?? message.kind;
  }
}

function MessageRow(props: { message: TranscriptMessage }) {
  const { message } = props;
  const spoken = message.kind === "message" || message.kind === "whisper";
  const internal = message.kind === "whisper";
  return (
    <li
      class={`transcript-event ${spoken ? message.senderRole : "note"}${internal ? " internal" : ""}`}
      data-testid="transcript-event"
      data-kind={message.kind}
    >
      <span class="meta">
        {formatTime(message.at)}
        {spoken ? ` · ${message.senderName ?? message.senderRole}` : ""}
        {internal ? <strong class="badge"> Internal</strong> : null}
      </span>
      <span class="text">{spoken ? (message.text ?? "") : eventText(message)}</span>
    </li>
  );
}

function TranscriptView(props: { transcript: Transcript; messages: TranscriptMessage[] }) {
  const { transcript: t, messages } = props;
  return (
    <div class="data-detail" data-testid="transcript-view">
      <dl class="facts">
        <dt>Visitor</dt>
        <dd>
          {t.visitorName ?? "Anonymous"}
          {t.visitorEmail ? ` <${t.visitorEmail}>` : ""}
          {t.verified ? <strong class="badge"> Verified</strong> : null}
        </dd>
        <dt>Agent</dt>
        <dd>{t.agentName ?? "—"}</dd>
        <dt>Department</dt>
        <dd>{t.department}</dd>
        <dt>Status</dt>
        <dd>{t.status}</dd>
        <dt>Started</dt>
        <dd>{formatTime(t.createdAt)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(t.endedAt)}</dd>
        {t.pageUrl ? (
          <>
            <dt>Page</dt>
            <dd>{t.pageUrl}</dd>
          </>
        ) : null}
        {t.rating !== null ? (
          <>
            <dt>Rating</dt>
            <dd>
              {t.rating}/5{t.surveyComment ? ` — ${t.surveyComment}` : ""}
            </dd>
          </>
        ) : null}
        {t.variables
          ? Object.entries(t.variables).map(([name, value]) => (
              <>
                <dt>{name}</dt>
                <dd>{String(value)}</dd>
              </>
            ))
          : null}
        {t.legalHold ? (
          <>
            <dt>Legal hold</dt>
            <dd>{t.legalHold.reason}</dd>
          </>
        ) : null}
      </dl>
      <ol class="transcript" aria-label="Transcript">
        {messages.map((message) => (
          <MessageRow key={message.seq} message={message} />
        ))}
      </ol>
    </div>
  );
}

/**
 * Places or lifts the chat's legal hold (`transcripts.delete`: whoever may delete may also
 * protect); `onChanged` reloads the transcript to show the new state.
 */
function LegalHoldControl(props: { transcript: Transcript; onChanged(): void }) {
  const [error, setError] = useState("");
  const path = `${pathOf(props.transcript.id)}/legal-hold`;
  const change = (method: "PUT" | "DELETE", body?: { reason: string }) => {
    setError("");
    callApi(method, path, body).then(props.onChanged, (err: unknown) => setError(errorText(err)));
  };
  if (props.transcript.legalHold) {
    return (
      <div class="actions">
        <button type="button" class="secondary" onClick={() => change("DELETE")}>
          Lift legal hold
        </button>
        <ErrorLine text={error} />
      </div>
    );
  }
  return (
    <form
      class="inline-form"
      onSubmit={(e: Event) => {
        e.preventDefault();
        change("PUT", { reason: formValues(e.currentTarget as HTMLFormElement).reason ?? "" });
      }}
    >
      <label>
        Legal hold reason <input name="reason" required maxLength={500} />
      </label>
      <button type="submit" class="secondary">
        Place legal hold
      </button>
      <ErrorLine text={error} />
    </form>
  );
}

function Transcripts(props: { ctx: ScreenContext }) {
  const canDelete = props.ctx.can("transcripts.delete");
  const list = usePagedSearch<TranscriptSearchResponse, TranscriptSummary>({
    path: "/api/transcripts",
    rowsOf: (data) => data.transcripts,
    emptyText: "No matching transcripts.",
  });
  const [open, setOpen] = useState<TranscriptResponse | null>(null);
  const deletion = useConfirmedDelete();

  const view = (id: string) => {
    list.setStatus("");
    callApi<TranscriptResponse>("GET", pathOf(id)).then(
      (data) => setOpen(data),
      (err: unknown) => list.setStatus(errorText(err)),
    );
  };

  const remove = () => {
    const id = open?.transcript.id;
    if (!id) return;
    deletion.run(pathOf(id), () => {
      setOpen(null);
      list.removeRow(id, "Transcript deleted.");
    });
  };

  return (
    <div class="data-screen">
      <SearchForm label="Transcript search" onSearch={list.search}>
        <KeywordsField testId="transcripts-q" />
        <SelectField
          label="Status"
          name="status"
          options={[
            ["", "Any"],
            ["ended", "Ended"],
            ["missed", "Missed"],
            ["active", "Active"],
            ["queued", "Queued"],
          ]}
        />
        <DepartmentField />
        <SelectField
          label="Rating"
          name="minRating"
          options={[
            ["", "Any"],
            ["5", "5"],
            ["4", "4 or more"],
            ["3", "3 or more"],
            ["2", "2 or more"],
          ]}
        />
        <DateRangeFields />
        <div class="actions">
          <button type="submit" data-testid="transcripts-search">
            Search
          </button>
        </div>
      </SearchForm>
      <SearchStatus text={list.status} />
      <ResultsTable
        testId="transcripts-rows"
        columns={["Started", "Visitor", "Agent", "Department", "Status", "Messages"]}
        viewColumn
      >
        {list.rows.map((row) => (
          <tr key={row.id} data-testid="transcript-row" data-id={row.id}>
            <td>{formatTime(row.createdAt)}</td>
            <td>{row.visitorName ?? "Anonymous"}</td>
            <td>{row.agentName ?? "—"}</td>
            <td>{row.department}</td>
            <td>{row.status}</td>
            <td>{row.messageCount}</td>
            <ViewCell onClick={() => view(row.id)} />
          </tr>
        ))}
      </ResultsTable>
      <OlderButton next={list.next} label="Older transcripts" onClick={list.more} />
      {open ? (
        <section class="data-panel" aria-label="Transcript">
          <TranscriptView transcript={open.transcript} messages={open.messages} />
          {canDelete ? (
            <LegalHoldControl
              transcript={open.transcript}
              onChanged={() => view(open.transcript.id)}
            />
          ) : null}
          <div class="actions">
            {canDelete ? (
              <button
                type="button"
                class="danger"
                data-testid="transcript-delete"
                onClick={deletion.ask}
              >
                Delete transcript
              </button>
            ) : null}
            <button type="button" class="secondary" onClick={() => setOpen(null)}>
              Close
            </button>
          </div>
        </section>
      ) : null}
      <ConfirmDialog
        {...deletion.dialog}
        title="Delete this transcript?"
        text="The chat, its messages and its events are removed for good. The deletion is audited."
        confirmLabel="Delete"
        testId="transcript-delete-dialog"
        onConfirm={remove}
      />
    </div>
  );
}

export const transcriptsScreen: Screen = {
  id: "transcripts",
  title: "Transcripts",
  anyOf: TRANSCRIPT_SCREEN_PERMISSIONS,
  reaches: [
    "GET /api/transcripts",
    "GET /api/transcripts/:id",
    "DELETE /api/transcripts/:id",
    "PUT /api/transcripts/:id/legal-hold",
    "DELETE /api/transcripts/:id/legal-hold",
  ],
  render(root, ctx) {
    render(<Transcripts ctx={ctx} />, root);
    return undefined;
  },
};
