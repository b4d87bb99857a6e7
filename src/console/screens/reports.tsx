/**
 * Reports (`reports.view`; the server counts the departments in the agent's scope): pick a
 * report and a range of days; time series draw as a chart, per-agent and per-department
 * figures as tables, each with its CSV download (`GET /api/reports/<name>.csv`, audited).
 */

import { render, useEffect, useState } from "hono/jsx/dom";
import type {
  AgentsReport,
  ChatsReport,
  DailyReport,
  DepartmentsReport,
  DurationReport,
  HourlyReport,
  OutcomeCounts,
  RatingsReport,
  ReportName,
} from "../../protocol/reports.ts";
import { apiUrl } from "../api-origin.ts";
import { Chart } from "./chart.tsx";
import { ErrorLine } from "./controls.tsx";
import { formatDuration } from "./format.ts";
import { endOfDay, formValues, isoDate, withQuery } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";

/** Every report, in the order offered (the keys are REPORT_NAMES of src/protocol/reports.ts). */
const REPORTS: Record<ReportName, string> = {
  daily: "Chats per day",
  hourly: "Chats by hour of day",
  chats: "Chats by outcome",
  agents: "Per agent",
  departments: "Per department",
  "waiting-time": "Waiting time",
  "first-response-time": "First response time",
  "handle-time": "Handle time",
  ratings: "Survey ratings",
};
const NAMES = Object.keys(REPORTS) as ReportName[];

const OUTCOMES = ["total", "answered", "missed", "queued"] as const;
const DAY_MS = 86_400_000;

/** The answer of each report, tagged with its name. */
type Loaded =
  | { name: "daily"; data: DailyReport }
  | { name: "hourly"; data: HourlyReport }
  | { name: "chats"; data: ChatsReport }
  | { name: "agents"; data: AgentsReport }
  | { name: "departments"; data: DepartmentsReport }
  | { name: "waiting-time" | "first-response-time" | "handle-time"; data: DurationReport }
  | { name: "ratings"; data: RatingsReport };

/** Outcome counts over labelled points, as one series per outcome. */
function outcomeSeries(points: OutcomeCounts[]) {
  return OUTCOMES.map((o) => ({ name: o, values: points.map((p) => p[o]) }));
}

