/**
 * DESIGN invariant 3's first gate, end to end: the agent and mobile IP allowlists on login,
 * every agent API call and every agent socket upgrade; admin narrowing that can never widen;
 * personal API tokens; HTTPS off loopback. Configuration that differs from the test bindings
 * goes through `createApp().fetch` with an overridden env (the Durable Objects behind it are
 * the real ones).
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import { apiRequest, login, ORIGIN, PASSWORD, seedAgent } from "./helpers.ts";

const OFFICE = "203.0.113.0/24";
const INSIDE = "203.0.113.7";
const OUTSIDE = "198.51.100.9";

/** A request through an app whose configuration is `vars` on top of the test bindings. */
function withConfig(vars: Record<string, string>) {
  const app = createApp();
  return (path: string, init: RequestInit & { ip?: string } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", ORIGIN);
    if (init.ip) headers.set("cf-connecting-ip", init.ip);
    return app.fetch(
      new Request(`${ORIGIN}${path}`, { ...init, headers }),
      { ...env, ...vars },
      createExecutionContext(),
    );
  };
}

function loginBody(email: string) {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  };
}

async function deniedRows(ip: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM audit_log WHERE action = 'access.ip_denied' AND ip = ?1",
  )
    .bind(ip)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("AGENT_IP_ALLOWLIST", () => {
  const office = withConfig({ AGENT_IP_ALLOWLIST: OFFICE });

  it("refuses login from outside the list, audited, and allows it from inside", async () => {
    const agent = await seedAgent();
    const outside = await office("/api/auth/login", { ...loginBody(agent.email), ip: OUTSIDE });
    expect(outside.status).toBe(403);
    expect(await outside.json()).toMatchObject({ error: { code: "ip_denied" } });
    expect(await deniedRows(OUTSIDE)).toBeGreaterThan(0);
    const inside = await office("/api/auth/login", { ...loginBody(agent.email), ip: INSIDE });
    expect(inside.status).toBe(200);
  });

  it("refuses every agent API call and socket upgrade of a valid session from outside", async () => {
    const agent = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(agent.email);
    for (const path of ["/api/auth/me", "/api/agents", "/api/audit", "/api/auth/sessions"]) {
      const res = await office(path, { headers: { cookie }, ip: OUTSIDE });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "ip_denied" } });
      expect((await office(path, { headers: { cookie }, ip: INSIDE })).status, path).toBe(200);
    }
    const upgrade = { upgrade: "websocket", "sec-websocket-protocol": "parley.v1", cookie };
    const socket = await office("/api/agent/ws", { headers: upgrade, ip: OUTSIDE });
    expect(socket.status).toBe(403);
    const allowed = await office("/api/agent/ws", { headers: upgrade, ip: INSIDE });
    expect(allowed.status).toBe(101);
    allowed.webSocket?.accept();
    allowed.webSocket?.close();
  });

  it("denies a request without a usable client IP unless the list is *", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    for (const ip of [undefined, "1.2.3", "0x7f.0.0.1", "203.0.113.07"]) {
      const res = await office("/api/auth/me", { headers: { cookie }, ...(ip ? { ip } : {}) });
      expect(res.status, String(ip)).toBe(403);
    }
    const open = withConfig({ AGENT_IP_ALLOWLIST: "*" });
    expect((await open("/api/auth/me", { headers: { cookie } })).status).toBe(200);
  });

  it("denies everyone when the list is empty or missing, and fails closed on a typo", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const empty = withConfig({ AGENT_IP_ALLOWLIST: "" });
    expect((await empty("/api/auth/me", { headers: { cookie }, ip: INSIDE })).status).toBe(403);
    const typo = withConfig({ AGENT_IP_ALLOWLIST: "203.0.113.0/24, 10.0.0" });
    for (const path of ["/api/auth/me", "/api/auth/login", "/api/agent/ws"]) {
      const res = await typo(path, { headers: { cookie }, ip: INSIDE });
      expect(res.status, path).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "config_invalid" } });
    }
  });

  it("leaves the visitor side alone", async () => {
    const res = await office("/api/visitor/chats", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ department: "no-such-dept-x" }),
      ip: OUTSIDE,
    });
    expect(res.status).not.toBe(403);
  });
});

