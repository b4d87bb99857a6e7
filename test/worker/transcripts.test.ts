/**
 * Transcripts API over real HTTP and D1: department scoping, every search filter and its
 * boundaries, keywords through FTS5 (with FTS syntax taken literally), keyset pagination,
 * deletion and its audit trail, and input validation.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TranscriptResponse, TranscriptSearchResponse } from "../../src/protocol/http.ts";
import { auditRowsOf, login, ORIGIN, seedAgent, uniqueDepartment } from "./helpers.ts";

/** 2024-05-01T00:00:00Z: a day boundary, so date-only filters can be tested. */
const MAY_1 = Date.UTC(2024, 4, 1);
const DAY = 86_400_000;

async function agentCookie(options: { departments?: string[]; grants?: string[] }) {
  const agent = await seedAgent(options);
  return { ...agent, cookie: await login(agent.email) };
}

async function ensureDepartment(id: string): Promise<void> {
  await env.DB.prepare(
    "INSERT OR IGNORE INTO departments (id, name, created_at) VALUES (?1, ?1, 0)",
  )
    .bind(id)
    .run();
}

interface SeedChat {
  department: string;
  createdAt: number;
  status?: "queued" | "active" | "ended" | "missed";
  agentId?: string | null;
  rating?: number | null;
  messages?: string[];
  id?: string;
}

/** Inserts a chat and its events (joined, the messages, ended) straight into D1. */
async function seedChat(chat: SeedChat): Promise<string> {
  const id = chat.id ?? crypto.randomUUID();
  const status = chat.status ?? "ended";
  const endedAt = status === "ended" || status === "missed" ? chat.createdAt + 60_000 : null;
  await ensureDepartment(chat.department);
  await env.DB.prepare(
    `INSERT INTO chats (id, visitor_id, visitor_name, visitor_email, department_id, status,
                        agent_id, created_at, ended_at, rating, variables)
     VALUES (?1, ?2, 'Vera Visitor', 'vera@example.com', ?3, ?4, ?5, ?6, ?7, ?8, '{"plan":"pro"}')`,
  )
    .bind(
      id,
      crypto.randomUUID(),
      chat.department,
      status,
      chat.agentId ?? null,
      chat.createdAt,
      endedAt,
      chat.rating ?? null,
    )
    .run();
  const texts = chat.messages ?? ["hello"];
  const events: [string, string | null][] = [
    ["joined", null],
    ...texts.map((text): [string, string] => ["message", text]),
    ["ended", null],
  ];
  await env.DB.batch(
    events.map(([kind, text], index) =>
      env.DB.prepare(
        `INSERT INTO messages (chat_id, seq, kind, sender_role, sender_id, sender_name, text, at)
         VALUES (?1, ?2, ?3, 'visitor', NULL, 'Vera Visitor', ?4, ?5)`,
      ).bind(id, index + 1, kind, text, chat.createdAt + index),
    ),
  );
  return id;
}

function get(path: string, cookie: string) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers: { cookie, origin: ORIGIN } });
}

function del(path: string, cookie: string, origin = ORIGIN) {
  return SELF.fetch(`${ORIGIN}${path}`, { method: "DELETE", headers: { cookie, origin } });
}

/** Searches and expects 200; returns the ids in order and the cursor. */
async function search(cookie: string, params: Record<string, string | number>) {
  const query = new URLSearchParams(
    Object.entries(params).map(([key, value]) => [key, String(value)]),
  );
  const res = await get(`/api/transcripts?${query}`, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await res.json<TranscriptSearchResponse>();
  return { ...body, ids: body.transcripts.map((t) => t.id) };
}

const auditRows = auditRowsOf;

describe("GET /api/transcripts: permissions and scope", () => {
  it("answers 403 forbidden without a transcript permission, and audits the denial", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({ departments: [department] });
    const res = await get("/api/transcripts", agent.cookie);
    expect(res.status).toBe(403);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("forbidden");
    const denied = await auditRows(agent.id, "access.denied");
    expect(denied).toHaveLength(1);
    expect(denied[0]?.outcome).toBe("denied");
  });

  it("shows a department agent only its departments; view_all sees every department", async () => {
    const mine = uniqueDepartment();
    const theirs = uniqueDepartment();
    const own = await seedChat({ department: mine, createdAt: MAY_1 });
    const other = await seedChat({ department: theirs, createdAt: MAY_1 + 1 });
    const scoped = await agentCookie({
      departments: [mine],
      grants: ["transcripts.view_department"],
    });
    // No department filter: the scope alone keeps the other department out.
    expect((await search(scoped.cookie, {})).ids).toEqual([own]);
    // A department filter outside the scope is an empty result, not an error.
    const outside = await search(scoped.cookie, { department: theirs });
    expect(outside).toMatchObject({ transcripts: [], nextCursor: null });

    const all = await agentCookie({ departments: [mine], grants: ["transcripts.view_all"] });
    expect((await search(all.cookie, { department: theirs })).ids).toEqual([other]);
    expect((await search(all.cookie, { department: mine })).ids).toEqual([own]);
  });

  it("treats an agent without departments as a member of 'general'", async () => {
    const agent = await agentCookie({ grants: ["transcripts.view_department"] });
    const elsewhere = uniqueDepartment();
    await seedChat({ department: elsewhere, createdAt: MAY_1 });
    expect((await search(agent.cookie, { department: elsewhere })).ids).toEqual([]);
    const page = await search(agent.cookie, { limit: 100 });
    expect(page.transcripts.every((t) => t.department === "general")).toBe(true);
  });
});