/** A plain table: a header row and the rows' cells. */
function Table(props: { head: string[]; rows: (string | number)[][]; testId: string }) {
  return (
    <div class="table-scroll">
      <table class="data-table" data-testid={props.testId}>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const dash = (v: number | null) => (v === null ? "—" : v);

function ReportView(props: { report: Loaded }) {
  const { report } = props;
  switch (report.name) {
    case "daily":
      return (
        <Chart
          kind="line"
          title="Chats per day"
          labels={report.data.days.map((d) => d.date.slice(5))}
          series={outcomeSeries(report.data.days)}
        />
      );
    case "hourly":
      return (
        <Chart
          kind="bar"
          title="Chats by hour of day"
          labels={report.data.hours.map((h) => String(h.hour))}
          series={outcomeSeries(report.data.hours).slice(1)}
        />
      );
    case "chats":
      return (
        <Chart
          kind="bar"
          title="Chats by outcome"
          labels={[...OUTCOMES]}
          series={[{ name: "chats", values: OUTCOMES.map((o) => report.data.chats[o]) }]}
        />
      );
    case "agents":
      return (
        <Table
          testId="report-table"
          head={["Agent", "Chats", "Ended", "Avg. handle time", "Rated", "Avg. rating"]}
          rows={report.data.agents.map((a) => [
            a.agentName ?? `${a.agentId} (deleted)`,
            a.chats,
            a.ended,
            formatDuration(a.averageHandleMs),
            a.rated,
            dash(a.averageRating),
          ])}
        />
      );
    case "departments":
      return (
        <Table
          testId="report-table"
          head={["Department", ...OUTCOMES, "Avg. wait", "Avg. handle", "Rated", "Avg. rating"]}
          rows={report.data.departments.map((d) => [
            d.name ?? d.department,
            ...OUTCOMES.map((o) => d[o]),
            formatDuration(d.averageWaitMs),
            formatDuration(d.averageHandleMs),
            d.rated,
            dash(d.averageRating),
          ])}
        />
      );
    case "ratings": {
      const { ratings } = report.data;
      const stars = ["1", "2", "3", "4", "5"] as const;
      return (
        <>
          <p>
            {ratings.count} rated, average {dash(ratings.average)}
          </p>
          <Chart
            kind="bar"
            title="Survey ratings"
            labels={[...stars]}
            series={[{ name: "chats", values: stars.map((s) => ratings.distribution[s]) }]}
          />
        </>
      );
    }
    default: {
      const { stats } = report.data;
      return (
        <Table
          testId="report-table"
          head={["Chats", "Average", "Median", "90th percentile"]}
          rows={[
            [
              stats.count,
              formatDuration(stats.averageMs),
              formatDuration(stats.p50Ms),
              formatDuration(stats.p90Ms),
            ],
          ]}
        />
      );
    }
  }
}

/** The query of a report from the form: whole days, in the agent's time zone for series. */
function toQuery(values: Record<string, string>): Record<string, string> {
  return {
    from: values.from ?? "",
    to: endOfDay(values.to ?? ""),
    department: values.department ?? "",
    tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

function Reports() {
  const today = Date.now();
  const [request, setRequest] = useState<{ name: ReportName; query: Record<string, string> }>({
    name: "daily",
    query: toQuery({ from: isoDate(today - 6 * DAY_MS), to: isoDate(today) }),
  });
  const [report, setReport] = useState<Loaded | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    let current = true;
    setError("");
    callApi<Loaded["data"]>("GET", withQuery(`/api/reports/${request.name}`, request.query)).then(
      // The name picks the body's shape: the server answers that report for that path.
      (data) => current && setReport({ name: request.name, data } as Loaded),
      (err: unknown) => current && setError(errorText(err)),
    );
    return () => {
      current = false;
    };
  }, [request]);

  return (
    <div class="data-screen">
      <form
        class="data-filters"
        aria-label="Report"
        onSubmit={(e: Event) => {
          e.preventDefault();
          const values = formValues(e.currentTarget as HTMLFormElement);
          setReport(null);
          setRequest({ name: (values.name ?? "daily") as ReportName, query: toQuery(values) });
        }}
      >
        <label>
          Report
          <select name="name" data-testid="report-name">
            {NAMES.map((name) => (
              <option key={name} value={name} selected={name === request.name}>
                {REPORTS[name]}
              </option>
            ))}
          </select>
        </label>
        <label>
          From <input name="from" type="date" value={request.query.from} required />
        </label>
        <label>
          To <input name="to" type="date" value={isoDate(today)} required />
        </label>
        <label>
          Department <input name="department" maxLength={63} />
        </label>
        <div class="actions">
          <button type="submit" data-testid="report-show">
            Show
          </button>
          <a
            class="button secondary"
            href={apiUrl(withQuery(`/api/reports/${request.name}.csv`, request.query))}
            download
            data-testid="report-csv"
          >
            Download CSV
          </a>
        </div>
      </form>
      <ErrorLine text={error} />
      <section class="data-panel" aria-label={REPORTS[request.name]} data-testid="report">
        <h3>{REPORTS[request.name]}</h3>
        {report ? <ReportView report={report} /> : <p class="details">Loading…</p>}
      </section>
    </div>
  );
}

export const reportsScreen: Screen = {
  id: "reports",
  title: "Reports",
  anyOf: ["reports.view"],
  reaches: NAMES.flatMap((name) => [`GET /api/reports/${name}`, `GET /api/reports/${name}.csv`]),
  render(root) {
    render(<Reports />, root);
    return undefined;
  },
};
