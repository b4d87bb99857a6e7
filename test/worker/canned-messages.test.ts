/**
 * Canned messages over real HTTP and D1: visibility per scope (personal, department, global),
 * who may change what (403 with a denied audit row; another agent's message is a 404), shortcut
 * uniqueness per owner, search, card masking, input validation and the audit rows of changes.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  CannedMessage,
  CannedMessageListResponse,
  CannedMessageResponse,
} from "../../src/protocol/canned-messages.ts";
import { createApp } from "../../worker/app.ts";
import { apiRequest, auditRowsOf, login, ORIGIN, seedAgent, uniqueDepartment } from "./helpers.ts";

const MANAGE = "canned_messages.manage";
const PATH = "/api/canned-messages";

async function agentCookie(options: { departments?: string[]; grants?: string[] } = {}) {
  const agent = await seedAgent(options);
  return { ...agent, cookie: await login(agent.email) };
}

/** A shortcut unique to one test: global shortcuts are shared by every test of the file. */
const uniqueShortcut = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function create(cookie: string, body: Record<string, unknown>): Promise<CannedMessage> {
  const res = await apiRequest("POST", PATH, cookie, { title: "Hello", text: "Hi!", ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<CannedMessageResponse>()).cannedMessage;
}

async function list(cookie: string, query: Record<string, string> = {}) {
  const res = await apiRequest("GET", `${PATH}?${new URLSearchParams(query)}`, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<CannedMessageListResponse>()).cannedMessages;
}

const ids = (messages: CannedMessage[]) => messages.map((m) => m.id);

async function expectError(res: Response, status: number, code: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(await res.json()).toMatchObject({ error: { code } });
}

const auditRows = (actorId: string) => auditRowsOf(actorId, "canned_message.%");

describe("personal canned messages", () => {
  it("belong to their owner alone: invisible to others, and a 404 when they try to change them", async () => {
    const owner = await agentCookie();
    const other = await agentCookie();
    const mine = await create(owner.cookie, {
      scope: "personal",
      shortcut: "greet",
      title: "Greeting",
      text: "Hi {visitor.name}, how can I help?",
    });
    expect(mine).toMatchObject({
      scope: "personal",
      department: null,
      shortcut: "greet",
      createdBy: owner.id,
      updatedBy: owner.id,
      editable: true,
    });
    expect(ids(await list(owner.cookie))).toContain(mine.id);
    expect(ids(await list(other.cookie))).not.toContain(mine.id);

    const path = `${PATH}/${mine.id}`;
    const body = { title: "Mine now", text: "x" };
    await expectError(
      await apiRequest("PUT", path, other.cookie, body),
      404,
      "canned_message_not_found",
    );
    await expectError(
      await apiRequest("DELETE", path, other.cookie),
      404,
      "canned_message_not_found",
    );
    const unknown = `${PATH}/${crypto.randomUUID()}`;
    await expectError(
      await apiRequest("DELETE", unknown, other.cookie),
      404,
      "canned_message_not_found",
    );
    expect(await auditRows(other.id)).toEqual([
      expect.objectContaining({
        action: "canned_message.update",
        target: mine.id,
        outcome: "denied",
      }),
      expect.objectContaining({
        action: "canned_message.delete",
        target: mine.id,
        outcome: "denied",
      }),
    ]);

    // Shortcuts are unique per agent: the other agent has a `greet` of their own.
    const theirs = await create(other.cookie, { scope: "personal", shortcut: "greet" });
    expect(ids(await list(owner.cookie))).not.toContain(theirs.id);

    const edited = await apiRequest("PUT", path, owner.cookie, {
      shortcut: "hello",
      title: "Greeting 2",
      text: "Hello!",
    });
    expect(edited.status).toBe(200);
    expect((await edited.json<CannedMessageResponse>()).cannedMessage).toMatchObject({
      id: mine.id,
      shortcut: "hello",
      title: "Greeting 2",
      text: "Hello!",
      createdAt: mine.createdAt,
    });
    expect((await apiRequest("DELETE", path, owner.cookie)).status).toBe(200);
    expect(ids(await list(owner.cookie))).not.toContain(mine.id);
    await expectError(
      await apiRequest("DELETE", path, owner.cookie),
      404,
      "canned_message_not_found",
    );

    expect(await auditRows(owner.id)).toMatchObject([
      {
        action: "canned_message.create",
        target: mine.id,
        outcome: "success",
        department: null,
        details: { scope: "personal", shortcut: "greet", title: "Greeting" },
      },
      {
        action: "canned_message.update",
        target: mine.id,
        outcome: "success",
        details: { shortcut: "hello", before: { shortcut: "greet", title: "Greeting" } },
      },
      { action: "canned_message.delete", target: mine.id, outcome: "success" },
    ]);
  });
});

describe("department canned messages", () => {
  it("are seen by the department's agents and changed only by its managers", async () => {
    const department = uniqueDepartment();
    const elsewhere = uniqueDepartment();
    const manager = await agentCookie({ departments: [department], grants: [MANAGE] });
    const member = await agentCookie({ departments: [department, elsewhere] });
    const outsider = await agentCookie({ departments: [elsewhere] });
    const outsideManager = await agentCookie({ departments: [elsewhere], grants: [MANAGE] });

    const message = await create(manager.cookie, {
      scope: "department",
      department,
      shortcut: "hours",
      title: "Opening hours",
      text: "{department.name} is open 9–17.",
    });
    expect(message).toMatchObject({ scope: "department", department, editable: true });
    expect(await list(member.cookie, { scope: "department" })).toContainEqual({
      ...message,
      editable: false,
    });
    expect(ids(await list(outsider.cookie))).not.toContain(message.id);
    expect(ids(await list(outsideManager.cookie))).not.toContain(message.id);

    // A member without the permission: 403 and a denied audit row.
    const path = `${PATH}/${message.id}`;
    const change = { shortcut: "hours", title: "Hours", text: "Always open." };
    const refused = await apiRequest("PUT", path, member.cookie, change);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: "forbidden", details: { required: [MANAGE] } },
    });
    await expectError(await apiRequest("DELETE", path, member.cookie), 403, "forbidden");
    await expectError(
      await apiRequest("POST", PATH, member.cookie, {
        scope: "department",
        department,
        title: "t",
        text: "x",
      }),
      403,
      "forbidden",
    );
    expect(await auditRows(member.id)).toMatchObject([
      { action: "canned_message.update", target: message.id, outcome: "denied", department },
      { action: "canned_message.delete", target: message.id, outcome: "denied", department },
      {
        action: "canned_message.create",
        target: null,
        outcome: "denied",
        department,
        details: { scope: "department", required: [MANAGE] },
      },
    ]);

    // A manager of another department: 403 on creation there, and the message looks missing.
    const outside = await apiRequest("POST", PATH, outsideManager.cookie, {
      scope: "department",
      department,
      title: "t",
      text: "x",
    });
    expect(outside.status).toBe(403);
    expect(await outside.json()).toMatchObject({
      error: { code: "forbidden", details: { reason: "not_member" } },
    });
    await expectError(
      await apiRequest("PUT", path, outsideManager.cookie, change),
      404,
      "canned_message_not_found",
    );
    expect(await auditRows(outsideManager.id)).toMatchObject([
      { action: "canned_message.create", outcome: "denied", details: { reason: "not_member" } },
      { action: "canned_message.update", outcome: "denied", details: { reason: "not_visible" } },
    ]);

    // The manager of the department changes and deletes it.
    const edited = await apiRequest("PUT", path, manager.cookie, change);
    expect(edited.status).toBe(200);
    expect((await edited.json<CannedMessageResponse>()).cannedMessage).toMatchObject({
      department,
      title: "Hours",
      updatedBy: manager.id,
    });
    expect((await apiRequest("DELETE", path, manager.cookie)).status).toBe(200);
    expect(await auditRows(manager.id)).toMatchObject([
      { action: "canned_message.create", outcome: "success", department },
      { action: "canned_message.update", outcome: "success", department },
      { action: "canned_message.delete", outcome: "success", department },
    ]);
  });

  it("answers 404 department_not_found for an unknown department", async () => {
    const manager = await agentCookie({ grants: [MANAGE] });
    const res = await apiRequest("POST", PATH, manager.cookie, {
      scope: "department",
      department: uniqueDepartment(),
      title: "t",
      text: "x",
    });
    await expectError(res, 404, "department_not_found");
  });
});

