import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  agentOnline,
  login,
  ORIGIN,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

describe("POST /api/visitor/chats", () => {
  // Chat start takes declared custom variables only (variables.test.ts covers the rules).
  beforeAll(async () => {
    await env.DB.prepare(
      `INSERT OR IGNORE INTO custom_variables (name, label, type, max_length, created_at, updated_at)
       VALUES ('plan', 'Plan', 'string', 500, 0, 0)`,
    ).run();
  });

  it("answers offline when no agent of the department is online, and records the missed chat", async () => {
    const department = uniqueDepartment();
    await seedAgent({ departments: [department] });
    const res = await postJson("/api/visitor/chats", { name: "Ann", department });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ offline: true, reason: "no_agents" });
    const row = await env.DB.prepare("SELECT status FROM chats WHERE department_id = ?1")
      .bind(department)
      .first<{ status: string }>();
    expect(row?.status).toBe("missed");
  });

  it("creates a queued chat with a visitor token when an agent is online", async () => {
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(agent.email));
    const chat = await startChat(department, {
      email: "ann@example.com",
      variables: { plan: "pro" },
    });
    expect(chat.chatId).toMatch(/^[0-9a-f-]{36}$/);
    expect(chat.token.split(".")).toHaveLength(3);
    expect(chat.queuePosition).toBe(1);
    const offer = await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer.visitor).toEqual({
      name: "Vera Visitor",
      email: "ann@example.com",
      department,
      pageUrl: null,
      verified: false,
      variables: { plan: "pro" },
      segments: [],
    });
    const row = await env.DB.prepare("SELECT status, variables FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ status: string; variables: string }>();
    expect(row).toEqual({ status: "queued", variables: '{"plan":"pro"}' });
    console.ws.close();
  });

  it("puts a chat without a department in 'general'", async () => {
    const agent = await seedAgent();
    const console = await agentOnline(await login(agent.email));
    const res = await postJson("/api/visitor/chats", {});
    expect(res.status).toBe(201);
    const { chatId } = await res.json<{ chatId: string }>();
    const row = await env.DB.prepare("SELECT department_id FROM chats WHERE id = ?1")
      .bind(chatId)
      .first<{ department_id: string }>();
    expect(row?.department_id).toBe("general");
    console.ws.close();
  });

  it.each([
    ["an invalid email", { email: "not-an-email" }, "invalid_request"],
    ["an unknown field", { name: "A", admin: true }, "invalid_request"],
    ["a name over 100 characters", { name: "x".repeat(101) }, "invalid_request"],
    ["a variable of the wrong type", { variables: { plan: 3 } }, "invalid_variables"],
    ["a variable that is an object", { variables: { plan: {} } }, "invalid_request"],
    ["a page URL that is not a URL", { pageUrl: "not a url" }, "invalid_request"],
    ["a javascript: page URL", { pageUrl: "javascript:alert(1)" }, "invalid_request"],
    ["an unknown department", { department: "nope-nope" }, "unknown_department"],
    ["a malformed department id", { department: "../etc" }, "invalid_request"],
  ])("rejects %s with 400", async (_, body, code) => {
    const res = await postJson("/api/visitor/chats", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it("rejects a foreign or missing Origin with 403", async () => {
    const foreign = await postJson("/api/visitor/chats", {}, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const missing = await SELF.fetch(`${ORIGIN}/api/visitor/chats`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ error: { code: "origin_denied" } });
  });
});

describe("POST /api/visitor/offline-messages", () => {
  it("stores the message", async () => {
    const res = await postJson("/api/visitor/offline-messages", {
      name: "Olga",
      email: "olga@example.com",
      message: "Please call me back.",
      pageUrl: "https://shop.example/cart",
    });
    expect(res.status).toBe(201);
    const { id } = await res.json<{ id: string }>();
    const row = await env.DB.prepare(
      "SELECT name, email, department_id, message, page_url FROM offline_messages WHERE id = ?1",
    )
      .bind(id)
      .first();
    expect(row).toEqual({
      name: "Olga",
      email: "olga@example.com",
      department_id: "general",
      message: "Please call me back.",
      page_url: "https://shop.example/cart",
    });
  });

  it.each([
    ["a missing email", { message: "hi" }],
    ["an empty message", { email: "a@example.com", message: "   " }],
    ["a message over 4,000 characters", { email: "a@example.com", message: "x".repeat(4001) }],
  ])("rejects %s with 400", async (_, body) => {
    const res = await postJson("/api/visitor/offline-messages", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });
});

describe("unknown routes and static files", () => {
  it("answers unknown API paths with a JSON 404", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("sets security headers on API responses", async () => {
    const res = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toMatch(/max-age=31536000/);
  });
});

describe("CORS for the widget on customers' sites", () => {
  const preflight = (origin: string) =>
    SELF.fetch(`${ORIGIN}/api/visitor/chats`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });

  it("allows an origin listed in WIDGET_ORIGINS, without credentials", async () => {
    const res = await preflight("https://shop.example");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const start = await postJson(
      "/api/visitor/offline-messages",
      { email: "c@example.com", message: "hi" },
      { origin: "https://shop.example" },
    );
    expect(start.status).toBe(201);
    expect(start.headers.get("access-control-allow-origin")).toBe("https://shop.example");
  });

  it("gives an unlisted origin no CORS grant, and its requests are refused", async () => {
    const res = await preflight("https://evil.example");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("chats nobody could take", () => {
  it("leave nothing in the chat's Durable Object", async () => {
    const { runInDurableObject } = await import("cloudflare:test");
    // A department nobody staffs.
    const department = uniqueDepartment();
    await env.DB.prepare("INSERT INTO departments (id, name, created_at) VALUES (?1, ?1, 0)")
      .bind(department)
      .run();
    const missed = await postJson("/api/visitor/chats", { department });
    expect(await missed.json()).toEqual({ offline: true, reason: "no_agents" });
    const row = await env.DB.prepare("SELECT id FROM chats WHERE department_id = ?1")
      .bind(department)
      .first<{ id: string }>();
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(row?.id ?? ""));
    const tables = await runInDurableObject(
      stub,
      (_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM meta").one().n,
    );
    expect(tables).toBe(0);
  });
});
