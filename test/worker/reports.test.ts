/**
 * Reports over real HTTP and D1 (issue 8, item 5): a seeded dataset of chats whose expected
 * figures this file computes on its own, in plain JS, from the same seed — outcomes, waiting,
 * first response and handle times (mean, p50, p90), ratings, days and hours (UTC and a time
 * zone across a DST change), agents and departments. Also the department scope, the range
 * edges, CSV (figures, formulas defused, audit row), refusals, and `first_response_at` set by
 * a real chat over sockets.
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type {
  AgentsReport,
  ChatsReport,
  DailyReport,
  DepartmentsReport,
  DurationReport,
  DurationStats,
  HourlyReport,
  OutcomeCounts,
  RatingStats,
  RatingsReport,
} from "../../src/protocol/reports.ts";
import {
  acceptedChat,
  agentChatSocket,
  auditRowsOf,
  flushedThrough,
  greeted,
  login,
  ORIGIN,
  seedAgent,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const DAY = 86_400_000;
/** 2011-03-20: ten days around Europe's DST change (2011-03-27 01:00 UTC). No other test writes 2011. */
const BASE = Date.UTC(2011, 2, 20);
const END = BASE + 10 * DAY;

interface Chat {
  id: string;
  department: string;
  status: "queued" | "active" | "ended" | "missed";
  agentId: string | null;
  createdAt: number;
  acceptedAt: number | null;
  firstResponseAt: number | null;
  endedAt: number | null;
  rating: number | null;
}

// ── Seed ─────────────────────────────────────────────────────────────────────────────────

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` chats between `from` and `from + span`: missed, abandoned, queued, active, ended. */
function generate(count: number, from: number, span: number, agents: Record<string, string[]>) {
  const random = prng(8);
  const int = (max: number) => Math.floor(random() * max);
  const departments = Object.keys(agents);
  const chats: Chat[] = [];
  for (let i = 0; i < count; i++) {
    const department = departments[int(departments.length)] as string;
    const createdAt = from + int(span);
    const chat: Chat = {
      id: crypto.randomUUID(),
      department,
      status: "ended",
      agentId: null,
      createdAt,
      acceptedAt: null,
      firstResponseAt: null,
      endedAt: null,
      rating: null,
    };
    const roll = random();
    if (roll < 0.1) Object.assign(chat, { status: "missed", endedAt: createdAt + 120_000 });
    else if (roll < 0.16)
      chat.endedAt = createdAt + int(60_000); // the visitor left first
    else if (roll < 0.2) chat.status = "queued";
    else if (roll < 0.23) {
      // Accepted, requeued when the agent went offline, then nobody took it.
      Object.assign(chat, { status: "missed", acceptedAt: createdAt + int(30_000) + 1 });
      chat.endedAt = createdAt + 300_000;
    } else {
      const owners = agents[department] ?? [];
      chat.agentId = owners[int(owners.length)] ?? null;
      chat.acceptedAt = createdAt + 1000 + int(300_000);
      if (random() < 0.85) chat.firstResponseAt = chat.acceptedAt + int(90_000);
      if (random() < 0.1) chat.status = "active";
      else {
        chat.endedAt = chat.acceptedAt + 5000 + int(1_800_000);
        if (random() < 0.45) chat.rating = 1 + int(5);
      }
    }
    chats.push(chat);
  }
  return chats;
}

async function insert(chats: Chat[]): Promise<void> {
  await env.DB.batch(
    chats.map((c) =>
      env.DB.prepare(
        `INSERT INTO chats (id, visitor_id, department_id, status, agent_id, created_at,
                            accepted_at, first_response_at, ended_at, rating)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
      ).bind(
        c.id,
        crypto.randomUUID(),
        c.department,
        c.status,
        c.agentId,
        c.createdAt,
        c.acceptedAt,
        c.firstResponseAt,
        c.endedAt,
        c.rating,
      ),
    ),
  );
}

