/**
 * The report queries (issue 8, item 5): aggregates over one time range of chats, computed in
 * D1 with SQL (never by loading chats into the Worker). Every query reads the range through
 * the index `chats_report` or `chats_report_department` (migrations/0014_reports.sql).
 *
 * Outcomes: `missed` is status `missed` or ended without ever being accepted; `answered` is
 * accepted at least once and not missed; `queued` (never accepted, still waiting) is the rest.
 * Averages are rounded to whole ms (ratings to 2 decimals); percentiles are by nearest rank.
 */

import { wallClockFormat } from "../desk/business-hours.ts";
import type {
  AgentReportRow,
  DepartmentReportRow,
  DurationStats,
  OutcomeCounts,
  RatingStats,
} from "../protocol/reports.ts";
import { type SearchWindow, windowConditions } from "./search-page.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const MISSED = "(status = 'missed' OR (status = 'ended' AND accepted_at IS NULL))";
const ANSWERED = "(accepted_at IS NOT NULL AND status != 'missed')";
/** What handle time is measured over: answered chats that ended. */
const ENDED_ANSWERED = "(status = 'ended' AND accepted_at IS NOT NULL)";
const OUTCOME_COLUMNS = `count(*) AS total, coalesce(sum(${ANSWERED}), 0) AS answered,
  coalesce(sum(${MISSED}), 0) AS missed`;

/** The window's conditions (time range, departments) on `chats`, and their parameters. */
function filtered(window: SearchWindow): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  windowConditions(where, params, "", window);
  return { where: where.length > 0 ? where.join(" AND ") : "1", params };
}

interface OutcomeRow {
  total: number;
  answered: number;
  missed: number;
}

function outcomes(row: OutcomeRow | undefined): OutcomeCounts {
  const { total = 0, answered = 0, missed = 0 } = row ?? {};
  return { total, answered, missed, queued: total - answered - missed };
}

const roundMs = (value: number | null) => (value === null ? null : Math.round(value));
const roundRating = (value: number | null) =>
  value === null ? null : Math.round(value * 100) / 100;

// ── Outcomes, durations, ratings ─────────────────────────────────────────────────────────

/** The range's chats by outcome. */
export async function readChats(db: D1Database, window: SearchWindow): Promise<OutcomeCounts> {
  const { where, params } = filtered(window);
  const row = await db
    .prepare(`SELECT ${OUTCOME_COLUMNS} FROM chats WHERE ${where}`)
    .bind(...params)
    .first<OutcomeRow>();
  return outcomes(row ?? undefined);
}

/** The durations a report measures: an expression and the chats it applies to. */
const DURATIONS = {
  waiting: { expr: "accepted_at - created_at", condition: "accepted_at IS NOT NULL" },
  firstResponse: {
    expr: "first_response_at - accepted_at",
    condition: "accepted_at IS NOT NULL AND first_response_at IS NOT NULL",
  },
  handle: { expr: "ended_at - accepted_at", condition: ENDED_ANSWERED },
} as const;
export type DurationMetric = keyof typeof DURATIONS;

/**
 * Count, mean, p50 and p90 of a duration over the window's chats. A percentile is the value
 * at rank ⌈n × p / 100⌉ of n, read with ORDER BY … LIMIT 1 OFFSET: a bounded sort, cheaper in
 * SQLite than numbering every row with a window function (p90 is read from the top, so its
 * sort keeps a tenth of the rows). The values are read from the index once (MATERIALIZED), and
 * in one statement, so the count and the ranks come from one snapshot.
 */
export async function readDuration(
  db: D1Database,
  window: SearchWindow,
  metric: DurationMetric,
): Promise<DurationStats> {
  const { expr, condition } = DURATIONS[metric];
  const { where, params } = filtered(window);
  const row = await db
    .prepare(
      `WITH v AS MATERIALIZED (SELECT ${expr} AS ms FROM chats WHERE ${where} AND ${condition}),
            n AS (SELECT count(*) AS n, avg(ms) AS average FROM v)
       SELECT n AS count, average,
              (SELECT ms FROM v ORDER BY ms LIMIT 1 OFFSET (SELECT (n * 50 + 99) / 100 - 1 FROM n)) AS p50,
              (SELECT ms FROM v ORDER BY ms DESC LIMIT 1 OFFSET (SELECT n - (n * 90 + 99) / 100 FROM n)) AS p90
       FROM n`,
    )
    .bind(...params)
    .first<{ count: number; average: number | null; p50: number | null; p90: number | null }>();
  return {
    count: row?.count ?? 0,
    averageMs: roundMs(row?.average ?? null),
    p50Ms: row?.p50 ?? null,
    p90Ms: row?.p90 ?? null,
  };
}

