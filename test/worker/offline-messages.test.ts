/**
 * Offline messages API over real HTTP and D1: department scoping, time and keyword filters
 * (LIKE with the caller's wildcards taken literally), keyset pagination, view, deletion and
 * their audit rows, and input validation.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  OfflineMessageResponse,
  OfflineMessageSearchResponse,
} from "../../src/protocol/http.ts";
import { login, ORIGIN, seedAgent, uniqueDepartment } from "./helpers.ts";

const MAY_1 = Date.UTC(2024, 4, 1);

async function agentCookie(options: { departments?: string[]; grants?: string[] }) {
  const agent = await seedAgent(options);
  return { ...agent, cookie: await login(agent.email) };
}

interface SeedMessage {
  department: string;
  createdAt: number;
  message?: string;
  name?: string | null;
  email?: string;
}

/** Inserts an offline message straight into D1. */
async function seedMessage(msg: SeedMessage): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT OR IGNORE INTO departments (id, name, created_at) VALUES (?1, ?1, 0)",
  )
    .bind(msg.department)
    .run();
  await env.DB.prepare(
    `INSERT INTO offline_messages (id, name, email, department_id, message, page_url, ip, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'https://shop.example/cart', '203.0.113.7', ?6)`,
  )
    .bind(
      id,
      msg.name === undefined ? "Olga" : msg.name,
      msg.email ?? "olga@example.com",
      msg.department,
      msg.message ?? "Please call me back.",
      msg.createdAt,
    )
    .run();
  return id;
}

function get(path: string, cookie: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: { cookie, origin: ORIGIN } });
}

function del(path: string, cookie: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { method: "DELETE", headers: { cookie, origin: ORIGIN } });
}

async function search(cookie: string, params: Record<string, string | number>) {
  const query = new URLSearchParams(
    Object.entries(params).map(([key, value]) => [key, String(value)]),
  );
  const res = await get(`/api/offline-messages?${query}`, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await res.json<OfflineMessageSearchResponse>();
  return { ...body, ids: body.offlineMessages.map((m) => m.id) };
}

async function auditRows(actorId: string, action: string) {
  const { results } = await env.DB.prepare(
    "SELECT target, outcome, details FROM audit_log WHERE actor_id = ?1 AND action = ?2 ORDER BY id",
  )
    .bind(actorId, action)
    .all<{ target: string | null; outcome: string; details: string | null }>();
  return results.map((row) => ({ ...row, details: row.details ? JSON.parse(row.details) : null }));
}

describe("GET /api/offline-messages", () => {
  it("answers 403 forbidden without a transcript permission", async () => {
    const agent = await agentCookie({ departments: [uniqueDepartment()] });
    const res = await get("/api/offline-messages", agent.cookie);
    expect(res.status).toBe(403);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("forbidden");
  });

  it("scopes to the agent's departments; view_all sees every department", async () => {
    const mine = uniqueDepartment();
    const theirs = uniqueDepartment();
    const own = await seedMessage({ department: mine, createdAt: MAY_1 });
    const other = await seedMessage({ department: theirs, createdAt: MAY_1 });
    const scoped = await agentCookie({
      departments: [mine],
      grants: ["transcripts.view_department"],
    });
    expect((await search(scoped.cookie, {})).ids).toEqual([own]);
    expect((await search(scoped.cookie, { department: theirs })).ids).toEqual([]);
    const all = await agentCookie({ grants: ["transcripts.view_all"] });
    expect((await search(all.cookie, { department: theirs })).ids).toEqual([other]);
  });

  it("filters by time (from inclusive, to exclusive) and returns the summary", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    await seedMessage({ department, createdAt: MAY_1 - 1 });
    const atStart = await seedMessage({ department, createdAt: MAY_1 });
    await seedMessage({ department, createdAt: MAY_1 + 1000 });
    const page = await search(agent.cookie, { from: "2024-05-01", to: MAY_1 + 1000 });
    expect(page.offlineMessages).toEqual([
      {
        id: atStart,
        department,
        name: "Olga",
        email: "olga@example.com",
        message: "Please call me back.",
        pageUrl: "https://shop.example/cart",
        createdAt: MAY_1,
        handledAt: null,
        handledBy: null,
      },
    ]);
  });

  it("matches keywords in message, name or email; LIKE wildcards are literal", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const percent = await seedMessage({ department, createdAt: MAY_1, message: "100% broken" });
    const thousand = await seedMessage({ department, createdAt: MAY_1 + 1, message: "1000 items" });
    const underscore = await seedMessage({
      department,
      createdAt: MAY_1 + 2,
      message: "see order_id",
    });
    const byName = await seedMessage({ department, createdAt: MAY_1 + 3, name: "Zygmunt" });
    const byEmail = await seedMessage({
      department,
      createdAt: MAY_1 + 4,
      name: null,
      email: "quux@corp.example",
    });

    expect((await search(agent.cookie, { q: "100%" })).ids).toEqual([percent]);
    expect((await search(agent.cookie, { q: "%" })).ids).toEqual([percent]);
    expect((await search(agent.cookie, { q: "_" })).ids).toEqual([underscore]);
    expect((await search(agent.cookie, { q: "\\" })).ids).toEqual([]);
    expect((await search(agent.cookie, { q: "zygMUNT" })).ids).toEqual([byName]);
    expect((await search(agent.cookie, { q: "quux@corp" })).ids).toEqual([byEmail]);
    // Every term must occur.
    expect((await search(agent.cookie, { q: "1000 items" })).ids).toEqual([thousand]);
    expect((await search(agent.cookie, { q: "1000 broken" })).ids).toEqual([]);
  });

  it("pages newest first with a stable cursor", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const seeded: { id: string; at: number }[] = [];
    for (const at of [MAY_1, MAY_1 + 5, MAY_1 + 5]) {
      seeded.push({ id: await seedMessage({ department, createdAt: at }), at });
    }
    const expected = seeded.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((m) => m.id);
    const first = await search(agent.cookie, { limit: 2 });
    expect(first.ids).toEqual(expected.slice(0, 2));
    await seedMessage({ department, createdAt: MAY_1 + 10 });
    const second = await search(agent.cookie, { limit: 2, cursor: first.nextCursor ?? "" });
    expect(second.ids).toEqual(expected.slice(2));
    expect(second.nextCursor).toBeNull();
  });

  it("audits each search with its filters", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    await search(agent.cookie, { department, q: "refund", limit: 10 });
    expect(await auditRows(agent.id, "offline_message.search")).toEqual([
      {
        target: null,
        outcome: "success",
        details: { department, q: "refund", limit: 10, page: "first", results: 0 },
      },
    ]);
  });

  it.each([
    ["from=soon"],
    ["to=2024-13-01"],
    ["limit=1000"],
    ["cursor=x"],
    ["rating=5"], // a transcript filter, not an offline-message one
    ["q=%20%20"],
  ])("%s → 400 invalid_request", async (query) => {
    const agent = await agentCookie({ grants: ["transcripts.view_all"] });
    const res = await get(`/api/offline-messages?${query}`, agent.cookie);
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("invalid_request");
  });
});