// ── The expected figures, by the documented definitions ─────────────────────────────────

const isMissed = (c: Chat) =>
  c.status === "missed" || (c.status === "ended" && c.acceptedAt === null);
const endedAnswered = (c: Chat) => c.status === "ended" && c.acceptedAt !== null;

function outcomesOf(chats: Chat[]): OutcomeCounts {
  const missed = chats.filter(isMissed).length;
  const queued = chats.filter((c) => c.status === "queued" && c.acceptedAt === null).length;
  const answered = chats.filter((c) => c.acceptedAt !== null && !isMissed(c)).length;
  expect(answered + missed + queued).toBe(chats.length);
  return { total: chats.length, answered, missed, queued };
}

const mean = (values: number[]) =>
  values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
const meanMs = (values: number[]) => {
  const m = mean(values);
  return m === null ? null : Math.round(m);
};
const meanRating = (values: number[]) => {
  const m = mean(values);
  return m === null ? null : Math.round(m * 100) / 100;
};

function statsOf(values: number[]): DurationStats {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.ceil((sorted.length * p) / 100) - 1] ?? null;
  return { count: sorted.length, averageMs: meanMs(sorted), p50Ms: rank(50), p90Ms: rank(90) };
}

/** The figures of the single-value reports: chats, the three durations, ratings. */
interface Figures {
  chats: OutcomeCounts;
  waitingTime: DurationStats;
  firstResponseTime: DurationStats;
  handleTime: DurationStats;
  ratings: RatingStats;
}

function figuresOf(chats: Chat[]): Figures {
  const accepted = chats.filter((c) => c.acceptedAt !== null);
  const ratings = chats.flatMap((c) => (c.rating === null ? [] : [c.rating]));
  const rated = (r: number) => ratings.filter((x) => x === r).length;
  return {
    chats: outcomesOf(chats),
    waitingTime: statsOf(accepted.map((c) => (c.acceptedAt ?? 0) - c.createdAt)),
    firstResponseTime: statsOf(
      accepted.flatMap((c) =>
        c.firstResponseAt === null ? [] : [c.firstResponseAt - (c.acceptedAt ?? 0)],
      ),
    ),
    handleTime: statsOf(
      chats.filter(endedAnswered).map((c) => (c.endedAt ?? 0) - (c.acceptedAt ?? 0)),
    ),
    ratings: {
      count: ratings.length,
      average: meanRating(ratings),
      distribution: { "1": rated(1), "2": rated(2), "3": rated(3), "4": rated(4), "5": rated(5) },
    },
  };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Local date and hour of an instant, from Intl (not from the server's offset table). */
function localOf(at: number, timeZone: string): { date: string; hour: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
    });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    date: `${part("year")}-${part("month")}-${part("day")}`,
    hour: Number(part("hour")) % 24,
  };
}

function dailyOf(chats: Chat[], from: number, to: number, timeZone: string) {
  const days: DailyReport["days"] = [];
  const last = localOf(to - 1, timeZone).date;
  for (let day = Date.parse(localOf(from, timeZone).date); ; day += DAY) {
    const date = new Date(day).toISOString().slice(0, 10);
    days.push({
      date,
      ...outcomesOf(chats.filter((c) => localOf(c.createdAt, timeZone).date === date)),
    });
    if (date === last) return days;
  }
}

function hourlyOf(chats: Chat[], timeZone: string): HourlyReport["hours"] {
  return Array.from({ length: 24 }, (_, hour) => ({
    hour,
    ...outcomesOf(chats.filter((c) => localOf(c.createdAt, timeZone).hour === hour)),
  }));
}