/** The survey ratings of the range's chats: count, mean, and how many chats got each. */
export async function readRatings(db: D1Database, window: SearchWindow): Promise<RatingStats> {
  const { where, params } = filtered(window);
  const counts = [1, 2, 3, 4, 5].map((r) => `coalesce(sum(rating = ${r}), 0) AS r${r}`);
  const row = await db
    .prepare(
      `SELECT count(rating) AS count, avg(rating) AS average, ${counts.join(", ")}
       FROM chats WHERE ${where}`,
    )
    .bind(...params)
    .first<
      Record<"count" | "r1" | "r2" | "r3" | "r4" | "r5", number> & { average: number | null }
    >();
  return {
    count: row?.count ?? 0,
    average: roundRating(row?.average ?? null),
    distribution: {
      "1": row?.r1 ?? 0,
      "2": row?.r2 ?? 0,
      "3": row?.r3 ?? 0,
      "4": row?.r4 ?? 0,
      "5": row?.r5 ?? 0,
    },
  };
}

// ── Days and hours, in a time zone ──────────────────────────────────────────────────────

/** A time zone's UTC offset from `from` on, until the next segment's `from`. */
export interface ZoneSegment {
  from: number;
  offsetMs: number;
}

/**
 * The UTC offsets of `timeZone` over `[from, to)`, from the runtime's time zone data
 * (`Intl`), so the SQL can turn a UTC instant into local time with one CASE. The offset is
 * sampled once a day and each change located to the millisecond by bisection: zones change
 * offset a few times a year, never twice within a day.
 */
export function zoneSegments(timeZone: string, from: number, to: number): ZoneSegment[] {
  if (timeZone === "UTC") return [{ from, offsetMs: 0 }];
  const format = wallClockFormat(timeZone);
  const offsetAt = (at: number): number => {
    const parts = format.formatToParts(at);
    const field = (type: Intl.DateTimeFormatPartTypes) =>
      Number(parts.find((p) => p.type === type)?.value);
    // Some engines still write midnight as 24 despite h23.
    const wall = Date.UTC(
      field("year"),
      field("month") - 1,
      field("day"),
      field("hour") % 24,
      field("minute"),
      field("second"),
    );
    return wall - (at - (((at % 1000) + 1000) % 1000));
  };
  const segments: ZoneSegment[] = [{ from, offsetMs: offsetAt(from) }];
  let current = segments[0]?.offsetMs ?? 0;
  for (let low = from; low < to - 1; ) {
    let high = Math.min(low + DAY_MS, to - 1);
    const offset = offsetAt(high);
    if (offset === current) {
      low = high;
      continue;
    }
    // offsetAt(low) is the current offset and offsetAt(high) is not: the change is between.
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (offsetAt(middle) === current) low = middle;
      else high = middle;
    }
    current = offsetAt(high);
    segments.push({ from: high, offsetMs: current });
    low = high;
  }
  return segments;
}

/** The offset of `at` among `segments` (sorted by `from`). */
function offsetOf(segments: ZoneSegment[], at: number): number {
  let offset = segments[0]?.offsetMs ?? 0;
  for (const segment of segments) if (segment.from <= at) offset = segment.offsetMs;
  return offset;
}

/** `created_at` as local wall-clock ms (written as if UTC), and the offsets it binds. */
function localTime(segments: ZoneSegment[]): { sql: string; params: number[] } {
  const [first, ...changes] = segments;
  if (changes.length === 0) return { sql: "created_at + ?", params: [first?.offsetMs ?? 0] };
  const params: number[] = [];
  let previous = first?.offsetMs ?? 0;
  const cases = changes.map((segment) => {
    params.push(segment.from, previous);
    previous = segment.offsetMs;
    return "WHEN created_at < ? THEN ?";
  });
  params.push(previous);
  return { sql: `created_at + CASE ${cases.join(" ")} ELSE ? END`, params };
}

/** ms since local midnight of a local time (floor modulo: right for times before 1970 too). */
const sinceMidnight = (local: string) => `((${local} % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS}`;

/** Outcomes grouped by `key`, a function of the local time column `local`. */
async function groupedByLocalTime(
  db: D1Database,
  window: SearchWindow,
  segments: ZoneSegment[],
  key: string,
): Promise<Map<number, OutcomeCounts>> {
  const local = localTime(segments);
  const { where, params } = filtered(window);
  const { results } = await db
    .prepare(
      `SELECT ${key} AS bucket, ${OUTCOME_COLUMNS}
       FROM (SELECT status, accepted_at, CAST(${local.sql} AS INTEGER) AS local
             FROM chats WHERE ${where})
       GROUP BY bucket`,
    )
    .bind(...local.params, ...params)
    .all<OutcomeRow & { bucket: number }>();
  return new Map(results.map((row) => [row.bucket, outcomes(row)]));
}