describe("global canned messages", () => {
  it("are seen by every agent and changed only with canned_messages.manage", async () => {
    const manager = await agentCookie({ grants: [MANAGE] });
    const agent = await agentCookie({ departments: [uniqueDepartment()] });
    const shortcut = uniqueShortcut("bye");

    const refused = await apiRequest("POST", PATH, agent.cookie, {
      scope: "global",
      shortcut,
      title: "Bye",
      text: "Goodbye!",
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      error: { code: "forbidden", details: { required: [MANAGE] } },
    });
    expect(await auditRows(agent.id)).toMatchObject([
      {
        action: "canned_message.create",
        target: null,
        outcome: "denied",
        department: null,
        details: { scope: "global", required: [MANAGE] },
      },
    ]);

    const message = await create(manager.cookie, { scope: "global", shortcut, title: "Bye" });
    expect(await list(agent.cookie, { q: shortcut })).toEqual([{ ...message, editable: false }]);
    const path = `${PATH}/${message.id}`;
    await expectError(
      await apiRequest("PUT", path, agent.cookie, { title: "x", text: "y" }),
      403,
      "forbidden",
    );
    await expectError(await apiRequest("DELETE", path, agent.cookie), 403, "forbidden");
    expect((await apiRequest("DELETE", path, manager.cookie)).status).toBe(200);
    expect(await list(agent.cookie, { q: shortcut })).toEqual([]);
    expect(await auditRows(manager.id)).toMatchObject([
      { action: "canned_message.create", outcome: "success", details: { scope: "global" } },
      { action: "canned_message.delete", outcome: "success", details: { shortcut } },
    ]);
  });
});

