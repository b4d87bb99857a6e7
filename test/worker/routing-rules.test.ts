/**
 * Routing and allocation rules over HTTP: the `/api/routing` routes (permission, validation,
 * audit, D1) and chat start outside a department's business hours. Real HTTP into the Worker.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  agentOnline,
  apiRequest,
  login,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

async function routingManager() {
  const agent = await seedAgent({ groups: [], grants: ["routing.manage"] });
  return { ...agent, cookie: await login(agent.email) };
}

/** A new department of this test only. */
async function newDepartment(): Promise<string> {
  const id = uniqueDepartment();
  await env.DB.prepare("INSERT INTO departments (id, name, created_at) VALUES (?1, ?2, 0)")
    .bind(id, `Dept ${id}`)
    .run();
  return id;
}

interface AuditRow {
  actor_id: string | null;
  target: string | null;
  outcome: string;
  department: string | null;
  details: Record<string, unknown>;
}

/** Audit rows of `action` about `target` (tests share D1). */
async function auditRows(action: string, target: string): Promise<AuditRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT actor_id, target, outcome, department, details FROM audit_log WHERE action = ?1 AND target = ?2 ORDER BY id",
  )
    .bind(action, target)
    .all<Omit<AuditRow, "details"> & { details: string | null }>();
  return results.map((row) => ({ ...row, details: JSON.parse(row.details ?? "{}") }));
}

async function storedRule(department: string) {
  return env.DB.prepare("SELECT * FROM routing_rules WHERE department_id = ?1")
    .bind(department)
    .first<Record<string, unknown>>();
}

const putRule = (cookie: string, department: string, body: unknown) =>
  apiRequest("PUT", `/api/routing/rules/${department}`, cookie, body);

const BERLIN_OFFICE = {
  timezone: "Europe/Berlin",
  week: { mon: [{ from: "09:00", to: "17:00" }], sat: [{ from: "10:00", to: "24:00" }] },
  closedDates: ["2026-12-24"],
};

const DEFAULTS = {
  strategy: "least_busy",
  offerTimeoutSeconds: null,
  overflowTo: null,
  overflowAfterSeconds: null,
  businessHours: null,
  prioritySegments: [],
};