/** Chats per local day of the window (`from` and `to` are set), every day listed. */
export async function readDaily(
  db: D1Database,
  window: SearchWindow & { from: number; to: number },
  segments: ZoneSegment[],
): Promise<(OutcomeCounts & { date: string })[]> {
  const byDay = await groupedByLocalTime(db, window, segments, `local - ${sinceMidnight("local")}`);
  const dayOf = (at: number) => {
    const local = at + offsetOf(segments, at);
    return local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  };
  const days: (OutcomeCounts & { date: string })[] = [];
  for (let day = dayOf(window.from); day <= dayOf(window.to - 1); day += DAY_MS) {
    const date = new Date(day).toISOString().slice(0, 10);
    days.push({ date, ...(byDay.get(day) ?? outcomes(undefined)) });
  }
  return days;
}

/** Chats per local hour of day (0–23) over the window, every hour listed. */
export async function readHourly(
  db: D1Database,
  window: SearchWindow,
  segments: ZoneSegment[],
): Promise<(OutcomeCounts & { hour: number })[]> {
  const byHour = await groupedByLocalTime(
    db,
    window,
    segments,
    `${sinceMidnight("local")} / ${HOUR_MS}`,
  );
  return Array.from({ length: 24 }, (_, hour) => ({
    hour,
    ...(byHour.get(hour) ?? outcomes(undefined)),
  }));
}

// ── Agents and departments ──────────────────────────────────────────────────────────────

/** Chats per owning agent: count, handle time, ratings; most chats first. */
export async function readAgents(db: D1Database, window: SearchWindow): Promise<AgentReportRow[]> {
  const { where, params } = filtered(window);
  const { results } = await db
    .prepare(
      `SELECT g.agent_id AS agentId, a.name AS agentName, g.chats, g.ended, g.averageHandle,
              g.rated, g.averageRating
       FROM (SELECT agent_id, count(*) AS chats, count(CASE WHEN ${ENDED_ANSWERED} THEN 1 END) AS ended,
                    avg(CASE WHEN ${ENDED_ANSWERED} THEN ended_at - accepted_at END) AS averageHandle,
                    count(rating) AS rated, avg(rating) AS averageRating
             FROM chats WHERE ${where} AND agent_id IS NOT NULL
             GROUP BY agent_id) g
       LEFT JOIN agents a ON a.id = g.agent_id
       ORDER BY g.chats DESC, g.agent_id`,
    )
    .bind(...params)
    .all<
      Omit<AgentReportRow, "averageHandleMs"> & {
        averageHandle: number | null;
      }
    >();
  return results.map(({ averageHandle, averageRating, ...row }) => ({
    ...row,
    averageHandleMs: roundMs(averageHandle),
    averageRating: roundRating(averageRating),
  }));
}

/** Chats per department: outcomes, waiting and handle times, ratings; by department id. */
export async function readDepartments(
  db: D1Database,
  window: SearchWindow,
): Promise<DepartmentReportRow[]> {
  const { where, params } = filtered(window);
  const { results } = await db
    .prepare(
      `SELECT g.department_id AS department, d.name, g.total, g.answered, g.missed,
              g.averageWait, g.averageHandle, g.rated, g.averageRating
       FROM (SELECT department_id, ${OUTCOME_COLUMNS},
                    avg(accepted_at - created_at) AS averageWait,
                    avg(CASE WHEN ${ENDED_ANSWERED} THEN ended_at - accepted_at END) AS averageHandle,
                    count(rating) AS rated, avg(rating) AS averageRating
             FROM chats WHERE ${where}
             GROUP BY department_id) g
       LEFT JOIN departments d ON d.id = g.department_id
       ORDER BY g.department_id`,
    )
    .bind(...params)
    .all<
      OutcomeRow & {
        department: string;
        name: string | null;
        averageWait: number | null;
        averageHandle: number | null;
        rated: number;
        averageRating: number | null;
      }
    >();
  return results.map((row) => ({
    department: row.department,
    name: row.name,
    ...outcomes(row),
    averageWaitMs: roundMs(row.averageWait),
    averageHandleMs: roundMs(row.averageHandle),
    rated: row.rated,
    averageRating: roundRating(row.averageRating),
  }));
}
