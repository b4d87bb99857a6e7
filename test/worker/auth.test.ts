import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { login, ORIGIN, PASSWORD, postJson, seedAgent } from "./helpers.ts";

describe("POST /api/auth/login", () => {
  it("sets a session-only __Host- cookie with exactly the required attributes", async () => {
    const agent = await seedAgent();
    const res = await postJson("/api/auth/login", { email: agent.email, password: PASSWORD });
    expect(res.status).toBe(200);
    const body = await res.json<{ agent: Record<string, unknown> }>();
    expect(body.agent).toMatchObject({ id: agent.id, email: agent.email, groups: ["agents"] });
    expect(JSON.stringify(body)).not.toContain("argon2");
    const cookie = res.headers.get("set-cookie") ?? "";
    const [pair, ...attributes] = cookie.split(";").map((part) => part.trim());
    expect(pair).toMatch(/^__Host-parley_session=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(attributes.sort()).toEqual(["HttpOnly", "Path=/", "SameSite=Strict", "Secure"]);
  });

  it("answers the same 401 for an unknown account and a wrong password, and audits both", async () => {
    const agent = await seedAgent();
    const wrong = await postJson("/api/auth/login", {
      email: agent.email,
      password: "not it at all",
    });
    const unknown = await postJson("/api/auth/login", {
      email: "nobody@example.com",
      password: PASSWORD,
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.json()).toEqual(await unknown.json());
    const rows = await env.DB.prepare(
      "SELECT outcome, details FROM audit_log WHERE action = 'auth.login' AND outcome = 'failure' AND (target = ?1 OR details LIKE '%unknown_account%')",
    )
      .bind(agent.id)
      .all<{ details: string }>();
    expect(rows.results.length).toBeGreaterThanOrEqual(2);
    for (const row of rows.results) expect(row.details).not.toContain("not it at all");
  });

  it("refuses a disabled agent with the same generic error", async () => {
    const agent = await seedAgent();
    await env.DB.prepare("UPDATE agents SET disabled_at = 1 WHERE id = ?1").bind(agent.id).run();
    const res = await postJson("/api/auth/login", { email: agent.email, password: PASSWORD });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      "invalid_credentials",
    );
  });

  it.each([
    ["malformed JSON", "{nope", "application/json", 400, "invalid_json"],
    [
      "a missing password",
      JSON.stringify({ email: "a@b.c" }),
      "application/json",
      400,
      "invalid_request",
    ],
    [
      "a non-string password",
      JSON.stringify({ email: "a@b.c", password: 42 }),
      "application/json",
      400,
      "invalid_request",
    ],
    [
      "an unknown field",
      JSON.stringify({ email: "a@b.c", password: "x", admin: true }),
      "application/json",
      400,
      "invalid_request",
    ],
    [
      "a form post",
      "email=a&password=b",
      "application/x-www-form-urlencoded",
      415,
      "unsupported_media_type",
    ],
  ])("rejects %s with a clear 4xx", async (_, body, type, status, code) => {
    const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": type, origin: ORIGIN },
      body,
    });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it.each([
    ["an SQL injection string as email", "' OR '1'='1' --", PASSWORD],
    ["a header injection string as email", "a@b.c\r\nSet-Cookie: x=1", PASSWORD],
    ["an empty-looking unicode password", "someone@example.com", "\u200b\u200b"],
    ["a 1,024-character password", "someone@example.com", "p".repeat(1024)],
  ])("answers %s with the generic 401 and no side effect", async (_, email, password) => {
    // Its own client IP, so these failures do not push the shared test IP towards a CAPTCHA.
    const ip = `192.0.2.${(email.length + password.length) % 250}`;
    const res = await postJson("/api/auth/login", { email, password }, { "cf-connecting-ip": ip });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_credentials" } });
    expect(res.headers.get("set-cookie")).toBeNull();
    const agents = await env.DB.prepare("SELECT count(*) AS n FROM agents").first<{ n: number }>();
    expect(agents?.n).toBeGreaterThan(0); // the table is still there
  });

  it("rejects a password over 1,024 characters and an empty one with 400", async () => {
    for (const password of ["p".repeat(1025), ""]) {
      const res = await postJson("/api/auth/login", { email: "a@b.c", password });
      expect(res.status).toBe(400);
    }
  });

  it("rejects a body over 64 KB with 413", async () => {
    const res = await postJson("/api/auth/login", { email: "a@b.c", password: "x".repeat(70_000) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("refuses a login from a foreign origin", async () => {
    const agent = await seedAgent();
    const res = await postJson(
      "/api/auth/login",
      { email: agent.email, password: PASSWORD },
      { origin: "https://evil.example" },
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_denied" } });
  });
});

describe("sessions", () => {
  it("GET /api/auth/me answers the profile with the cookie and 401 without", async () => {
    const agent = await seedAgent({ groups: ["supervisors"], grants: ["audit.view"] });
    const cookie = await login(agent.email);
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      agent: {
        id: agent.id,
        email: agent.email,
        name: agent.name,
        departments: ["general"],
        groups: ["supervisors"],
        // The union of the supervisors preset and the agent's own grant.
        permissions: [
          "agent_chat.use",
          "audit.view",
          "canned_messages.manage",
          "chats.accept",
          "chats.invite",
          "chats.join",
          "chats.monitor",
          "chats.refuse",
          "chats.transfer",
          "reports.view",
          "secure_form.request",
          "secure_form.view",
          "transcripts.view_department",
          "visitors.invite",
        ],
      },
      passwordExpired: false,
      mfaEnrollmentRequired: false,
    });
    const anonymous = await SELF.fetch(`${ORIGIN}/api/auth/me`);
    expect(anonymous.status).toBe(401);
  });

  it("gives a fresh session id at every login", async () => {
    const agent = await seedAgent();
    const first = await login(agent.email);
    const second = await login(agent.email);
    expect(first).not.toBe(second);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE agent_id = ?1")
      .bind(agent.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(2);
  });

  it("logout revokes the session server-side: the old cookie stops working", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const out = await SELF.fetch(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
    });
    expect(out.status).toBe(200);
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
    expect(await me.json()).toMatchObject({ error: { code: "session_expired" } });
  });

  it("enforces the idle timeout server-side", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ?2 WHERE agent_id = ?1")
      .bind(agent.id, Date.now() - 16 * 60_000)
      .run();
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
  });

  it("enforces the absolute timeout server-side", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await env.DB.prepare("UPDATE sessions SET created_at = ?2 WHERE agent_id = ?1")
      .bind(agent.id, Date.now() - 13 * 3_600_000)
      .run();
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
  });

  it("rejects a forged or tampered session cookie", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const tampered = `${cookie.slice(0, -2)}xx`;
    const res = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie: tampered } });
    expect(res.status).toBe(401);
  });
});
