import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOpen, nextOpening } from "../../src/desk/business-hours.ts";
import { type BusinessHours, businessHours, WEEKDAYS } from "../../src/protocol/routing.ts";

type Week = Partial<Record<(typeof WEEKDAYS)[number], { from: string; to: string }[]>>;

/** Business hours through the request schema, so the defaults are the real ones. */
const hours = (timezone: string, week: Week, closedDates: string[] = []): BusinessHours =>
  businessHours.parse({ timezone, week, closedDates });

const at = (iso: string) => Date.parse(iso);
const weekdays = (from: string, to: string): Week =>
  Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((day) => [day, [{ from, to }]]));

describe("isOpen and nextOpening", () => {
  it("treats no business hours as always open", () => {
    expect(isOpen(null, at("2026-01-04T03:00:00Z"))).toBe(true);
    expect(nextOpening(null, 1234)).toBe(1234);
  });

  it("opens at from and closes at to (exclusive), on the listed days only", () => {
    const office = hours("UTC", weekdays("09:00", "17:00"));
    // 2026-01-05 is a Monday.
    expect(isOpen(office, at("2026-01-05T08:59:59.999Z"))).toBe(false);
    expect(isOpen(office, at("2026-01-05T09:00:00Z"))).toBe(true);
    expect(isOpen(office, at("2026-01-05T16:59:59Z"))).toBe(true);
    expect(isOpen(office, at("2026-01-05T17:00:00Z"))).toBe(false);
    expect(isOpen(office, at("2026-01-10T12:00:00Z"))).toBe(false);
    expect(nextOpening(office, at("2026-01-05T12:00:00Z"))).toBe(at("2026-01-05T12:00:00Z"));
    expect(nextOpening(office, at("2026-01-05T08:59:30Z"))).toBe(at("2026-01-05T09:00:00Z"));
    expect(nextOpening(office, at("2026-01-09T17:00:00Z"))).toBe(at("2026-01-12T09:00:00Z"));
  });

  it("reads 24:00 as the end of the day and picks the earliest of several windows", () => {
    const late = hours("UTC", {
      mon: [
        { from: "22:00", to: "24:00" },
        { from: "12:00", to: "13:00" },
      ],
      tue: [{ from: "00:00", to: "02:00" }],
    });
    expect(isOpen(late, at("2026-01-05T23:59:59Z"))).toBe(true);
    expect(isOpen(late, at("2026-01-06T00:00:00Z"))).toBe(true);
    expect(isOpen(late, at("2026-01-06T02:00:00Z"))).toBe(false);
    expect(nextOpening(late, at("2026-01-05T10:00:00Z"))).toBe(at("2026-01-05T12:00:00Z"));
    expect(nextOpening(late, at("2026-01-05T13:00:00Z"))).toBe(at("2026-01-05T22:00:00Z"));
  });

  it("closes on closed dates by the local date, not the UTC one", () => {
    const allDay = Object.fromEntries(
      WEEKDAYS.map((day) => [day, [{ from: "00:00", to: "24:00" }]]),
    );
    const berlin = hours("Europe/Berlin", allDay, ["2026-12-24"]);
    // 23:59:59 on 23 December in Berlin, then midnight of the 24th (22:59:59Z / 23:00Z).
    expect(isOpen(berlin, at("2026-12-23T22:59:59Z"))).toBe(true);
    expect(isOpen(berlin, at("2026-12-23T23:00:00Z"))).toBe(false);
    expect(nextOpening(berlin, at("2026-12-24T10:00:00Z"))).toBe(at("2026-12-24T23:00:00Z"));
  });

  it("follows Europe/Berlin across the spring change (29 March 2026, 02:00 → 03:00)", () => {
    const sunday = hours("Europe/Berlin", {
      sun: [{ from: "02:00", to: "04:00" }],
      mon: [{ from: "09:00", to: "17:00" }],
    });
    // 02:00 does not exist that night: the window opens when the clock jumps to 03:00 CEST.
    expect(isOpen(sunday, at("2026-03-29T00:59:59Z"))).toBe(false);
    expect(isOpen(sunday, at("2026-03-29T01:00:00Z"))).toBe(true);
    expect(isOpen(sunday, at("2026-03-29T01:59:59Z"))).toBe(true);
    expect(isOpen(sunday, at("2026-03-29T02:00:00Z"))).toBe(false);
    expect(nextOpening(sunday, at("2026-03-28T23:30:00Z"))).toBe(at("2026-03-29T01:00:00Z"));
    // Monday 09:00 CEST is 07:00Z (the week before it was 08:00Z).
    expect(nextOpening(sunday, at("2026-03-29T02:00:00Z"))).toBe(at("2026-03-30T07:00:00Z"));
    expect(nextOpening(sunday, at("2026-03-22T03:00:00Z"))).toBe(at("2026-03-23T08:00:00Z"));

    // A window inside the skipped hour never opens that night.
    const skipped = hours("Europe/Berlin", {
      sun: [{ from: "02:15", to: "02:45" }],
      mon: [{ from: "09:00", to: "17:00" }],
    });
    expect(nextOpening(skipped, at("2026-03-28T23:30:00Z"))).toBe(at("2026-03-30T07:00:00Z"));
  });

  it("follows Europe/Berlin across the autumn change (25 October 2026, 03:00 → 02:00)", () => {
    const early = hours("Europe/Berlin", {
      sun: [
        { from: "02:00", to: "02:30" },
        { from: "09:00", to: "17:00" },
      ],
    });
    // 02:00–02:30 happens twice: at 00:00Z (CEST) and at 01:00Z (CET).
    expect(isOpen(early, at("2026-10-25T00:00:00Z"))).toBe(true);
    expect(isOpen(early, at("2026-10-25T00:40:00Z"))).toBe(false);
    expect(isOpen(early, at("2026-10-25T01:29:59Z"))).toBe(true);
    expect(isOpen(early, at("2026-10-25T01:30:00Z"))).toBe(false);
    expect(nextOpening(early, at("2026-10-24T22:00:00Z"))).toBe(at("2026-10-25T00:00:00Z"));
    expect(nextOpening(early, at("2026-10-25T00:40:00Z"))).toBe(at("2026-10-25T01:00:00Z"));
    expect(nextOpening(early, at("2026-10-25T01:30:00Z"))).toBe(at("2026-10-25T08:00:00Z"));
  });

  it("follows America/New_York across both changes of 2026", () => {
    const office = hours("America/New_York", weekdays("09:00", "17:00"));
    // Friday 17:00 EST → Monday 09:00 EDT (8 March 2026 moved the clocks forward).
    expect(isOpen(office, at("2026-03-06T21:59:59Z"))).toBe(true);
    expect(nextOpening(office, at("2026-03-06T22:00:00Z"))).toBe(at("2026-03-09T13:00:00Z"));
    // Friday 17:00 EDT → Monday 09:00 EST (1 November 2026 moved them back).
    expect(nextOpening(office, at("2026-10-30T21:00:00Z"))).toBe(at("2026-11-02T14:00:00Z"));
    expect(isOpen(office, at("2026-11-02T13:59:59Z"))).toBe(false);
  });

  it("answers null when it does not open within 14 days", () => {
    const never = hours("UTC", {});
    expect(isOpen(never, at("2026-01-05T12:00:00Z"))).toBe(false);
    expect(nextOpening(never, at("2026-01-05T12:00:00Z"))).toBeNull();
    // Mondays only, and the next three Mondays are holidays.
    const mondays = hours("UTC", { mon: [{ from: "09:00", to: "10:00" }] }, [
      "2026-01-12",
      "2026-01-19",
      "2026-01-26",
    ]);
    expect(nextOpening(mondays, at("2026-01-05T11:00:00Z"))).toBeNull();
    expect(nextOpening(mondays, at("2026-01-19T11:00:00Z"))).toBe(at("2026-02-02T09:00:00Z"));
  });
});

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kolkata",
  // A 30-minute daylight saving change.
  "Australia/Lord_Howe",
  "Pacific/Chatham",
];
const clock = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
const openingWindow = fc
  .tuple(fc.integer({ min: 0, max: 1440 }), fc.integer({ min: 0, max: 1440 }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => ({ from: clock(Math.min(a, b)), to: clock(Math.max(a, b)) }));
/** Clock changes of 2026 in ZONES (Berlin, New York, Lord Howe, Chatham). */
const CHANGES = [
  "2026-03-29T01:00:00Z",
  "2026-10-25T01:00:00Z",
  "2026-03-08T07:00:00Z",
  "2026-11-01T06:00:00Z",
  "2026-04-04T15:00:00Z",
  "2026-10-03T15:30:00Z",
  "2026-04-04T14:00:00Z",
  "2026-09-26T14:00:00Z",
];
const START = at("2026-01-01T00:00:00Z");
const YEAR_MS = 365 * 24 * 3600_000;
const schedule = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    week: fc.record(
      Object.fromEntries(WEEKDAYS.map((day) => [day, fc.array(openingWindow, { maxLength: 2 })])),
    ),
    now: fc.oneof(
      fc.integer({ min: START, max: START + YEAR_MS }),
      // Often in the days before a clock change of one of the zones.
      fc
        .tuple(fc.constantFrom(...CHANGES), fc.integer({ min: 0, max: 3 * 86_400_000 }))
        .map(([change, before]) => at(change) - before),
    ),
    closedInDays: fc.array(fc.integer({ min: -1, max: 16 }), { maxLength: 6 }),
  })
  .map(({ zone, week, now, closedInDays }) => ({
    now,
    hours: hours(
      zone,
      week,
      closedInDays.map((days) => new Date(now + days * 86_400_000).toISOString().slice(0, 10)),
    ),
  }));

describe("nextOpening (property)", () => {
  it("is the first open instant from now on, within 14 days", () => {
    fc.assert(
      fc.property(schedule, fc.array(fc.double({ min: 0, max: 1, noNaN: true })), (c, probes) => {
        const { hours: h, now } = c;
        const next = nextOpening(h, now);
        const until = next ?? now + 14 * 86_400_000;
        if (next !== null) {
          expect(next).toBeGreaterThanOrEqual(now);
          expect(isOpen(h, next)).toBe(true);
          expect(next === now).toBe(isOpen(h, now));
          // Closed just before it opens (it is an opening, not the middle of a window).
          if (next > now) expect(isOpen(h, next - 1)).toBe(false);
        }
        // Closed everywhere between now and then.
        for (const p of probes) {
          const probe = Math.floor(now + p * (until - now));
          if (probe < until) expect(isOpen(h, probe)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