function agentsOf(chats: Chat[], names: Map<string, string>): AgentsReport["agents"] {
  const ids = [...new Set(chats.flatMap((c) => (c.agentId ? [c.agentId] : [])))];
  return ids
    .map((agentId) => {
      const own = chats.filter((c) => c.agentId === agentId);
      const ended = own.filter(endedAnswered);
      const ratings = own.flatMap((c) => (c.rating === null ? [] : [c.rating]));
      return {
        agentId,
        agentName: names.get(agentId) ?? null,
        chats: own.length,
        ended: ended.length,
        averageHandleMs: meanMs(ended.map((c) => (c.endedAt ?? 0) - (c.acceptedAt ?? 0))),
        rated: ratings.length,
        averageRating: meanRating(ratings),
      };
    })
    .sort((a, b) => b.chats - a.chats || (a.agentId < b.agentId ? -1 : 1));
}

function departmentsOf(chats: Chat[]): DepartmentsReport["departments"] {
  return [...new Set(chats.map((c) => c.department))].sort().map((department) => {
    const own = chats.filter((c) => c.department === department);
    const ratings = own.flatMap((c) => (c.rating === null ? [] : [c.rating]));
    return {
      department,
      name: department,
      ...outcomesOf(own),
      averageWaitMs: meanMs(
        own.flatMap((c) => (c.acceptedAt === null ? [] : [c.acceptedAt - c.createdAt])),
      ),
      averageHandleMs: meanMs(
        own.filter(endedAnswered).map((c) => (c.endedAt ?? 0) - (c.acceptedAt ?? 0)),
      ),
      rated: ratings.length,
      averageRating: meanRating(ratings),
    };
  });
}

// ── The dataset and the callers ─────────────────────────────────────────────────────────

const [SALES, SUPPORT, OTHER] = [uniqueDepartment(), uniqueDepartment(), uniqueDepartment()];
let seeded: Chat[] = [];
const names = new Map<string, string>();
let admin = "";
/** reports.view (no transcript permission) in SALES only. */
let salesLead = { id: "", cookie: "" };

beforeAll(async () => {
  const staff: Record<string, string[]> = { [SALES]: [], [SUPPORT]: [], [OTHER]: [] };
  for (const [department, count] of [
    [SALES, 3],
    [SUPPORT, 2],
    [OTHER, 1],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const agent = await seedAgent({ departments: [department] });
      staff[department]?.push(agent.id);
      names.set(agent.id, agent.name);
    }
  }
  seeded = generate(240, BASE, END - BASE, staff);
  // The range edges: exactly at the start (counted) and exactly at the end (not counted).
  seeded.push(...generate(2, BASE, 1, staff), ...generate(2, END, 1, staff));
  await insert(seeded);
  const administrator = await seedAgent({ groups: ["administrators"] });
  admin = await login(administrator.email);
  const lead = await seedAgent({ groups: [], grants: ["reports.view"], departments: [SALES] });
  salesLead = { id: lead.id, cookie: await login(lead.email) };
});

const between = (from: number, to: number, departments?: string[]) =>
  seeded.filter(
    (c) =>
      c.createdAt >= from &&
      c.createdAt < to &&
      (departments === undefined || departments.includes(c.department)),
  );

function get(path: string, cookie: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: { cookie } });
}