describe("GET /api/transcripts: filters", () => {
  it("filters on created_at: from inclusive, to exclusive, as ms, dates or date-times", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const before = await seedChat({ department, createdAt: MAY_1 - 1 });
    const atStart = await seedChat({ department, createdAt: MAY_1 });
    const inside = await seedChat({ department, createdAt: MAY_1 + 1000 });
    const nextDay = await seedChat({ department, createdAt: MAY_1 + DAY });

    expect((await search(agent.cookie, { from: MAY_1, to: MAY_1 + DAY })).ids).toEqual([
      inside,
      atStart,
    ]);
    expect((await search(agent.cookie, { from: "2024-05-01", to: "2024-05-02" })).ids).toEqual([
      inside,
      atStart,
    ]);
    expect(
      (
        await search(agent.cookie, {
          from: "2024-05-01T00:00:01.000Z",
          to: "2024-05-02T02:00:00+02:00", // = 2024-05-02T00:00:00Z, exclusive
        })
      ).ids,
    ).toEqual([inside]);
    expect((await search(agent.cookie, { to: MAY_1 })).ids).toEqual([before]);
    expect((await search(agent.cookie, { from: MAY_1 + DAY })).ids).toEqual([nextDay]);
    expect((await search(agent.cookie, { from: MAY_1 + 1, to: MAY_1 + 1000 })).ids).toEqual([]);
  });

  it("filters on agent, rating (exact and minimum) and status, and reports the summary", async () => {
    const department = uniqueDepartment();
    const viewer = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const ann = await seedAgent({ departments: [department] });
    const bob = await seedAgent({ departments: [department] });
    const annFive = await seedChat({
      department,
      createdAt: MAY_1,
      agentId: ann.id,
      rating: 5,
      messages: ["hi", "how can I help?", "bye"],
    });
    const annThree = await seedChat({
      department,
      createdAt: MAY_1 + 1,
      agentId: ann.id,
      rating: 3,
    });
    const bobFour = await seedChat({
      department,
      createdAt: MAY_1 + 2,
      agentId: bob.id,
      rating: 4,
    });
    const missed = await seedChat({ department, createdAt: MAY_1 + 3, status: "missed" });
    const active = await seedChat({
      department,
      createdAt: MAY_1 + 4,
      status: "active",
      agentId: bob.id,
    });

    expect((await search(viewer.cookie, { agent: ann.id })).ids).toEqual([annThree, annFive]);
    expect((await search(viewer.cookie, { rating: 4 })).ids).toEqual([bobFour]);
    expect((await search(viewer.cookie, { minRating: 4 })).ids).toEqual([bobFour, annFive]);
    expect((await search(viewer.cookie, { agent: ann.id, minRating: 4 })).ids).toEqual([annFive]);
    expect((await search(viewer.cookie, { status: "missed" })).ids).toEqual([missed]);
    expect((await search(viewer.cookie, { status: "active" })).ids).toEqual([active]);
    expect((await search(viewer.cookie, { agent: crypto.randomUUID() })).ids).toEqual([]);

    const [summary] = (await search(viewer.cookie, { rating: 5 })).transcripts;
    expect(summary).toEqual({
      id: annFive,
      department,
      status: "ended",
      visitorName: "Vera Visitor",
      agentId: ann.id,
      agentName: ann.name,
      rating: 5,
      createdAt: MAY_1,
      endedAt: MAY_1 + 60_000,
      // The joined and ended events are not messages.
      messageCount: 3,
    });
  });

  it("matches keywords as literal terms: all must occur, FTS syntax has no effect", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const refundOrder = await seedChat({
      department,
      createdAt: MAY_1,
      messages: ["I want a refund", "for order 1234 please"],
    });
    const refundOnly = await seedChat({
      department,
      createdAt: MAY_1 + 1,
      messages: ["Refund?"],
    });
    const shipping = await seedChat({
      department,
      createdAt: MAY_1 + 2,
      messages: ["shipping delayed"],
    });
    const quoted = await seedChat({
      department,
      createdAt: MAY_1 + 3,
      messages: ['he typed "NEAR" and (stars*)'],
    });

    expect((await search(agent.cookie, { q: "refund" })).ids).toEqual([refundOnly, refundOrder]);
    // Terms may occur in different messages of the chat.
    expect((await search(agent.cookie, { q: "REFUND  order" })).ids).toEqual([refundOrder]);
    // As operators these would match: OR (both chats), a prefix (shipping), NEAR, a column.
    expect((await search(agent.cookie, { q: "refund OR shipping" })).ids).toEqual([]);
    expect((await search(agent.cookie, { q: "ship*" })).ids).toEqual([]);
    expect((await search(agent.cookie, { q: "text:shipping" })).ids).toEqual([]);
    expect((await search(agent.cookie, { q: "NEAR(refund shipping)" })).ids).toEqual([]);
    // Quotes, parentheses and stars are harmless: no 500, and text still matches.
    expect((await search(agent.cookie, { q: '"NEAR"' })).ids).toEqual([quoted]);
    expect((await search(agent.cookie, { q: "stars*)" })).ids).toEqual([quoted]);
    expect((await search(agent.cookie, { q: '" OR "' })).ids).toEqual([]);
    expect((await search(agent.cookie, { q: "***" })).ids).toEqual([]);
    // Keywords combine with the other filters.
    expect((await search(agent.cookie, { q: "refund", from: MAY_1 + 1 })).ids).toEqual([
      refundOnly,
    ]);
    expect(shipping).toBeTruthy();
  });

  it("pages newest first with a stable keyset cursor, even as newer chats arrive", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    // Two pairs share a creation time: the id breaks the tie.
    const times = [MAY_1, MAY_1 + 10, MAY_1 + 10, MAY_1 + 20, MAY_1 + 20];
    const seeded: { id: string; at: number }[] = [];
    for (const at of times) seeded.push({ id: await seedChat({ department, createdAt: at }), at });
    const expected = seeded
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      .map((chat) => chat.id);

    const first = await search(agent.cookie, { limit: 2 });
    expect(first.ids).toEqual(expected.slice(0, 2));
    expect(first.nextCursor).toEqual(expect.any(String));
    // A chat arriving between pages is newer than the cursor: it neither shifts nor repeats.
    await seedChat({ department, createdAt: MAY_1 + 30 });
    const second = await search(agent.cookie, { limit: 2, cursor: first.nextCursor ?? "" });
    expect(second.ids).toEqual(expected.slice(2, 4));
    const third = await search(agent.cookie, { limit: 2, cursor: second.nextCursor ?? "" });
    expect(third.ids).toEqual(expected.slice(4));
    expect(third.nextCursor).toBeNull();
    // Exactly `limit` rows left: no cursor to an empty page.
    const exact = await search(agent.cookie, { limit: 6 });
    expect(exact.ids).toHaveLength(6);
    expect(exact.nextCursor).toBeNull();
  });

  it("audits every search with its filters, card numbers masked", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    await search(agent.cookie, {
      department,
      from: MAY_1,
      status: "ended",
      minRating: 2,
      q: "card 4111 1111 1111 1111",
    });
    const rows = await auditRows(agent.id, "transcript.search");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ target: null, outcome: "success", department });
    expect(rows[0]?.details).toMatchObject({
      department,
      from: MAY_1,
      status: "ended",
      minRating: 2,
      limit: 50,
      page: "first",
      results: 0,
    });
    expect(rows[0]?.details?.q).toMatch(/^card [•\s]+1111$/);
    expect(JSON.stringify(rows[0])).not.toContain("4111");
  });
});