describe("shortcuts", () => {
  it("are unique per owner: per agent, per department and among global messages (409)", async () => {
    const department = uniqueDepartment();
    const manager = await agentCookie({ departments: [department], grants: [MANAGE] });
    const shortcut = uniqueShortcut("dup");
    const first = await create(manager.cookie, { scope: "personal", shortcut });
    // The same key in another scope is another owner.
    await create(manager.cookie, { scope: "department", department, shortcut });
    await create(manager.cookie, { scope: "global", shortcut });

    for (const body of [
      { scope: "personal", shortcut: shortcut.toUpperCase() },
      { scope: "department", department, shortcut },
      { scope: "global", shortcut },
    ]) {
      const res = await apiRequest("POST", PATH, manager.cookie, {
        title: "t",
        text: "x",
        ...body,
      });
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(await res.json()).toMatchObject({
        error: { code: "conflict", details: { shortcut } },
      });
    }

    const second = await create(manager.cookie, { scope: "personal", shortcut: null });
    const taken = await apiRequest("PUT", `${PATH}/${second.id}`, manager.cookie, {
      shortcut,
      title: "t",
      text: "x",
    });
    await expectError(taken, 409, "conflict");
    // Keeping its own shortcut is not a collision.
    const same = await apiRequest("PUT", `${PATH}/${first.id}`, manager.cookie, {
      shortcut,
      title: "Renamed",
      text: "x",
    });
    expect(same.status).toBe(200);
  });
});

describe("GET /api/canned-messages", () => {
  it("searches shortcut, title and text case-insensitively, ordered by shortcut then title", async () => {
    const agent = await agentCookie();
    const tag = crypto.randomUUID().slice(0, 8);
    const zeta = await create(agent.cookie, { scope: "personal", title: `Zeta ${tag}` });
    const alpha = await create(agent.cookie, { scope: "personal", title: `alpha ${tag}` });
    const refund = await create(agent.cookie, {
      scope: "personal",
      shortcut: `refund-${tag}`,
      title: "Money back",
      text: "We refund 100% within 14 days.",
    });
    const wait = await create(agent.cookie, {
      scope: "personal",
      shortcut: `a-wait-${tag}`,
      title: "Wait",
      text: `One moment please (${tag}).`,
    });

    const mine = await list(agent.cookie, { scope: "personal" });
    expect(ids(mine)).toEqual([wait.id, refund.id, alpha.id, zeta.id]);
    expect(ids(await list(agent.cookie, { q: tag.toUpperCase() }))).toEqual(ids(mine));
    expect(ids(await list(agent.cookie, { q: "MONEY" }))).toEqual([refund.id]);
    expect(ids(await list(agent.cookie, { q: "moment PLEASE" }))).toEqual([wait.id]);
    // Wildcards are literal.
    expect(ids(await list(agent.cookie, { q: "100%" }))).toEqual([refund.id]);
    expect(ids(await list(agent.cookie, { q: "1_0" }))).toEqual([]);
    expect(await list(agent.cookie, { scope: "global", q: tag })).toEqual([]);
  });

  it("masks card numbers in titles and texts before storing them", async () => {
    const agent = await agentCookie();
    const message = await create(agent.cookie, {
      scope: "personal",
      title: "Card 4111 1111 1111 1111",
      text: "Your card 4111 1111 1111 1111 is on file.",
    });
    expect(message.title).toBe("Card •••• •••• •••• 1111");
    expect(message.text).toBe("Your card •••• •••• •••• 1111 is on file.");
    const row = await env.DB.prepare("SELECT title, text FROM canned_messages WHERE id = ?1")
      .bind(message.id)
      .first<{ title: string; text: string }>();
    expect(JSON.stringify(row)).not.toContain("4111 1111 1111 1111");
    expect(JSON.stringify(await auditRows(agent.id))).not.toContain("4111 1111 1111 1111");
    // A search for the clear number is masked too, so it finds the message.
    expect(ids(await list(agent.cookie, { q: "4111 1111 1111 1111" }))).toEqual([message.id]);

    const edited = await apiRequest("PUT", `${PATH}/${message.id}`, agent.cookie, {
      title: "Card",
      text: "Now 4111-1111-1111-1111.",
    });
    expect((await edited.json<CannedMessageResponse>()).cannedMessage.text).toBe(
      "Now ••••-••••-••••-1111.",
    );
  });

  it("needs a session, from an allowed network", async () => {
    await expectError(await apiRequest("GET", PATH, ""), 401, "unauthenticated");
    const agent = await agentCookie();
    const office = { ...env, AGENT_IP_ALLOWLIST: "203.0.113.0/24" };
    const from = (ip: string) =>
      createApp().fetch(
        new Request(`${ORIGIN}${PATH}`, {
          headers: { cookie: agent.cookie, "cf-connecting-ip": ip },
        }),
        office,
        createExecutionContext(),
      );
    await expectError(await from("198.51.100.9"), 403, "ip_denied");
    expect((await from("203.0.113.7")).status).toBe(200);
  });
});