async function report<Body>(cookie: string, name: string, query: Record<string, string | number>) {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const res = await get(`/api/reports/${name}?${params}`, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Body>();
}

const RANGE = { from: BASE, to: END };

/** The single-value reports as the API answers them. */
async function figures(cookie: string, query: Record<string, string | number>): Promise<Figures> {
  const duration = (name: string) =>
    report<DurationReport>(cookie, name, query).then((r) => r.stats);
  return {
    chats: (await report<ChatsReport>(cookie, "chats", query)).chats,
    waitingTime: await duration("waiting-time"),
    firstResponseTime: await duration("first-response-time"),
    handleTime: await duration("handle-time"),
    ratings: (await report<RatingsReport>(cookie, "ratings", query)).ratings,
  };
}

describe("reports over a seeded dataset", () => {
  it("outcomes, waiting, first response and handle times, ratings", async () => {
    const all = await figures(admin, RANGE);
    expect(all).toEqual(figuresOf(between(BASE, END)));
    // Missed chats and every duration are there in numbers, so the comparison means something.
    expect(all.chats.missed).toBeGreaterThan(20);
    expect(all.firstResponseTime.count).toBeGreaterThan(100);
    expect(all.ratings.count).toBeGreaterThan(50);
    expect(await report<ChatsReport>(admin, "chats", RANGE)).toEqual({
      range: { ...RANGE, department: null, timeZone: "UTC" },
      chats: all.chats,
    });
    const sales = await figures(admin, { ...RANGE, department: SALES });
    expect(sales).toEqual(figuresOf(between(BASE, END, [SALES])));
  });

  it("chats per day and per hour, in UTC", async () => {
    const daily = await report<DailyReport>(admin, "daily", RANGE);
    expect(daily.days).toEqual(dailyOf(between(BASE, END), BASE, END, "UTC"));
    expect(daily.days).toHaveLength(10);
    const hourly = await report<HourlyReport>(admin, "hourly", { ...RANGE, department: SUPPORT });
    expect(hourly.hours).toEqual(hourlyOf(between(BASE, END, [SUPPORT]), "UTC"));
  });

  it("chats per day and per hour in a time zone, across a DST change and a half-hour offset", async () => {
    for (const timeZone of ["Europe/Paris", "Asia/Kolkata", "America/St_Johns"]) {
      const query = { ...RANGE, tz: timeZone };
      const daily = await report<DailyReport>(admin, "daily", query);
      expect(daily.range.timeZone).toBe(timeZone);
      expect(daily.days, timeZone).toEqual(dailyOf(between(BASE, END), BASE, END, timeZone));
      const hourly = await report<HourlyReport>(admin, "hourly", query);
      expect(hourly.hours, timeZone).toEqual(hourlyOf(between(BASE, END), timeZone));
    }
    // 2011-03-27 in Paris has 23 hours: 00:30 UTC is 01:30 local, 01:30 UTC is 03:30.
    expect(localOf(Date.UTC(2011, 2, 27, 1, 30), "Europe/Paris").hour).toBe(3);
  });

  it("chats per agent and per department", async () => {
    const agents = await report<AgentsReport>(admin, "agents", RANGE);
    expect(agents.agents).toEqual(agentsOf(between(BASE, END), names));
    const departments = await report<DepartmentsReport>(admin, "departments", RANGE);
    expect(departments.departments).toEqual(departmentsOf(between(BASE, END)));
    expect(departments.departments.map((d) => d.department)).toEqual(
      [SALES, SUPPORT, OTHER].sort(),
    );
  });

  it("counts from `from` inclusive to `to` exclusive", async () => {
    const edge = seeded.find((c) => c.createdAt === BASE);
    expect(edge).toBeDefined();
    const at = (from: number, to: number) =>
      report<ChatsReport>(admin, "chats", { from, to }).then((r) => r.chats.total);
    expect(await at(BASE, BASE + 1)).toBe(between(BASE, BASE + 1).length);
    expect(await at(BASE - DAY, BASE)).toBe(0);
    expect(await at(END, END + 1)).toBe(2);
    expect(await at(END - DAY, END)).toBe(between(END - DAY, END).length);
    // A sub-range inside the data, to the millisecond.
    const [from, to] = [BASE + 2 * DAY + 12_345, BASE + 5 * DAY + 67_890];
    const sub = await figures(admin, { from, to, department: SUPPORT });
    expect(sub).toEqual(figuresOf(between(from, to, [SUPPORT])));
  });
});

describe("department scope", () => {
  it("counts only the agent's departments without transcripts.view_all", async () => {
    const own = await figures(salesLead.cookie, RANGE);
    expect(own).toEqual(figuresOf(between(BASE, END, [SALES])));
    const departments = await report<DepartmentsReport>(salesLead.cookie, "departments", RANGE);
    expect(departments.departments.map((d) => d.department)).toEqual([SALES]);
    const agents = await report<AgentsReport>(salesLead.cookie, "agents", RANGE);
    expect(agents.agents).toEqual(agentsOf(between(BASE, END, [SALES]), names));
  });

  it("answers an empty report for a department outside the scope", async () => {
    const outside = { ...RANGE, department: OTHER };
    const empty = await figures(salesLead.cookie, outside);
    expect(empty).toEqual(figuresOf([]));
    expect(empty.chats.total).toBe(0);
    const daily = await report<DailyReport>(salesLead.cookie, "daily", outside);
    expect(daily.days.every((d) => d.total === 0)).toBe(true);
    const agents = await report<AgentsReport>(salesLead.cookie, "agents", outside);
    expect(agents.agents).toEqual([]);
  });

  it("counts every department with transcripts.view_all", async () => {
    const agent = await seedAgent({
      groups: [],
      grants: ["reports.view", "transcripts.view_all"],
      departments: [SALES],
    });
    const cookie = await login(agent.email);
    const other = await figures(cookie, { ...RANGE, department: OTHER });
    expect(other).toEqual(figuresOf(between(BASE, END, [OTHER])));
  });
});

describe("CSV export", () => {
  it("exports the report's figures as CSV and audits the export", async () => {
    const query = `from=${BASE}&to=${END}&department=${SUPPORT}&tz=Europe/Paris`;
    const res = await get(`/api/reports/daily.csv?${query}`, salesLead.cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="report-daily-2011-03-20T00-00-00-000Z-2011-03-30T00-00-00-000Z.csv"',
    );
    // SUPPORT is outside the lead's scope: the rows are there, every count zero.
    const lines = (await res.text()).split("\r\n");
    expect(lines[0]).toBe("date,total,answered,missed,queued");
    expect(lines.slice(1, 3)).toEqual(["2011-03-20,0,0,0,0", "2011-03-21,0,0,0,0"]);

    const expected = figuresOf(between(BASE, END));
    const csv = (name: string) =>
      get(`/api/reports/${name}.csv?from=${BASE}&to=${END}`, admin).then((r) => r.text());
    const { chats, handleTime, ratings } = expected;
    expect(await csv("chats")).toBe(
      `total,answered,missed,queued\r\n${chats.total},${chats.answered},${chats.missed},${chats.queued}\r\n`,
    );
    expect(await csv("handle-time")).toBe(
      `count,average_ms,p50_ms,p90_ms\r\n${handleTime.count},${handleTime.averageMs},${handleTime.p50Ms},${handleTime.p90Ms}\r\n`,
    );
    const d = ratings.distribution;
    expect(await csv("ratings")).toBe(
      "count,average,rating_1,rating_2,rating_3,rating_4,rating_5\r\n" +
        `${ratings.count},${ratings.average},${d[1]},${d[2]},${d[3]},${d[4]},${d[5]}\r\n`,
    );

    const [row] = await auditRowsOf(salesLead.id, "report.export");
    expect(row).toMatchObject({ target: "daily", outcome: "success", department: SUPPORT });
    expect(row?.details).toEqual({
      from: BASE,
      to: END,
      department: SUPPORT,
      timeZone: "Europe/Paris",
      rows: 11,
    });
  });

  it("defuses spreadsheet formulas in names", async () => {
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    await env.DB.prepare("UPDATE agents SET name = ?1 WHERE id = ?2")
      .bind('=HYPERLINK("http://evil.example","x")', agent.id)
      .run();
    await env.DB.prepare("UPDATE departments SET name = '@SUM(A1)' WHERE id = ?1")
      .bind(department)
      .run();
    const at = Date.UTC(2012, 0, 2);
    const [chat] = generate(1, at, 1, { [department]: [agent.id] });
    if (!chat) throw new Error("no chat");
    await insert([
      {
        ...chat,
        status: "ended",
        agentId: agent.id,
        acceptedAt: at + 10,
        endedAt: at + 20,
        rating: null,
      },
    ]);
    const query = `from=${at}&to=${at + DAY}&department=${department}`;
    const agents = await (await get(`/api/reports/agents.csv?${query}`, admin)).text();
    expect(agents).toContain(`${agent.id},"'=HYPERLINK(""http://evil.example"",""x"")",1,1,10,`);
    const departments = await (await get(`/api/reports/departments.csv?${query}`, admin)).text();
    expect(departments).toContain(`${department},'@SUM(A1),1,1,0,0,10,10,0,\r\n`);
  });
});

describe("access and validation", () => {
  it("answers 403 without reports.view and audits the denial", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    for (const path of ["/api/reports/chats", "/api/reports/agents.csv"]) {
      const res = await get(path, cookie);
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    const denied = await auditRowsOf(agent.id, "access.denied");
    expect(denied.map((r) => r.target)).toEqual([
      "GET /api/reports/chats",
      "GET /api/reports/agents.csv",
    ]);
    expect(await auditRowsOf(agent.id, "report.export")).toEqual([]);
  });

  it("answers 400 on bad parameters", async () => {
    const year = 366 * DAY;
    for (const query of [
      "from=nope",
      `from=${END}&to=${BASE}`,
      `from=${BASE}&to=${BASE}`,
      `from=${BASE}&to=${BASE + year + 1}`,
      `from=${Date.now() + DAY}`,
      "tz=Mars/Olympus_Mons",
      "department=Not%20A%20Slug",
      "limit=10",
      `from=${BASE}&from=${BASE}`,
    ]) {
      const res = await get(`/api/reports/waiting-time?${query}`, admin);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    }
    const year1 = await get(`/api/reports/hourly?from=${BASE}&to=${BASE + year}`, admin);
    expect(year1.status).toBe(200);
  });

  it("covers the last 7 days when no range is given", async () => {
    const before = Date.now();
    const { range } = await report<ChatsReport>(admin, "chats", {});
    expect(range.to).toBeGreaterThanOrEqual(before);
    expect(range.to).toBeLessThanOrEqual(Date.now());
    expect(range.to - range.from).toBe(7 * DAY);
    const { days } = await report<DailyReport>(admin, "daily", { to: BASE + 7 * DAY });
    expect(days.map((d) => d.date)).toEqual(
      dailyOf([], BASE, BASE + 7 * DAY, "UTC").map((d) => d.date),
    );
  });
});

describe("first response time", () => {
  it("is the first agent message, not a visitor message or a whisper", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    const stored = async (seq: number) => {
      await flushedThrough(chat.chatId, seq);
      const row = await env.DB.prepare("SELECT first_response_at AS at FROM chats WHERE id = ?1")
        .bind(chat.chatId)
        .first<{ at: number | null }>();
      return row?.at ?? null;
    };
    visitor.send({ type: "message", clientId: "v1", text: "Hello?" });
    const v1 = await visitor.nextOfType("ack", (f) => f.clientId === "v1");
    agent.send({ type: "whisper", clientId: "w1", text: "new customer" });
    const w1 = await agent.nextOfType("event", (f) => f.clientId === "w1");
    expect(await stored(Math.max(v1.seq as number, w1.seq as number))).toBeNull();

    agent.send({ type: "message", clientId: "a1", text: "Hi, how can I help?" });
    const a1 = await agent.nextOfType("event", (f) => f.clientId === "a1");
    expect(await stored(a1.seq as number)).toBe(a1.at);
    agent.send({ type: "message", clientId: "a2", text: "Still there?" });
    const a2 = await agent.nextOfType("event", (f) => f.clientId === "a2");
    expect(await stored(a2.seq as number)).toBe(a1.at);
    chat.console.ws.close();
  });
});
