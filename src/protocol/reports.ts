/**
 * Payloads of the reports API (issue 8, item 5): the query string every report takes and
 * the JSON each one answers. Times are milliseconds since the epoch (UTC); durations are
 * whole milliseconds.
 */
import { z } from "zod";
import { departmentId, queryTimestamp } from "./http.ts";
import { businessHours } from "./routing.ts";

const DAY_MS = 86_400_000;
/** The range when `from` is not given: the 7 days before `to`. */
export const DEFAULT_REPORT_DAYS = 7;
/** The longest range a report covers: a year, leap day included. */
export const MAX_REPORT_DAYS = 366;

/** The reports, each at `GET /api/reports/<name>` and `GET /api/reports/<name>.csv`. */
export const REPORT_NAMES = [
  "chats",
  "daily",
  "hourly",
  "waiting-time",
  "first-response-time",
  "handle-time",
  "agents",
  "departments",
  "ratings",
] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/**
 * `GET /api/reports/*` query string. `to` defaults to now and `from` to 7 days before `to`;
 * `from` is inclusive, `to` exclusive, and the range is at most 366 days. `tz` (an IANA time
 * zone, default UTC) sets the days and hours of the `daily` and `hourly` series.
 */
export const reportQuery = z
  .object({
    from: queryTimestamp.optional(),
    to: queryTimestamp.optional(),
    department: departmentId.optional(),
    tz: businessHours.shape.timezone.optional(),
  })
  .strict()
  .transform((query, ctx) => {
    const to = query.to ?? Date.now();
    const from = query.from ?? to - DEFAULT_REPORT_DAYS * DAY_MS;
    if (from >= to) {
      ctx.addIssue({ code: "custom", message: "to must be later than from", path: ["to"] });
      return z.NEVER;
    }
    if (to - from > MAX_REPORT_DAYS * DAY_MS) {
      ctx.addIssue({
        code: "custom",
        message: `a range of at most ${MAX_REPORT_DAYS} days`,
        path: ["from"],
      });
      return z.NEVER;
    }
    return { from, to, department: query.department, timeZone: query.tz ?? "UTC" };
  });
export type ReportQuery = z.infer<typeof reportQuery>;

/** What a report covers, as the caller asked (the agent's scope narrows it further). */
export interface ReportRange {
  from: number;
  to: number;
  /** The `department` filter; null: every department in the agent's scope. */
  department: string | null;
  timeZone: string;
}

/**
 * Chats by outcome. `answered`: accepted by an agent (at least once) and not missed.
 * `missed`: status `missed`, or ended without ever being accepted. `queued`: still waiting,
 * never accepted. `total` is their sum.
 */
export interface OutcomeCounts {
  total: number;
  answered: number;
  missed: number;
  queued: number;
}

/**
 * A duration over the chats it applies to: the mean rounded to whole ms, and the 50th and
 * 90th percentiles by nearest rank (the value at rank ⌈p/100 × count⌉ in ascending order).
 * Null when no chat applies.
 */
export interface DurationStats {
  count: number;
  averageMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
}

/** Post-chat survey ratings; `average` rounded to 2 decimals, null without ratings. */
export interface RatingStats {
  count: number;
  average: number | null;
  /** Chats rated 1, 2, 3, 4 and 5. */
  distribution: { "1": number; "2": number; "3": number; "4": number; "5": number };
}

/** `GET /api/reports/chats`: the range's chats by outcome (missed chats among them). */
export interface ChatsReport {
  range: ReportRange;
  chats: OutcomeCounts;
}

/**
 * `GET /api/reports/waiting-time` (accepted_at − created_at, over chats accepted at least
 * once), `GET /api/reports/first-response-time` (first agent message − accepted_at, over
 * accepted chats an agent wrote in) and `GET /api/reports/handle-time` (ended_at −
 * accepted_at, over answered chats that ended).
 */
export interface DurationReport {
  range: ReportRange;
  stats: DurationStats;
}

/** `GET /api/reports/ratings`: the post-chat survey ratings of the range's chats. */
export interface RatingsReport {
  range: ReportRange;
  ratings: RatingStats;
}

/** `GET /api/reports/daily`: every local day of the range, days without chats included. */
export interface DailyReport {
  range: ReportRange;
  /** `date`: YYYY-MM-DD in the report's time zone. */
  days: (OutcomeCounts & { date: string })[];
}

/** `GET /api/reports/hourly`: the range's chats by local hour of day, 0–23, all 24 listed. */
export interface HourlyReport {
  range: ReportRange;
  hours: (OutcomeCounts & { hour: number })[];
}

/** One agent's chats: those the agent owned last (a transfer moves the chat to the new owner). */
export interface AgentReportRow {
  agentId: string;
  /** Null when the account no longer exists. */
  agentName: string | null;
  chats: number;
  /** Chats that ended after being answered: what `averageHandleMs` averages. */
  ended: number;
  averageHandleMs: number | null;
  rated: number;
  averageRating: number | null;
}

/** `GET /api/reports/agents`: most chats first, then by agent id. */
export interface AgentsReport {
  range: ReportRange;
  agents: AgentReportRow[];
}

/** One department's chats (its department now: a transfer or overflow moves the chat). */
export interface DepartmentReportRow extends OutcomeCounts {
  department: string;
  /** Null when the department no longer exists. */
  name: string | null;
  averageWaitMs: number | null;
  averageHandleMs: number | null;
  rated: number;
  averageRating: number | null;
}

/** `GET /api/reports/departments`: departments with chats in the range, by id. */
export interface DepartmentsReport {
  range: ReportRange;
  departments: DepartmentReportRow[];
}