describe("GET /api/offline-messages/:id", () => {
  it("returns the message with the sender's IP, and audits the view", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const id = await seedMessage({ department, createdAt: MAY_1 });
    const res = await get(`/api/offline-messages/${id}`, agent.cookie);
    expect(res.status).toBe(200);
    const body = await res.json<OfflineMessageResponse>();
    expect(body.offlineMessage).toMatchObject({ id, department, ip: "203.0.113.7" });
    expect(await auditRows(agent.id, "offline_message.view")).toEqual([
      { target: id, outcome: "success", details: null },
    ]);
  });

  it("answers 404 for another department's message exactly as for a missing one", async () => {
    const agent = await agentCookie({
      departments: [uniqueDepartment()],
      grants: ["transcripts.view_department"],
    });
    const other = await seedMessage({ department: uniqueDepartment(), createdAt: MAY_1 });
    const outOfScope = await get(`/api/offline-messages/${other}`, agent.cookie);
    const missing = await get(`/api/offline-messages/${crypto.randomUUID()}`, agent.cookie);
    expect(outOfScope.status).toBe(404);
    expect(await outOfScope.json()).toEqual(await missing.json());
    expect(await auditRows(agent.id, "offline_message.view")).toEqual([
      { target: other, outcome: "denied", details: { reason: "out_of_scope" } },
    ]);
  });
});

describe("DELETE /api/offline-messages/:id", () => {
  it("deletes a message the agent can view; the audit row remains", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department", "transcripts.delete"],
    });
    const id = await seedMessage({ department, createdAt: MAY_1 });
    const res = await del(`/api/offline-messages/${id}`, agent.cookie);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const row = await env.DB.prepare("SELECT id FROM offline_messages WHERE id = ?1")
      .bind(id)
      .first();
    expect(row).toBeNull();
    expect((await del(`/api/offline-messages/${id}`, agent.cookie)).status).toBe(404);
    expect(await auditRows(agent.id, "offline_message.delete")).toEqual([
      { target: id, outcome: "success", details: { createdAt: MAY_1 } },
    ]);
  });

  it("answers 404 out of scope, 403 without transcripts.delete, and keeps the message", async () => {
    const department = uniqueDepartment();
    const other = await seedMessage({ department: uniqueDepartment(), createdAt: MAY_1 });
    const own = await seedMessage({ department, createdAt: MAY_1 });
    const deleter = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department", "transcripts.delete"],
    });
    const res = await del(`/api/offline-messages/${other}`, deleter.cookie);
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe(
      "offline_message_not_found",
    );
    const viewer = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    expect((await del(`/api/offline-messages/${own}`, viewer.cookie)).status).toBe(403);
    const { results } = await env.DB.prepare("SELECT id FROM offline_messages WHERE id IN (?1, ?2)")
      .bind(other, own)
      .all();
    expect(results).toHaveLength(2);
  });
});
