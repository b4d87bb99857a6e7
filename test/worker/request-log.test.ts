/**
 * Structured request logs (issue 9, monitoring): one JSON line per request with its id (also
 * `X-Request-Id`), and nothing secret in it — no cookie, bearer token, query string, password
 * or body.
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import { login, ORIGIN, postJson, recordConsole, seedAgent } from "./helpers.ts";

let recorded: ReturnType<typeof recordConsole> | null = null;
afterEach(() => {
  recorded?.restore();
  recorded = null;
});

/** The request lines recorded so far, parsed. */
function requestLines(lines: string[]): Record<string, unknown>[] {
  return lines
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === "request");
}

describe("request ids", () => {
  it("answers X-Request-Id: random and unique without cf-ray, cf-ray's value with it", async () => {
    const first = (await SELF.fetch(`${ORIGIN}/healthz`)).headers.get("x-request-id");
    const second = (await SELF.fetch(`${ORIGIN}/healthz`)).headers.get("x-request-id");
    expect(first).toMatch(/^[\w-]{22}$/);
    expect(second).toMatch(/^[\w-]{22}$/);
    expect(first).not.toBe(second);

    const ray = "8f1c2d3e4a5b6c7d-FRA";
    const res = await SELF.fetch(`${ORIGIN}/api/nope`, { headers: { "cf-ray": ray } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-request-id")).toBe(ray);
  });

  it("ignores a cf-ray that is too long or holds other characters", async () => {
    for (const ray of ["a".repeat(65), "abc def ghi", '{"level":"error"}', "short"]) {
      const res = await SELF.fetch(`${ORIGIN}/healthz`, { headers: { "cf-ray": ray } });
      expect(res.headers.get("x-request-id"), ray).toMatch(/^[\w-]{22}$/);
    }
  });
});

describe("request log lines", () => {
  it("logs one JSON line per request: id, method, path without query, status, ms, ip", async () => {
    recorded = recordConsole(["log", "warn", "error"]);
    const res = await SELF.fetch(`${ORIGIN}/healthz?probe=1`, {
      headers: { "cf-connecting-ip": "203.0.113.61" },
    });
    const id = res.headers.get("x-request-id");
    const lines = requestLines(recorded.lines).filter((line) => line.requestId === id);
    expect(lines).toEqual([
      {
        level: "info",
        msg: "request",
        requestId: id,
        method: "GET",
        path: "/healthz",
        status: 200,
        ms: expect.any(Number),
        ip: "203.0.113.61",
      },
    ]);
    // The raw line is exactly the JSON of those fields, in this order.
    expect(recorded.lines).toContain(JSON.stringify(lines[0]));
  });

  it("logs a refusal and a 5xx too, the 5xx at level error", async () => {
    recorded = recordConsole(["log", "error"]);
    const denied = await SELF.fetch(`${ORIGIN}/api/auth/me`);
    expect(denied.status).toBe(401);
    const broken = await createApp().fetch(
      new Request(`${ORIGIN}/api/auth/me`),
      { ...env, SESSION_KEY: undefined },
      createExecutionContext(),
    );
    expect(broken.status).toBe(503);
    const lines = requestLines(recorded.lines);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "info",
        requestId: denied.headers.get("x-request-id"),
        path: "/api/auth/me",
        status: 401,
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        requestId: broken.headers.get("x-request-id"),
        status: 503,
      }),
    );
  });

  it("never logs a session cookie, a bearer token, a query string, a password or a body", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const sessionToken = cookie.split("=").slice(1).join("=");
    const bearer = `pt_${"q".repeat(43)}`;
    const queryToken = "query-token-7d2a9c41e5";
    const password = "never-logged password 5521";
    expect(sessionToken.length).toBeGreaterThan(40);

    recorded = recordConsole();
    const responses = [
      await SELF.fetch(`${ORIGIN}/api/auth/me?token=${queryToken}`, {
        headers: { cookie, "cf-connecting-ip": "203.0.113.62" },
      }),
      await SELF.fetch(`${ORIGIN}/api/auth/me?access_token=${queryToken}`, {
        headers: { authorization: `Bearer ${bearer}`, "cf-connecting-ip": "203.0.113.62" },
      }),
      await postJson(
        `/api/auth/login?token=${queryToken}`,
        { email: agent.email, password },
        { cookie, "cf-connecting-ip": "203.0.113.62" },
      ),
    ];
    expect(responses.map((res) => res.status)).toEqual([200, 401, 401]);
    const ids = responses.map((res) => res.headers.get("x-request-id"));
    const lines = requestLines(recorded.lines);
    // The scan looks at the right lines: one per request.
    expect(ids.map((id) => lines.filter((line) => line.requestId === id).length)).toEqual([
      1, 1, 1,
    ]);
    const all = recorded.lines.join("\n");
    for (const secret of [sessionToken, bearer, queryToken, password, "token=", "?"]) {
      expect(all, secret).not.toContain(secret);
    }
  });
});