describe("narrowing by an administrator", () => {
  it("narrows, never widens, and never locks out the caller", async () => {
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const other = await seedAgent();
    const otherCookie = await login(other.email);
    const put = (rules: string[] | null, ip: string) =>
      SELF.fetch(`${ORIGIN}/api/security/ip-allowlists/agent`, {
        method: "PUT",
        headers: {
          cookie,
          origin: ORIGIN,
          "content-type": "application/json",
          "cf-connecting-ip": ip,
        },
        body: JSON.stringify({ rules }),
      });
    try {
      const lockout = await put(["192.0.2.0/24"], INSIDE);
      expect(lockout.status).toBe(409);
      expect(await lockout.json()).toMatchObject({ error: { code: "would_lock_you_out" } });
      expect((await put([OFFICE], INSIDE)).status).toBe(200);
      const me = (ip: string) =>
        SELF.fetch(`${ORIGIN}/api/auth/me`, {
          headers: { cookie: otherCookie, "cf-connecting-ip": ip },
        });
      expect((await me(OUTSIDE)).status).toBe(403);
      expect((await me(INSIDE)).status).toBe(200);
      const audit = await env.DB.prepare(
        "SELECT details FROM audit_log WHERE action = 'security.ip_allowlist' ORDER BY id DESC",
      ).first<{ details: string }>();
      expect(JSON.parse(audit?.details ?? "{}")).toMatchObject({ after: [OFFICE] });
    } finally {
      await env.DB.prepare("DELETE FROM security_settings").run();
    }
    expect(
      (
        await SELF.fetch(`${ORIGIN}/api/auth/me`, {
          headers: { cookie: otherCookie, "cf-connecting-ip": OUTSIDE },
        })
      ).status,
    ).toBe(200);
  });

  it("refuses a rule wider than wrangler.toml, and a wider row in D1 opens nothing", async () => {
    const office = withConfig({ AGENT_IP_ALLOWLIST: OFFICE });
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const widen = await office("/api/security/ip-allowlists/agent", {
      method: "PUT",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ rules: ["0.0.0.0/0"] }),
      ip: INSIDE,
    });
    expect(widen.status).toBe(400);
    expect(await widen.json()).toMatchObject({
      error: { code: "outside_configured_range", details: { rules: ["0.0.0.0/0"] } },
    });
    const bad = await office("/api/security/ip-allowlists/agent", {
      method: "PUT",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ rules: ["10.0.0"] }),
      ip: INSIDE,
    });
    expect(bad.status).toBe(400);
    try {
      // Written behind the API's back: still only the intersection applies.
      await env.DB.prepare(
        "INSERT INTO security_settings (key, value, updated_at) VALUES ('agent_ip_allowlist', '[\"0.0.0.0/0\"]', 0)",
      ).run();
      const res = await office("/api/auth/me", { headers: { cookie }, ip: OUTSIDE });
      expect(res.status).toBe(403);
    } finally {
      await env.DB.prepare("DELETE FROM security_settings").run();
    }
  });

  it("needs manage security settings", async () => {
    const agent = await seedAgent();
    const res = await apiRequest("GET", "/api/security/ip-allowlists", await login(agent.email));
    expect(res.status).toBe(403);
  });
});