describe("GET /api/transcripts: bad input", () => {
  it.each([
    ["from=yesterday"],
    ["from=2024-02-30"],
    ["from=2023-02-29T10:00:00Z"],
    ["to=2024-13-01"],
    ["from=2024-05-01T10:00:00"], // no offset: ambiguous
    ["from=-5"],
    ["from=2024-05-02&to=2024-05-01"],
    ["rating=6"],
    ["rating=0"],
    ["rating=abc"],
    ["rating=1e0"],
    ["minRating=9"],
    ["limit=0"],
    ["limit=101"],
    ["status=open"],
    ["cursor=garbage"],
    ["cursor=%21%21"],
    ["department=Not%20A%20Slug"],
    ["department=a&department=b"],
    ["q="],
    [`q=${"x".repeat(201)}`],
    [`q=${Array.from({ length: 11 }, (_, i) => `w${i}`).join("+")}`],
    ["sort=asc"],
  ])("%s → 400 invalid_request", async (query) => {
    const agent = await agentCookie({ grants: ["transcripts.view_all"] });
    const res = await get(`/api/transcripts?${query}`, agent.cookie);
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("invalid_request");
  });
});

describe("GET /api/transcripts/:id", () => {
  it("returns the chat and its messages in order, and audits the view", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const id = await seedChat({
      department,
      createdAt: MAY_1,
      messages: ["one", "two"],
      rating: 2,
    });
    // Agents see a stored variable while it is declared visible (variables.test.ts).
    await env.DB.prepare(
      `INSERT OR IGNORE INTO custom_variables (name, label, type, max_length, created_at, updated_at)
       VALUES ('plan', 'Plan', 'string', 500, 0, 0)`,
    ).run();
    const res = await get(`/api/transcripts/${id}`, agent.cookie);
    expect(res.status).toBe(200);
    const body = await res.json<TranscriptResponse>();
    expect(body.transcript).toMatchObject({
      id,
      department,
      status: "ended",
      rating: 2,
      visitorEmail: "vera@example.com",
      variables: { plan: "pro" },
      messageCount: 2,
      verified: false,
    });
    // The visitor id, so an administrator can ban this visitor (POST /api/bans).
    const row = await env.DB.prepare("SELECT visitor_id FROM chats WHERE id = ?1")
      .bind(id)
      .first<{ visitor_id: string }>();
    expect(body.transcript.visitorId).toBe(row?.visitor_id);
    expect(body.messages.map((m) => [m.seq, m.kind, m.text])).toEqual([
      [1, "joined", null],
      [2, "message", "one"],
      [3, "message", "two"],
      [4, "ended", null],
    ]);
    expect(await auditRows(agent.id, "transcript.view")).toEqual([
      { action: "transcript.view", target: id, outcome: "success", department, details: null },
    ]);
  });

  it("answers 404 for another department's chat exactly as for a missing one", async () => {
    const mine = uniqueDepartment();
    const agent = await agentCookie({
      departments: [mine],
      grants: ["transcripts.view_department"],
    });
    const otherDepartment = uniqueDepartment();
    const other = await seedChat({ department: otherDepartment, createdAt: MAY_1 });
    const outOfScope = await get(`/api/transcripts/${other}`, agent.cookie);
    const missing = await get(`/api/transcripts/${crypto.randomUUID()}`, agent.cookie);
    expect(outOfScope.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await outOfScope.json()).toEqual(await missing.json());
    const rows = await auditRows(agent.id, "transcript.view");
    expect(rows).toEqual([
      {
        action: "transcript.view",
        target: other,
        outcome: "denied",
        department: otherDepartment,
        details: { reason: "out_of_scope" },
      },
    ]);
    // view_all reads it.
    const all = await agentCookie({ grants: ["transcripts.view_all"] });
    expect((await get(`/api/transcripts/${other}`, all.cookie)).status).toBe(200);
  });

  it("answers 403 without a view permission, even with transcripts.delete", async () => {
    const department = uniqueDepartment();
    const agent = await agentCookie({ departments: [department], grants: ["transcripts.delete"] });
    const id = await seedChat({ department, createdAt: MAY_1 });
    expect((await get(`/api/transcripts/${id}`, agent.cookie)).status).toBe(403);
  });
});