describe("/api/routing/rules", () => {
  it("stores, lists and resets a department's rules, each change audited", async () => {
    const manager = await routingManager();
    const sales = await newDepartment();
    const support = await newDepartment();

    const initial = await apiRequest("GET", `/api/routing/rules/${sales}`, manager.cookie);
    expect(initial.status).toBe(200);
    expect(await initial.json()).toEqual({
      rule: {
        ...DEFAULTS,
        departmentId: sales,
        departmentName: `Dept ${sales}`,
        default: true,
        updatedAt: null,
        updatedBy: null,
      },
    });

    const body = {
      strategy: "round_robin",
      offerTimeoutSeconds: 45,
      overflowTo: support,
      overflowAfterSeconds: 120,
      businessHours: BERLIN_OFFICE,
    };
    const put = await putRule(manager.cookie, sales, body);
    expect(put.status, await put.clone().text()).toBe(200);
    const stored = {
      ...body,
      prioritySegments: [],
      // The schema fills in the days without windows.
      businessHours: {
        ...BERLIN_OFFICE,
        week: { tue: [], wed: [], thu: [], fri: [], sun: [], ...BERLIN_OFFICE.week },
      },
    };
    const { rule } = await put.json<{ rule: Record<string, unknown> }>();
    expect(rule).toEqual({
      ...stored,
      departmentId: sales,
      departmentName: `Dept ${sales}`,
      default: false,
      updatedAt: expect.any(Number),
      updatedBy: manager.id,
    });
    expect(await storedRule(sales)).toMatchObject({
      strategy: "round_robin",
      offer_timeout_seconds: 45,
      overflow_to: support,
      overflow_after_seconds: 120,
      updated_by: manager.id,
    });

    // Every department is listed: its own rules or the defaults.
    const list = await apiRequest("GET", "/api/routing/rules", manager.cookie);
    expect(list.status).toBe(200);
    const { rules } = await list.json<{ rules: { departmentId: string; default: boolean }[] }>();
    expect(rules.find((r) => r.departmentId === sales)).toEqual(rule);
    expect(rules.find((r) => r.departmentId === support)).toMatchObject({
      ...DEFAULTS,
      default: true,
    });
    expect(rules.find((r) => r.departmentId === "general")).toBeDefined();

    // A second change records what it replaced; overflow may point back (a → b → a).
    const back = await putRule(manager.cookie, support, {
      overflowTo: sales,
      overflowAfterSeconds: 60,
    });
    expect(back.status).toBe(200);
    const manual = await putRule(manager.cookie, sales, { strategy: "manual" });
    expect(manual.status).toBe(200);
    expect((await manual.json<{ rule: unknown }>()).rule).toMatchObject({
      ...DEFAULTS,
      strategy: "manual",
      default: false,
    });

    const reset = await apiRequest("DELETE", `/api/routing/rules/${sales}`, manager.cookie);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ rule: { ...DEFAULTS, default: true } });
    expect(await storedRule(sales)).toBeNull();
    // Resetting a department that has no rules changes nothing and records nothing.
    const again = await apiRequest("DELETE", `/api/routing/rules/${sales}`, manager.cookie);
    expect(again.status).toBe(200);

    expect(await auditRows("routing.rules_update", sales)).toEqual([
      {
        actor_id: manager.id,
        target: sales,
        outcome: "success",
        department: sales,
        details: { before: null, after: stored },
      },
      expect.objectContaining({
        details: { before: stored, after: { ...DEFAULTS, strategy: "manual" } },
      }),
    ]);
    expect(await auditRows("routing.rules_reset", sales)).toEqual([
      {
        actor_id: manager.id,
        target: sales,
        outcome: "success",
        department: sales,
        details: { before: { ...DEFAULTS, strategy: "manual" }, after: null },
      },
    ]);
  });

  it("answers 403 forbidden without routing.manage, with an audit row", async () => {
    const agent = await seedAgent({ groups: ["supervisors"] });
    const cookie = await login(agent.email);
    const department = await newDepartment();
    const requests = [
      ["GET", "/api/routing/rules", undefined],
      ["GET", `/api/routing/rules/${department}`, undefined],
      ["PUT", `/api/routing/rules/${department}`, { strategy: "manual" }],
      ["DELETE", `/api/routing/rules/${department}`, undefined],
      ["PUT", `/api/routing/capacity/${agent.id}`, { maxChats: 9 }],
    ] as const;
    for (const [method, path, body] of requests) {
      const res = await apiRequest(method, path, cookie, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    const denied = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE actor_id = ?1 AND action = 'access.denied' AND outcome = 'denied'",
    )
      .bind(agent.id)
      .first<{ n: number }>();
    expect(denied?.n).toBe(requests.length);
    expect(await storedRule(department)).toBeNull();
    const row = await env.DB.prepare("SELECT max_chats FROM agents WHERE id = ?1")
      .bind(agent.id)
      .first<{ max_chats: number | null }>();
    expect(row?.max_chats).toBeNull();
  });

  const hoursWith = (over: Record<string, unknown>) => ({
    businessHours: { timezone: "UTC", week: {}, ...over },
  });
  it.each([
    ["an unknown strategy", { strategy: "random" }],
    ["an offer timeout under 5 s", { offerTimeoutSeconds: 4 }],
    ["a time that is not HH:MM", hoursWith({ week: { mon: [{ from: "9:00", to: "17:00" }] } })],
    ["a time past 24:00", hoursWith({ week: { mon: [{ from: "09:00", to: "24:30" }] } })],
    ["an unknown time zone", hoursWith({ timezone: "Mars/Olympus_Mons" })],
    ["from equal to to", hoursWith({ week: { mon: [{ from: "10:00", to: "10:00" }] } })],
    ["from after to", hoursWith({ week: { mon: [{ from: "18:00", to: "09:00" }] } })],
    ["an unknown weekday", hoursWith({ week: { monday: [] } })],
    ["a closed date that is no date", hoursWith({ closedDates: ["24.12.2026"] })],
    ["overflow without seconds", { overflowTo: "general" }],
    ["seconds without overflow", { overflowAfterSeconds: 60 }],
    ["overflow to itself", { overflowTo: "SELF", overflowAfterSeconds: 60 }],
    ["overflow to an unknown department", { overflowTo: "no-such-dept", overflowAfterSeconds: 60 }],
    ["an unknown field", { priority: 1 }],
  ])("refuses %s with 400", async (_, body) => {
    const manager = await routingManager();
    const department = await newDepartment();
    const sent = JSON.parse(JSON.stringify(body).replace('"SELF"', JSON.stringify(department)));
    const res = await putRule(manager.cookie, department, sent);
    expect(res.status, await res.clone().text()).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    expect(await storedRule(department)).toBeNull();
    expect(await auditRows("routing.rules_update", department)).toEqual([]);
  });

  it("answers 404 for a department that does not exist", async () => {
    const manager = await routingManager();
    const missing = uniqueDepartment();
    for (const [method, body] of [
      ["GET", undefined],
      ["PUT", { strategy: "manual" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await apiRequest(method, `/api/routing/rules/${missing}`, manager.cookie, body);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "department_not_found" } });
    }
    expect(await storedRule(missing)).toBeNull();
  });
});

