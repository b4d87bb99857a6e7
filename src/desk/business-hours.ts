/**
 * Business hours of a department (`src/protocol/routing.ts`): whether it is open at an instant,
 * and when it opens next. Pure: the local weekday, date and time come from `Intl` in the
 * rule's IANA time zone, so daylight saving time follows the zone's own rules.
 */
import { type BusinessHours, WEEKDAYS, type Weekday } from "../protocol/routing.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** How far `nextOpening` looks ahead: two weeks cover any weekly schedule plus holidays. */
const HORIZON_MS = 14 * DAY_MS;

/** The wall clock of one instant in a time zone. */
interface WallClock {
  /** The local date and time written as if it were UTC (ms): differences are wall minutes. */
  wall: number;
  /** Local date, YYYY-MM-DD (the format of `closedDates`). */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

type ClockReader = (at: number) => WallClock;

/** A formatter of wall-clock date and time (24 h, numeric parts) in `timeZone`. */
export function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** A reader of wall clocks in `timeZone`; the formatter is built once per call of the API. */
function clockIn(timeZone: string): ClockReader {
  const format = wallClockFormat(timeZone);
  return (at) => {
    const parts = format.formatToParts(at);
    const field = (type: Intl.DateTimeFormatPartTypes) =>
      Number(parts.find((p) => p.type === type)?.value);
    // Some engines still write midnight as 24 despite h23.
    const wall =
      Date.UTC(
        field("year"),
        field("month") - 1,
        field("day"),
        field("hour") % 24,
        field("minute"),
        field("second"),
      ) +
      (((at % 1000) + 1000) % 1000);
    const day = new Date(wall);
    return {
      wall,
      date: day.toISOString().slice(0, 10),
      // getUTCDay counts from Sunday; WEEKDAYS starts on Monday.
      weekday: WEEKDAYS[(day.getUTCDay() + 6) % 7] as Weekday,
      minutes: day.getUTCHours() * 60 + day.getUTCMinutes(),
    };
  };
}

function toMinutes(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

function openAt(hours: BusinessHours, clock: WallClock): boolean {
  if (hours.closedDates.includes(clock.date)) return false;
  return hours.week[clock.weekday].some(
    (w) => toMinutes(w.from) <= clock.minutes && clock.minutes < toMinutes(w.to),
  );
}

/**
 * True when the department is open at `now` (ms): the local time falls in one of the day's
 * windows `[from, to)` and the local date is not a closed date. No hours (null): always open.
 */
export function isOpen(hours: BusinessHours | null, now: number): boolean {
  return hours === null || openAt(hours, clockIn(hours.timezone)(now));
}

/**
 * The first instant at or after `now` at which the department is open (`now` itself when it
 * is open), or null when it does not open within 14 days. For the offline answer's `opensAt`.
 */
export function nextOpening(hours: BusinessHours | null, now: number): number | null {
  if (hours === null) return now;
  const read = clockIn(hours.timezone);
  let at = now;
  while (at <= now + HORIZON_MS) {
    const clock = read(at);
    if (openAt(hours, clock)) return at;
    // Walk the wall clock to the next window start today, else to the next local midnight.
    const starts = hours.closedDates.includes(clock.date)
      ? []
      : hours.week[clock.weekday].map((w) => toMinutes(w.from)).filter((m) => m > clock.minutes);
    const target = Math.min(24 * 60, ...starts);
    const wallTarget = clock.wall - (clock.wall % DAY_MS) + target * MINUTE_MS;
    const next = at + (wallTarget - clock.wall);
    // Across a DST change the same wall distance is another real distance: stop at the
    // change instead and look again from there (a window may open exactly then).
    at = read(next).wall - next === clock.wall - at ? next : offsetChange(read, at, next);
  }
  return null;
}

/** The first instant in `(from, to]` whose UTC offset differs from `from`'s (binary search). */
function offsetChange(read: ClockReader, from: number, to: number): number {
  const offset = read(from).wall - from;
  let before = from;
  let after = to;
  while (after - before > 1) {
    const middle = before + Math.floor((after - before) / 2);
    if (read(middle).wall - middle === offset) before = middle;
    else after = middle;
  }
  return after;
}
