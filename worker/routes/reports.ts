/**
 * Reports for supervisors (issue 8, item 5), all with "view reports" (`reports.view`): chats
 * by outcome, per day and per hour; waiting, first response and handle times; chats per agent
 * and per department; survey ratings. Each covers a time range of at most a year and is one
 * query, as JSON (`/api/reports/<name>`) or CSV (`/api/reports/<name>.csv`).
 * The figures are computed in D1 (src/store/reports.ts). Viewing is not audited (aggregates,
 * no visitor data); a CSV export is (`report.export`), like the audit log's.
 */
import { type Context, Hono } from "hono";
import {
  type AgentsReport,
  type ChatsReport,
  type DailyReport,
  type DepartmentsReport,
  type DurationReport,
  type HourlyReport,
  type RatingsReport,
  type ReportName,
  type ReportRange,
  reportQuery,
} from "../../src/protocol/reports.ts";
import type { AgentRecord } from "../../src/store/agents.ts";
import {
  type DurationMetric,
  readAgents,
  readChats,
  readDaily,
  readDepartments,
  readDuration,
  readHourly,
  readRatings,
  zoneSegments,
} from "../../src/store/reports.ts";
import type { SearchWindow } from "../../src/store/search-page.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { csvLine } from "../csv.ts";
import { requirePermission } from "../middleware/access.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readQuery } from "../read-query.ts";
import { scopedWindow } from "../transcript-scope.ts";

export const reportsRoutes = new Hono<AppEnv>();

reportsRoutes.use(requireAgent({ tokens: true }));
const view = requirePermission("reports.view");

/** The chats a report counts: a time range and the departments in scope. */
type ReportWindow = SearchWindow & { from: number; to: number };

type Cell = string | number | null;

/** One report: how it is read from D1 and how it reads as CSV. */
interface Report<Body> {
  read(db: D1Database, window: ReportWindow, timeZone: string): Promise<Body>;
  columns: readonly string[];
  rows(body: Body): Cell[][];
}

/**
 * The departments a report counts. The transcript scope (transcript-scope.ts), except that
 * `reports.view` is itself the right to read the agent's own departments (`general` for an
 * agent without any) — aggregates, no transcript text — so the agent reads as holding
 * `transcripts.view_department`; `transcripts.view_all` widens it to every department. A
 * `department` filter outside the scope gives an empty report, as a search gives an empty page.
 */
function reportWindow(
  agent: AgentRecord,
  range: { from: number; to: number; department?: string },
): ReportWindow {
  const reader = {
    departments: agent.departments,
    permissions: [...agent.permissions, "transcripts.view_department" as const],
  };
  // `limit` sizes a search page; a report has none.
  return { ...scopedWindow(reader, { ...range, limit: 0 }), from: range.from, to: range.to };
}

/** Reads the query and the report: what the route answers, as JSON or CSV. */
async function run<Body>(c: Context<AppEnv>, report: Report<Body>) {
  const query = readQuery(c, reportQuery);
  const range: ReportRange = {
    from: query.from,
    to: query.to,
    department: query.department ?? null,
    timeZone: query.timeZone,
  };
  const body = await report.read(c.env.DB, reportWindow(c.var.agent, query), query.timeZone);
  return { range, body };
}

/** `GET /api/reports/<name>` (a `Full` answer) and `GET /api/reports/<name>.csv`. */
function serve<Full extends { range: ReportRange }>(
  name: ReportName,
  report: Report<Omit<Full, "range">>,
): void {
  reportsRoutes.get(`/${name}`, view, async (c) => {
    const { range, body } = await run(c, report);
    return c.json({ range, ...body });
  });
  reportsRoutes.get(`/${name}.csv`, view, async (c) => {
    const { range, body } = await run(c, report);
    const rows = report.rows(body);
    await auditAction(c, {
      action: "report.export",
      target: name,
      outcome: "success",
      department: range.department,
      details: { ...range, rows: rows.length },
    });
    const stamp = (at: number) => new Date(at).toISOString().replace(/[:.]/g, "-");
    return c.body([report.columns, ...rows].map(csvLine).join(""), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="report-${name}-${stamp(range.from)}-${stamp(range.to)}.csv"`,
      "cache-control": "no-store",
    });
  });
}

const OUTCOME_COLUMNS = ["total", "answered", "missed", "queued"] as const;

serve<ChatsReport>("chats", {
  read: async (db, window) => ({ chats: await readChats(db, window) }),
  columns: OUTCOME_COLUMNS,
  rows: ({ chats }) => [OUTCOME_COLUMNS.map((o) => chats[o])],
});

serve<DailyReport>("daily", {
  read: async (db, window, timeZone) => ({
    days: await readDaily(db, window, zoneSegments(timeZone, window.from, window.to)),
  }),
  columns: ["date", ...OUTCOME_COLUMNS],
  rows: ({ days }) => days.map((day) => [day.date, ...OUTCOME_COLUMNS.map((o) => day[o])]),
});

serve<HourlyReport>("hourly", {
  read: async (db, window, timeZone) => ({
    hours: await readHourly(db, window, zoneSegments(timeZone, window.from, window.to)),
  }),
  columns: ["hour", ...OUTCOME_COLUMNS],
  rows: ({ hours }) => hours.map((hour) => [hour.hour, ...OUTCOME_COLUMNS.map((o) => hour[o])]),
});

const durations: [ReportName, DurationMetric][] = [
  ["waiting-time", "waiting"],
  ["first-response-time", "firstResponse"],
  ["handle-time", "handle"],
];
for (const [name, metric] of durations) {
  serve<DurationReport>(name, {
    read: async (db, window) => ({ stats: await readDuration(db, window, metric) }),
    columns: ["count", "average_ms", "p50_ms", "p90_ms"],
    rows: ({ stats }) => [[stats.count, stats.averageMs, stats.p50Ms, stats.p90Ms]],
  });
}

serve<AgentsReport>("agents", {
  read: async (db, window) => ({ agents: await readAgents(db, window) }),
  columns: [
    "agent_id",
    "agent_name",
    "chats",
    "ended",
    "average_handle_ms",
    "rated",
    "average_rating",
  ],
  rows: ({ agents }) =>
    agents.map((a) => [
      a.agentId,
      a.agentName,
      a.chats,
      a.ended,
      a.averageHandleMs,
      a.rated,
      a.averageRating,
    ]),
});

serve<DepartmentsReport>("departments", {
  read: async (db, window) => ({ departments: await readDepartments(db, window) }),
  columns: [
    "department",
    "name",
    ...OUTCOME_COLUMNS,
    "average_wait_ms",
    "average_handle_ms",
    "rated",
    "average_rating",
  ],
  rows: ({ departments }) =>
    departments.map((d) => [
      d.department,
      d.name,
      ...OUTCOME_COLUMNS.map((o) => d[o]),
      d.averageWaitMs,
      d.averageHandleMs,
      d.rated,
      d.averageRating,
    ]),
});

const RATINGS = ["1", "2", "3", "4", "5"] as const;

serve<RatingsReport>("ratings", {
  read: async (db, window) => ({ ratings: await readRatings(db, window) }),
  columns: ["count", "average", ...RATINGS.map((r) => `rating_${r}`)],
  rows: ({ ratings }) => [
    [ratings.count, ratings.average, ...RATINGS.map((r) => ratings.distribution[r])],
  ],
});