describe("/api/routing/capacity", () => {
  const maxChats = async (agentId: string) =>
    (
      await env.DB.prepare("SELECT max_chats FROM agents WHERE id = ?1")
        .bind(agentId)
        .first<{ max_chats: number | null }>()
    )?.max_chats;

  it("sets and clears an agent's capacity, audited", async () => {
    const manager = await routingManager();
    const agent = await seedAgent({ maxChats: 2 });
    const set = await apiRequest("PUT", `/api/routing/capacity/${agent.id}`, manager.cookie, {
      maxChats: 7,
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ agentId: agent.id, maxChats: 7, capacity: 7 });
    expect(await maxChats(agent.id)).toBe(7);

    const cleared = await apiRequest("PUT", `/api/routing/capacity/${agent.id}`, manager.cookie, {
      maxChats: null,
    });
    expect(cleared.status).toBe(200);
    // Null: the deployment's AGENT_MAX_CHATS (default 5 in the tests).
    expect(await cleared.json()).toEqual({ agentId: agent.id, maxChats: null, capacity: 5 });
    expect(await maxChats(agent.id)).toBeNull();

    expect(await auditRows("routing.capacity_update", agent.id)).toEqual([
      {
        actor_id: manager.id,
        target: agent.id,
        outcome: "success",
        department: null,
        details: { before: 2, after: 7 },
      },
      expect.objectContaining({ details: { before: 7, after: null } }),
    ]);
  });

  it.each([
    ["0", { maxChats: 0 }],
    ["51", { maxChats: 51 }],
    ["a fraction", { maxChats: 2.5 }],
    ["a string", { maxChats: "3" }],
    ["nothing", {}],
    ["an unknown field", { maxChats: 3, extra: true }],
  ])("refuses %s with 400", async (_, body) => {
    const manager = await routingManager();
    const agent = await seedAgent({ maxChats: 4 });
    const res = await apiRequest("PUT", `/api/routing/capacity/${agent.id}`, manager.cookie, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    expect(await maxChats(agent.id)).toBe(4);
  });

  it("takes effect for an agent already online (the Dispatcher re-reads it)", async () => {
    const manager = await routingManager();
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department], maxChats: 1 });
    const console = await agentOnline(await login(agent.email));
    const res = await apiRequest("PUT", `/api/routing/capacity/${agent.id}`, manager.cookie, {
      maxChats: 2,
    });
    expect(res.status).toBe(200);
    const first = await startChat(department);
    const second = await startChat(department);
    // With the old capacity of 1 the second chat would wait, offered to no one.
    await console.nextOfType("offer", (f) => f.chatId === first.chatId);
    await console.nextOfType("offer", (f) => f.chatId === second.chatId);
  });

  it("answers 404 for an unknown agent", async () => {
    const manager = await routingManager();
    const id = crypto.randomUUID();
    const res = await apiRequest("PUT", `/api/routing/capacity/${id}`, manager.cookie, {
      maxChats: 3,
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "agent_not_found" } });
    expect(await auditRows("routing.capacity_update", id)).toEqual([]);
  });
});

describe("chat start and business hours", () => {
  const DAY_MS = 86_400_000;
  const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

  /** A department with an agent online and `businessHours`. */
  async function staffed(businessHours: unknown) {
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(agent.email));
    const manager = await routingManager();
    const res = await putRule(manager.cookie, department, { businessHours });
    expect(res.status, await res.clone().text()).toBe(200);
    return { department, console };
  }

  async function chatCount(department: string): Promise<number> {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM chats WHERE department_id = ?1")
      .bind(department)
      .first<{ n: number }>();
    return row?.n ?? 0;
  }

  it("answers outside_hours with opensAt null when it never opens, creating nothing", async () => {
    const { department, console } = await staffed({ timezone: "UTC", week: {} });
    const res = await postJson("/api/visitor/chats", { name: "Ann", department });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ offline: true, reason: "outside_hours", opensAt: null });
    expect(await chatCount(department)).toBe(0);
    // No offer reached the agent.
    expect(console.frames.some((f) => f.type === "offer")).toBe(false);
    // The offline form still works.
    const message = await postJson("/api/visitor/offline-messages", {
      email: "ann@example.com",
      message: "Call me back.",
      department,
    });
    expect(message.status).toBe(201);
  });

  it("answers outside_hours with the next opening when closed now", async () => {
    // Open only tomorrow (UTC): closed all of today, opens at the next UTC midnight.
    const tomorrow = WEEKDAYS[new Date(Date.now() + DAY_MS).getUTCDay()] ?? "mon";
    const { department } = await staffed({
      timezone: "UTC",
      week: { [tomorrow]: [{ from: "00:00", to: "01:00" }] },
    });
    const before = Date.now();
    const res = await postJson("/api/visitor/chats", { department });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      offline: true,
      reason: "outside_hours",
      opensAt: (Math.floor(before / DAY_MS) + 1) * DAY_MS,
    });
    expect(await chatCount(department)).toBe(0);
  });

  it("queues the chat as usual inside business hours", async () => {
    const allDay = Object.fromEntries(
      WEEKDAYS.map((day) => [day, [{ from: "00:00", to: "24:00" }]]),
    );
    const { department, console } = await staffed({ timezone: "UTC", week: allDay });
    const chat = await startChat(department);
    expect(chat.queuePosition).toBe(1);
    await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(await chatCount(department)).toBe(1);
  });
});
