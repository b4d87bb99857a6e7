import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signSessionToken } from "../../src/security/tokens.ts";
import { createApp } from "../../worker/app.ts";
import {
  acceptedChat,
  login,
  ORIGIN,
  openSocket,
  PASSWORD,
  postJson,
  seedAgent,
} from "./helpers.ts";

describe("configuration fails closed", () => {
  it.each([
    ["a missing SESSION_KEY", { SESSION_KEY: undefined }],
    ["a malformed origin list", { WIDGET_ORIGINS: "shop.example" }],
    ["a password minimum below 12", { PASSWORD_MIN_LENGTH: "8" }],
  ])("answers 503 config_invalid to every request with %s", async (_, override) => {
    const app = createApp();
    for (const path of ["/healthz", "/api/auth/me", "/api/visitor/chats"]) {
      const res = await app.fetch(
        new Request(`${ORIGIN}${path}`, { headers: { origin: ORIGIN } }),
        { ...env, ...override },
        createExecutionContext(),
      );
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "config_invalid" } });
    }
  });
});

describe("security headers", () => {
  it("sends a strict CSP, no framing and no caching on the API", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/auth/me`);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("strict-transport-security")).toBe(
      "max-age=31536000; includeSubDomains",
    );
  });

  it("sends the console's CSP (no inline script) on the console page", async () => {
    const res = await SELF.fetch(`${ORIGIN}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("audit rows for authentication", () => {
  it("records login success and logout with who and from where, never the password", async () => {
    const agent = await seedAgent();
    const from = { "cf-connecting-ip": "203.0.113.7", "user-agent": "AuditTest/1.0" };
    const res = await postJson("/api/auth/login", { email: agent.email, password: PASSWORD }, from);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const foreign = await SELF.fetch(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    await SELF.fetch(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, origin: ORIGIN, ...from },
    });
    const rows = await env.DB.prepare(
      "SELECT action, outcome, actor_type, ip, user_agent, details FROM audit_log WHERE actor_id = ?1 ORDER BY id",
    )
      .bind(agent.id)
      .all<Record<string, string>>();
    expect(rows.results.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      "auth.login:success",
      "auth.logout:success",
    ]);
    for (const row of rows.results) {
      expect(row.actor_type).toBe("agent");
      expect(row.ip).toBe("203.0.113.7");
      expect(row.user_agent).toBe("AuditTest/1.0");
      expect(row.details).not.toContain(PASSWORD);
    }
  });

  it("refuses to update audit rows (append-only)", async () => {
    const agent = await seedAgent();
    await login(agent.email);
    await expect(
      env.DB.prepare("UPDATE audit_log SET outcome = 'failure' WHERE actor_id = ?1")
        .bind(agent.id)
        .run(),
    ).rejects.toThrow(/append-only/);
  });
});

describe("tokens of the wrong audience", () => {
  it("refuses a session token presented as a visitor token", async () => {
    const chat = await acceptedChat();
    const key = new TextEncoder().encode(env.SESSION_KEY);
    const sessionToken = await signSessionToken({ sub: "v", sid: "s" }, key, 60);
    const res = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
      "sec-websocket-protocol": `parley.v1, bearer.${sessionToken}`,
    });
    expect((res as Response).status).toBe(401);
  });

  it("refuses a visitor token presented as the session cookie", async () => {
    const chat = await acceptedChat();
    const res = await SELF.fetch(`${ORIGIN}/api/auth/me`, {
      headers: { cookie: `__Host-parley_session=${chat.token}` },
    });
    expect(res.status).toBe(401);
  });
});

describe("CORS", () => {
  it("refuses requests from an origin that is not listed, even when sent without a preflight", async () => {
    const res = await postJson("/api/visitor/chats", {}, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets a listed console origin log in with credentials", async () => {
    const agent = await seedAgent();
    const preflight = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
      method: "OPTIONS",
      headers: {
        origin: "https://console.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://console.example");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    const res = await postJson(
      "/api/auth/login",
      { email: agent.email, password: PASSWORD },
      { origin: "https://console.example" },
    );
    expect(res.status).toBe(200);
  });

  it("gives the console origin a grant on the agent endpoints too", async () => {
    const preflight = await SELF.fetch(`${ORIGIN}/api/agent/ws`, {
      method: "OPTIONS",
      headers: { origin: "https://console.example", "access-control-request-method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://console.example");
  });

  it("gives widget origins no grant on agent endpoints", async () => {
    const preflight = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("session key rotation", () => {
  it("keeps sessions signed with SESSION_KEY_PREVIOUS valid, and only while it is set", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const rotated = { ...env, SESSION_KEY: "a-brand-new-session-key-0123456789abcdef" };
    const me = (vars: typeof env) =>
      createApp().fetch(
        new Request(`${ORIGIN}/api/auth/me`, { headers: { cookie } }),
        vars,
        createExecutionContext(),
      );
    expect((await me({ ...rotated, SESSION_KEY_PREVIOUS: env.SESSION_KEY })).status).toBe(200);
    expect((await me(rotated)).status).toBe(401);
  });
});

describe("the widget script", () => {
  it("is served at its stable URL with its SRI hash, revalidated often and CORS-enabled", async () => {
    const script = await SELF.fetch(`${ORIGIN}/widget.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toBe("public, max-age=300, must-revalidate");
    expect(script.headers.get("access-control-allow-origin")).toBe("*");
    const body = new Uint8Array(await script.arrayBuffer());
    const sri = await SELF.fetch(`${ORIGIN}/widget.js.sri`);
    const digest = await crypto.subtle.digest("SHA-384", body);
    const expected = `sha384-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
    expect((await sri.text()).trim()).toBe(expected);
  });
});
