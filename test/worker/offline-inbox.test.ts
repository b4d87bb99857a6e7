/**
 * The offline-message inbox over real HTTP and D1 (issue 7, item 6): mark handled and reopen,
 * recorded replies (card-masked, several per message, the first marking the message handled),
 * the `status` filter of the list, `handledAt`/`handledBy` in list and detail, the audit rows
 * of every change, and the same department scope and permissions as reading.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  ErrorBody,
  OfflineMessageResponse,
  OfflineMessageSearchResponse,
} from "../../src/protocol/http.ts";
import { MAX_REPLY_CHARS } from "../../src/protocol/inbox.ts";
import { apiRequest, dumpD1, login, postJson, seedAgent, uniqueDepartment } from "./helpers.ts";

const CARD = "4111 1111 1111 1111";
const MASKED = "•••• •••• •••• 1111";

/** An agent who may read `department`'s offline messages (or none: `grants: []`). */
async function reader(department: string, grants = ["transcripts.view_department"]) {
  const agent = await seedAgent({ departments: [department], grants });
  return { ...agent, cookie: await login(agent.email) };
}

/** Leaves an offline message in `department` the way a visitor does; returns its id. */
async function leaveMessage(department: string, message = "Please call me back."): Promise<string> {
  const res = await postJson("/api/visitor/offline-messages", {
    email: "olga@example.com",
    department,
    message,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

function setHandled(id: string, cookie: string, handled: boolean) {
  return apiRequest("POST", `/api/offline-messages/${id}/handled`, cookie, { handled });
}

function reply(id: string, cookie: string, text: string) {
  return apiRequest("POST", `/api/offline-messages/${id}/reply`, cookie, { text });
}

async function detail(id: string, cookie: string) {
  const res = await apiRequest("GET", `/api/offline-messages/${id}`, cookie);
  expect(res.status).toBe(200);
  return (await res.json<OfflineMessageResponse>()).offlineMessage;
}

async function listed(cookie: string, query: string) {
  const res = await apiRequest("GET", `/api/offline-messages?${query}`, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<OfflineMessageSearchResponse>()).offlineMessages;
}

async function auditRows(actorId: string, action: string) {
  const { results } = await env.DB.prepare(
    `SELECT target, outcome, department, details FROM audit_log
     WHERE actor_id = ?1 AND action = ?2 ORDER BY id`,
  )
    .bind(actorId, action)
    .all<{ target: string; outcome: string; department: string; details: string | null }>();
  return results.map((row) => ({ ...row, details: row.details ? JSON.parse(row.details) : null }));
}

describe("POST /api/offline-messages/:id/handled", () => {
  it("marks handled and reopens; list and detail show who and when; each change is audited", async () => {
    const department = uniqueDepartment();
    const agent = await reader(department);
    const id = await leaveMessage(department);
    expect(await detail(id, agent.cookie)).toMatchObject({
      handledAt: null,
      handledBy: null,
      replies: [],
    });

    const before = Date.now();
    const marked = await setHandled(id, agent.cookie, true);
    expect(marked.status).toBe(200);
    const handled = (await marked.json<OfflineMessageResponse>()).offlineMessage;
    expect(handled.handledBy).toEqual({ id: agent.id, name: agent.name });
    expect(handled.handledAt).toBeGreaterThanOrEqual(before);
    expect(await detail(id, agent.cookie)).toMatchObject({
      handledAt: handled.handledAt,
      handledBy: handled.handledBy,
    });
    const [summary] = await listed(agent.cookie, `department=${department}`);
    expect(summary).toMatchObject({
      id,
      handledAt: handled.handledAt,
      handledBy: handled.handledBy,
    });

    // Marking a handled message again changes nothing: the first handler stays, no new row.
    const other = await reader(department);
    const again = await setHandled(id, other.cookie, true);
    expect((await again.json<OfflineMessageResponse>()).offlineMessage.handledBy?.id).toBe(
      agent.id,
    );
    expect(await auditRows(other.id, "offline_message.handled")).toEqual([]);

    const reopened = await setHandled(id, other.cookie, false);
    expect(reopened.status).toBe(200);
    expect((await reopened.json<OfflineMessageResponse>()).offlineMessage).toMatchObject({
      handledAt: null,
      handledBy: null,
    });
    expect(await auditRows(agent.id, "offline_message.handled")).toEqual([
      { target: id, outcome: "success", department, details: null },
    ]);
    expect(await auditRows(other.id, "offline_message.reopened")).toEqual([
      { target: id, outcome: "success", department, details: null },
    ]);
  });

  it.each([[{}], [{ handled: "yes" }], [{ handled: true, extra: 1 }]])(
    "%j → 400 invalid_request",
    async (body) => {
      const department = uniqueDepartment();
      const agent = await reader(department);
      const id = await leaveMessage(department);
      const res = await apiRequest(
        "POST",
        `/api/offline-messages/${id}/handled`,
        agent.cookie,
        body,
      );
      expect(res.status).toBe(400);
      expect((await res.json<ErrorBody>()).error.code).toBe("invalid_request");
    },
  );
});

describe("POST /api/offline-messages/:id/reply", () => {
  it("records masked replies in order; the first marks the message handled; each is audited", async () => {
    const department = uniqueDepartment();
    const first = await reader(department);
    const second = await reader(department);
    const id = await leaveMessage(department);

    const res = await reply(id, first.cookie, `  Called back; they read me ${CARD}.  `);
    expect(res.status).toBe(201);
    const answered = (await res.json<OfflineMessageResponse>()).offlineMessage;
    expect(answered.handledBy).toEqual({ id: first.id, name: first.name });
    expect(answered.replies).toEqual([
      {
        id: expect.any(String),
        agentId: first.id,
        agentName: first.name,
        text: `Called back; they read me ${MASKED}.`,
        at: answered.handledAt,
      },
    ]);

    expect((await reply(id, second.cookie, "Sent the refund form by email.")).status).toBe(201);
    const both = await detail(id, second.cookie);
    expect(both.replies.map((r) => [r.agentId, r.text])).toEqual([
      [first.id, `Called back; they read me ${MASKED}.`],
      [second.id, "Sent the refund form by email."],
    ]);
    // Already handled: the second reply keeps the first handler.
    expect(both.handledBy?.id).toBe(first.id);

    const stored = await env.DB.prepare(
      "SELECT text FROM offline_message_replies WHERE offline_message_id = ?1 ORDER BY at, id",
    )
      .bind(id)
      .all<{ text: string }>();
    expect(stored.results[0]?.text).toBe(`Called back; they read me ${MASKED}.`);
    expect(await dumpD1()).not.toContain(CARD);

    expect(await auditRows(first.id, "offline_message.reply")).toEqual([
      {
        target: id,
        outcome: "success",
        department,
        details: { replyId: answered.replies[0]?.id, markedHandled: true },
      },
    ]);
    expect((await auditRows(second.id, "offline_message.reply"))[0]?.details).toMatchObject({
      markedHandled: false,
    });

    // Reopening keeps the record of what was said.
    await setHandled(id, first.cookie, false);
    expect((await detail(id, first.cookie)).replies).toHaveLength(2);
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["too long", "x".repeat(MAX_REPLY_CHARS + 1)],
  ])("refuses a %s reply with 400 and records nothing", async (_name, text) => {
    const department = uniqueDepartment();
    const agent = await reader(department);
    const id = await leaveMessage(department);
    const res = await reply(id, agent.cookie, text);
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.code).toBe("invalid_request");
    expect(await detail(id, agent.cookie)).toMatchObject({ handledAt: null, replies: [] });
  });

  it("accepts a reply of exactly the limit", async () => {
    const department = uniqueDepartment();
    const agent = await reader(department);
    const id = await leaveMessage(department);
    expect((await reply(id, agent.cookie, "x".repeat(MAX_REPLY_CHARS))).status).toBe(201);
  });

  it("deleting a message deletes its replies", async () => {
    const department = uniqueDepartment();
    const agent = await reader(department, ["transcripts.view_department", "transcripts.delete"]);
    const id = await leaveMessage(department);
    await reply(id, agent.cookie, "Done.");
    expect((await apiRequest("DELETE", `/api/offline-messages/${id}`, agent.cookie)).status).toBe(
      200,
    );
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM offline_message_replies WHERE offline_message_id = ?1",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("GET /api/offline-messages?status=", () => {
  it("lists open, handled or all messages (all by default)", async () => {
    const department = uniqueDepartment();
    const agent = await reader(department);
    const open = await leaveMessage(department, "open one");
    const marked = await leaveMessage(department, "marked one");
    const answered = await leaveMessage(department, "answered one");
    await setHandled(marked, agent.cookie, true);
    await reply(answered, agent.cookie, "Answered by phone.");
    const ids = async (status?: string) =>
      (await listed(agent.cookie, `department=${department}${status ? `&status=${status}` : ""}`))
        .map((m) => m.id)
        .sort();

    expect(await ids("open")).toEqual([open]);
    expect(await ids("handled")).toEqual([marked, answered].sort());
    expect(await ids("all")).toEqual([open, marked, answered].sort());
    expect(await ids()).toEqual([open, marked, answered].sort());
    // Reopened: open again.
    await setHandled(marked, agent.cookie, false);
    expect(await ids("open")).toEqual([open, marked].sort());

    const bad = await apiRequest("GET", "/api/offline-messages?status=closed", agent.cookie);
    expect(bad.status).toBe(400);
    expect((await bad.json<ErrorBody>()).error.code).toBe("invalid_request");
  });
});

describe("inbox scope and permissions", () => {
  it.each([
    ["handled", (id: string, cookie: string) => setHandled(id, cookie, true)],
    ["reply", (id: string, cookie: string) => reply(id, cookie, "Hello")],
  ] as const)(
    "%s: another department's message answers 404 like a missing one, audited as denied",
    async (kind, act) => {
      const agent = await reader(uniqueDepartment());
      const otherDepartment = uniqueDepartment();
      await seedAgent({ departments: [otherDepartment] });
      const other = await leaveMessage(otherDepartment);
      const outOfScope = await act(other, agent.cookie);
      const missing = await act(crypto.randomUUID(), agent.cookie);
      expect(outOfScope.status).toBe(404);
      expect(await outOfScope.json()).toEqual(await missing.json());
      const action = kind === "handled" ? "offline_message.handled" : "offline_message.reply";
      expect(await auditRows(agent.id, action)).toEqual([
        {
          target: other,
          outcome: "denied",
          department: otherDepartment,
          details: { reason: "out_of_scope" },
        },
      ]);
      const row = await env.DB.prepare(
        `SELECT handled_at, (SELECT count(*) FROM offline_message_replies
                             WHERE offline_message_id = ?1) AS replies
         FROM offline_messages WHERE id = ?1`,
      )
        .bind(other)
        .first();
      expect(row).toEqual({ handled_at: null, replies: 0 });
    },
  );

  it("answers 403 forbidden to an agent without a view permission, and changes nothing", async () => {
    const department = uniqueDepartment();
    const agent = await reader(department, []);
    const id = await leaveMessage(department);
    for (const res of [
      await setHandled(id, agent.cookie, true),
      await reply(id, agent.cookie, "Hello"),
    ]) {
      expect(res.status).toBe(403);
      expect((await res.json<ErrorBody>()).error.code).toBe("forbidden");
    }
    const row = await env.DB.prepare("SELECT handled_at FROM offline_messages WHERE id = ?1")
      .bind(id)
      .first();
    expect(row).toEqual({ handled_at: null });
  });

  it("view_all may work every department's messages", async () => {
    const department = uniqueDepartment();
    await seedAgent({ departments: [department] });
    const id = await leaveMessage(department);
    const agent = await reader(uniqueDepartment(), ["transcripts.view_all"]);
    expect((await setHandled(id, agent.cookie, true)).status).toBe(200);
  });
});