describe("personal API tokens", () => {
  it("are shown once, stored hashed, work as Bearer with the agent's permissions, and revoke", async () => {
    const agent = await seedAgent({ groups: ["agents"] });
    const cookie = await login(agent.email);
    const created = await apiRequest("POST", "/api/auth/tokens", cookie, { name: "Phone" });
    expect(created.status).toBe(201);
    const { id, token } = await created.json<{ id: string; token: string }>();
    expect(token).toMatch(/^pt_[\w-]{43}$/);
    const stored = await env.DB.prepare("SELECT token_hash FROM api_tokens WHERE id = ?1")
      .bind(id)
      .first<{ token_hash: string }>();
    expect(stored?.token_hash).not.toContain(token.slice(3));
    const listed = await apiRequest("GET", "/api/auth/tokens", cookie);
    expect(JSON.stringify(await listed.json())).not.toContain(token);

    const bearer = (path: string, extra: Record<string, string> = {}) =>
      SELF.fetch(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${token}`, ...extra } });
    const me = await bearer("/api/auth/me");
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ agent: { id: agent.id } });
    // The agent's own permissions: an agent cannot read the audit log with a token either.
    expect((await bearer("/api/audit")).status).toBe(403);
    // Session-only routes and sockets refuse tokens.
    for (const path of ["/api/auth/sessions", "/api/auth/tokens"]) {
      const res = await bearer(path);
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "session_required" } });
    }
    const socket = await bearer("/api/agent/ws", {
      upgrade: "websocket",
      "sec-websocket-protocol": "parley.v1",
      origin: ORIGIN,
    });
    expect(socket.status).toBe(403);

    expect((await apiRequest("DELETE", `/api/auth/tokens/${id}`, cookie)).status).toBe(200);
    expect((await bearer("/api/auth/me")).status).toBe(401);
    expect((await bearer("/api/auth/me", { authorization: "Bearer pt_forged" })).status).toBe(401);
  });

  it("are accepted only from MOBILE_IP_ALLOWLIST", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const created = await apiRequest("POST", "/api/auth/tokens", cookie, { name: "CI" });
    const { token } = await created.json<{ token: string }>();
    const mobileClosed = withConfig({ MOBILE_IP_ALLOWLIST: "" });
    const res = await mobileClosed("/api/auth/me", {
      headers: { authorization: `Bearer ${token}` },
      ip: INSIDE,
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "ip_denied" } });
    // The console (cookie) still works from there: it has its own list.
    expect((await mobileClosed("/api/auth/me", { headers: { cookie }, ip: INSIDE })).status).toBe(
      200,
    );
  });

  it("need a recent re-authentication to create, and refuse bad input", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    expect((await apiRequest("POST", "/api/auth/tokens", cookie, { name: "" })).status).toBe(400);
    expect(
      (await apiRequest("POST", "/api/auth/tokens", cookie, { name: "x", expiresInDays: 999 }))
        .status,
    ).toBe(400);
    await env.DB.prepare("UPDATE sessions SET authenticated_at = 0 WHERE agent_id = ?1")
      .bind(agent.id)
      .run();
    const stale = await apiRequest("POST", "/api/auth/tokens", cookie, { name: "late" });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ error: { code: "reauth_required" } });
  });
});

describe("HTTPS off loopback", () => {
  it("redirects a plain-HTTP GET and refuses other plain-HTTP requests", async () => {
    const get = await SELF.fetch("http://chat.example.com/console/", { redirect: "manual" });
    expect(get.status).toBe(301);
    expect(get.headers.get("location")).toBe("https://chat.example.com/console/");
    const post = await SELF.fetch("http://chat.example.com/api/auth/login", { method: "POST" });
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ error: { code: "https_required" } });
    const upgrade = await SELF.fetch("http://chat.example.com/api/agent/ws", {
      headers: { upgrade: "websocket" },
    });
    expect(upgrade.status).toBe(403);
  });

  it("allows http: on loopback for local development", async () => {
    for (const host of ["localhost:8787", "127.0.0.1:8787", "[::1]:8787"]) {
      const res = await SELF.fetch(`http://${host}/healthz`);
      expect(res.status, host).toBe(200);
    }
  });
});

describe("personal API tokens and credential changes", () => {
  it("end when the agent changes the password", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const created = await apiRequest("POST", "/api/auth/tokens", cookie, { name: "Old" });
    const { token } = await created.json<{ token: string }>();
    const me = () =>
      SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200);
    // Within the minimum password age the change is refused; age the password first.
    await env.DB.prepare("UPDATE agents SET password_changed_at = 0 WHERE id = ?1")
      .bind(agent.id)
      .run();
    const change = await apiRequest("POST", "/api/auth/password", cookie, {
      currentPassword: PASSWORD,
      newPassword: "an entirely new passphrase 77",
    });
    expect(change.status).toBe(200);
    expect((await me()).status).toBe(401);
  });
});
