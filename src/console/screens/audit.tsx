/**
 * Audit log viewer (`audit.view`): filters, keyword search, older pages by cursor, CSV export
 * (a re-authentication action: the server answers 403 `reauth_required` when the sign-in is
 * old, and the "confirm it's you" form renews it) and the hash chain's verification status.
 */

import { render, useEffect, useRef, useState } from "hono/jsx/dom";
import { ApiError } from "../../client/http.ts";
import type { ErrorBody } from "../../protocol/http.ts";
import { apiCredentials, apiUrl } from "../api-origin.ts";
import { needsReauth, reauthForm } from "../reauth.ts";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { withQuery } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";
import {
  DateRangeFields,
  DepartmentField,
  type Filters,
  KeywordsField,
  OlderButton,
  ResultsTable,
  SearchForm,
  SearchStatus,
  SelectField,
  usePagedSearch,
} from "./search-screen.tsx";

/**
 * One row as `GET /api/audit` answers it (`AuditLogEntry` in src/store/audit.ts, which the
 * browser bundle cannot import: it is D1 code).
 */
interface AuditLogEntry {
  id: number;
  at: string;
  actorType: string;
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  department: string | null;
  details: Record<string, unknown> | null;
}

/** `GET /api/audit` (worker/routes/audit.ts). */
interface AuditSearchResponse {
  entries: AuditLogEntry[];
  nextCursor: string | null;
}

/** `GET /api/audit/verify` (worker/routes/audit.ts). */
interface AuditVerifyResponse {
  ok: boolean;
  checked: number;
  problem?: { id: number; kind: string; message: string };
}

/**
 * Downloads the export as a file. Fetched rather than linked: a 403 `reauth_required` must
 * come back to the page (to show the form), not replace it with a JSON error.
 */
async function downloadExport(filters: Filters): Promise<void> {
  const res = await fetch(apiUrl(withQuery("/api/audit/export", filters)), {
    credentials: apiCredentials(),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    throw new ApiError(
      res.status,
      body?.error?.code ?? "http_error",
      body?.error?.message ?? `Export failed (HTTP ${res.status}).`,
    );
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1];
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = name ?? "audit.csv";
  link.click();
  // After the click has handed the file to the browser's download.
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function VerifyStatus() {
  const [result, setResult] = useState<AuditVerifyResponse | null>(null);
  const [error, setError] = useState("");
  const verify = () => {
    setError("");
    setResult(null);
    callApi<AuditVerifyResponse>("GET", "/api/audit/verify").then(
      (data) => setResult(data),
      (err: unknown) => setError(errorText(err)),
    );
  };
  useEffect(verify, []);
  let text = "Verifying the chain…";
  if (error) text = error;
  else if (result?.ok) text = `Chain verified: ${result.checked} rows intact.`;
  else if (result) {
    text = `Chain BROKEN at row ${result.problem?.id ?? "?"}: ${result.problem?.message ?? ""}`;
  }
  const state = error || (result && !result.ok) ? "bad" : result ? "ok" : "pending";
  return (
    <p class={`audit-verify ${state}`} role="status" data-testid="audit-verify" data-state={state}>
      <span>{text}</span>{" "}
      <button type="button" class="secondary" onClick={verify}>
        Verify again
      </button>
    </p>
  );
}

/** The "confirm it's you" form of reauth.ts, mounted in place. */
function Reauth(props: { onDone(): void; onCancel(): void }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const form = reauthForm({
      onDone: props.onDone,
      onCancel: props.onCancel,
      // The console's start-up check then shows the sign-in form.
      onSessionEnded: () => location.reload(),
    });
    host.current?.replaceChildren(form);
    form.querySelector("input")?.focus();
  }, []);
  return <div ref={host} />;
}

function AuditLog() {
  const list = usePagedSearch<AuditSearchResponse, AuditLogEntry>({
    path: "/api/audit",
    rowsOf: (data) => data.entries,
    emptyText: "No matching rows.",
  });
  const [exportState, setExportState] = useState<"" | "busy" | "reauth">("");
  const [exportError, setExportError] = useState("");

  const runExport = () => {
    setExportState("busy");
    setExportError("");
    downloadExport(list.filters).then(
      () => setExportState(""),
      (err: unknown) => {
        if (needsReauth(err)) return setExportState("reauth");
        setExportState("");
        setExportError(errorText(err));
      },
    );
  };

  return (
    <div class="data-screen">
      <VerifyStatus />
      <SearchForm label="Audit log filters" onSearch={list.search}>
        <KeywordsField testId="audit-q" />
        <label>
          Actor id <input name="actor" maxLength={256} />
        </label>
        <label>
          Action <input name="action" placeholder="auth.* or auth.login" maxLength={101} />
        </label>
        <SelectField
          label="Outcome"
          name="outcome"
          testId="audit-outcome"
          options={[
            ["", "Any"],
            ["success", "Success"],
            ["failure", "Failure"],
            ["denied", "Denied"],
          ]}
        />
        <DepartmentField />
        <DateRangeFields />
        <div class="actions">
          <button type="submit" data-testid="audit-search">
            Search
          </button>
          <button
            type="button"
            class="secondary"
            disabled={exportState !== ""}
            onClick={runExport}
            data-testid="audit-export"
          >
            Export CSV
          </button>
        </div>
      </SearchForm>
      {exportState === "reauth" ? (
        <Reauth onDone={runExport} onCancel={() => setExportState("")} />
      ) : null}
      <ErrorLine text={exportError} />
      <SearchStatus text={list.status} />
      <ResultsTable
        testId="audit-rows"
        columns={["Time", "Actor", "Action", "Target", "Outcome", "Department", "IP", "Details"]}
      >
        {list.rows.map((entry) => (
          <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
            <td>{formatTime(entry.at)}</td>
            <td>
              {entry.actorType}
              {entry.actorId ? `: ${entry.actorId}` : ""}
            </td>
            <td>{entry.action}</td>
            <td>{entry.target ?? ""}</td>
            <td class={`outcome ${entry.outcome}`}>{entry.outcome}</td>
            <td>{entry.department ?? ""}</td>
            <td>{entry.ip ?? ""}</td>
            <td>
              <code class="audit-details">
                {entry.details ? JSON.stringify(entry.details) : ""}
              </code>
            </td>
          </tr>
        ))}
      </ResultsTable>
      <OlderButton next={list.next} label="Older rows" onClick={list.more} />
    </div>
  );
}

export const auditScreen: Screen = {
  id: "audit",
  title: "Audit log",
  anyOf: ["audit.view"],
  reaches: ["GET /api/audit", "GET /api/audit/export", "GET /api/audit/verify"],
  render(root) {
    render(<AuditLog />, root);
    return undefined;
  },
};