describe("DELETE /api/transcripts/:id", () => {
  async function deleter(department: string, view = "transcripts.view_department") {
    return agentCookie({ departments: [department], grants: [view, "transcripts.delete"] });
  }

  it("deletes an ended chat with its messages and FTS rows; the audit row survives", async () => {
    const department = uniqueDepartment();
    const agent = await deleter(department);
    const id = await seedChat({
      department,
      createdAt: MAY_1,
      messages: ["zebracornflake one", "zebracornflake two"],
    });
    expect((await search(agent.cookie, { q: "zebracornflake" })).ids).toEqual([id]);

    const res = await del(`/api/transcripts/${id}`, agent.cookie);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });

    const count = (sql: string) => env.DB.prepare(sql).bind(id).first<{ n: number }>();
    expect(await count("SELECT count(*) AS n FROM chats WHERE id = ?1")).toEqual({ n: 0 });
    expect(await count("SELECT count(*) AS n FROM messages WHERE chat_id = ?1")).toEqual({ n: 0 });
    expect(await count("SELECT count(*) AS n FROM message_fts WHERE chat_id = ?1")).toEqual({
      n: 0,
    });
    expect((await search(agent.cookie, { q: "zebracornflake" })).ids).toEqual([]);
    expect((await get(`/api/transcripts/${id}`, agent.cookie)).status).toBe(404);
    expect((await del(`/api/transcripts/${id}`, agent.cookie)).status).toBe(404);

    const rows = await auditRows(agent.id, "transcript.delete");
    expect(rows).toEqual([
      {
        action: "transcript.delete",
        target: id,
        outcome: "success",
        department,
        details: { status: "ended", createdAt: MAY_1, events: 4, messages: 2, copyErased: true },
      },
    ]);
  });

  it("deletes a missed chat", async () => {
    const department = uniqueDepartment();
    const agent = await deleter(department);
    const id = await seedChat({ department, createdAt: MAY_1, status: "missed" });
    expect((await del(`/api/transcripts/${id}`, agent.cookie)).status).toBe(200);
  });

  it("refuses a queued or active chat with 409 chat_active and keeps it", async () => {
    const department = uniqueDepartment();
    const agent = await deleter(department);
    for (const status of ["queued", "active"] as const) {
      const id = await seedChat({ department, createdAt: MAY_1, status });
      const res = await del(`/api/transcripts/${id}`, agent.cookie);
      expect(res.status).toBe(409);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe("chat_active");
      const row = await env.DB.prepare("SELECT status FROM chats WHERE id = ?1").bind(id).first();
      expect(row).toEqual({ status });
    }
    const failures = await auditRows(agent.id, "transcript.delete");
    expect(failures.map((row) => [row.outcome, row.details?.reason])).toEqual([
      ["failure", "chat_active"],
      ["failure", "chat_active"],
    ]);
  });

  it("answers 404 for a chat the agent cannot view, and keeps it", async () => {
    const department = uniqueDepartment();
    const other = await seedChat({ department: uniqueDepartment(), createdAt: MAY_1 });
    const agent = await deleter(department);
    expect((await del(`/api/transcripts/${other}`, agent.cookie)).status).toBe(404);
    // transcripts.delete alone views nothing, so it deletes nothing — not even in its department.
    const own = await seedChat({ department, createdAt: MAY_1 });
    const deleteOnly = await agentCookie({
      departments: [department],
      grants: ["transcripts.delete"],
    });
    const res = await del(`/api/transcripts/${own}`, deleteOnly.cookie);
    expect(res.status).toBe(404);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("transcript_not_found");
    const { results } = await env.DB.prepare("SELECT id FROM chats WHERE id IN (?1, ?2)")
      .bind(other, own)
      .all();
    expect(results).toHaveLength(2);
    // view_all with delete reaches every department.
    const admin = await deleter(uniqueDepartment(), "transcripts.view_all");
    expect((await del(`/api/transcripts/${other}`, admin.cookie)).status).toBe(200);
  });

  it("answers 403 forbidden without transcripts.delete, and 403 origin_denied cross-site", async () => {
    const department = uniqueDepartment();
    const id = await seedChat({ department, createdAt: MAY_1 });
    const viewer = await agentCookie({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const res = await del(`/api/transcripts/${id}`, viewer.cookie);
    expect(res.status).toBe(403);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("forbidden");
    const agent = await deleter(department);
    const crossSite = await del(`/api/transcripts/${id}`, agent.cookie, "https://evil.example");
    expect(crossSite.status).toBe(403);
    expect((await crossSite.json<{ error: { code: string } }>()).error.code).toBe("origin_denied");
    expect(await env.DB.prepare("SELECT id FROM chats WHERE id = ?1").bind(id).first()).toEqual({
      id,
    });
  });

  it("answers 401 without a session", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/transcripts`, { headers: { origin: ORIGIN } });
    expect(res.status).toBe(401);
  });
});