describe("input validation", () => {
  const valid = { scope: "personal", title: "Hello", text: "Hi!" };

  it.each([
    ["a title over 100 characters", { title: "t".repeat(101) }],
    ["a text over 2000 characters", { text: "x".repeat(2001) }],
    ["an empty title", { title: "  " }],
    ["an empty text", { text: "" }],
    ["a control character in the title", { title: "a\u0007b" }],
    ["a control character in the text", { text: "a\u0000b" }],
    ["an unknown scope", { scope: "team" }],
    ["a missing scope", { scope: undefined }],
    ["a shortcut with a slash", { shortcut: "/greet" }],
    ["a shortcut with a space", { shortcut: "two words" }],
    ["a shortcut over 32 characters", { shortcut: "s".repeat(33) }],
    ["a shortcut that is not a string", { shortcut: 7 }],
    ["a department for a personal message", { department: "general" }],
    ["a department message without a department", { scope: "department" }],
    ["a department that is not a slug", { scope: "department", department: "Sales Team" }],
    ["an unknown field", { owner: "someone" }],
  ])("refuses %s with 400", async (_, change) => {
    const manager = await agentCookie({ grants: [MANAGE] });
    const res = await apiRequest("POST", PATH, manager.cookie, { ...valid, ...change });
    await expectError(res, 400, "invalid_request");
    expect(await list(manager.cookie, { scope: "personal" })).toEqual([]);
  });

  it("keeps line breaks and tabs in a text, and takes exactly 100 and 2000 characters", async () => {
    const agent = await agentCookie();
    const message = await create(agent.cookie, {
      scope: "personal",
      title: "t".repeat(100),
      text: `Line 1\r\n\tLine 2${"x".repeat(1985)}`,
    });
    expect(message.text).toMatch(/^Line 1\r\n\tLine 2x+$/);
  });

  it("refuses a bad update and a bad query with 400", async () => {
    const agent = await agentCookie();
    const message = await create(agent.cookie, { scope: "personal" });
    const path = `${PATH}/${message.id}`;
    for (const body of [
      { title: "t", text: "x".repeat(2001) },
      { title: "t", text: "x", scope: "global" },
      { title: "t", text: "x", shortcut: "Bad Key" },
      { text: "x" },
    ]) {
      await expectError(await apiRequest("PUT", path, agent.cookie, body), 400, "invalid_request");
    }
    for (const query of ["scope=team", `q=${"q".repeat(201)}`, "q=", "page=2", "q=a&q=b"]) {
      await expectError(
        await apiRequest("GET", `${PATH}?${query}`, agent.cookie),
        400,
        "invalid_request",
      );
    }
    await expectError(
      await apiRequest("PUT", `${PATH}/${"x".repeat(300)}`, agent.cookie, {
        title: "t",
        text: "x",
      }),
      404,
      "canned_message_not_found",
    );
  });
});
