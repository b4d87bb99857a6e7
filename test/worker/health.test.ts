/**
 * `GET /healthz` (issue 9, monitoring): D1 and the Durable Object round trip, each timed;
 * `503 degraded` naming the failed or slow check, without the error's text, when D1 or an
 * object fails. Failures are injected through `createApp().fetch` with a D1 or a Dispatcher
 * binding replaced in a copy of `env` (the other bindings are the real ones).
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import type { Env } from "../../worker/env.ts";
import type { HealthResponse } from "../../worker/routes/health.ts";
import { ORIGIN, recordConsole } from "./helpers.ts";

/** Text that must stay in the logs, never in the answer. */
const SECRET_DETAIL = "D1_ERROR: no such table: private_marker_4417";

function healthz(bindings: Partial<Env>) {
  return createApp().fetch(
    new Request(`${ORIGIN}/healthz`),
    { ...env, ...bindings },
    createExecutionContext(),
  );
}

/** A D1 whose every statement fails with SECRET_DETAIL. */
const failingDb = {
  prepare: () => {
    throw new Error(SECRET_DETAIL);
  },
} as unknown as D1Database;

/** A D1 that never answers. */
const hungDb = {
  prepare: () => ({ first: () => new Promise(() => {}) }),
} as unknown as D1Database;

/** A Dispatcher namespace whose object refuses every call. */
const failingDispatcher = {
  idFromName: () => ({}),
  get: () => ({
    chatBacklog: () =>
      Promise.reject(new Error("Durable Object reset because its code was updated.")),
  }),
} as unknown as Env["DISPATCHER"];

let recorded: ReturnType<typeof recordConsole> | null = null;
afterEach(() => {
  recorded?.restore();
  recorded = null;
});

describe("GET /healthz", () => {
  it("answers 200 ok with each check timed and both backlogs", async () => {
    const res = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ok",
      d1: { ok: true, ms: expect.any(Number) },
      durableObjects: { ok: true, ms: expect.any(Number) },
      auditBacklog: 0,
      chatBacklog: { chats: 0, events: 0, oldestSince: null },
    } satisfies HealthResponse);
  });

  it("answers 503 degraded naming D1 when D1 fails, and logs the error only", async () => {
    recorded = recordConsole(["error"]);
    const res = await healthz({ DB: failingDb });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: "degraded",
      d1: { ok: false, ms: expect.any(Number), error: "failed" },
      durableObjects: { ok: true, ms: expect.any(Number) },
      auditBacklog: 0,
      chatBacklog: { chats: 0, events: 0, oldestSince: null },
    });
    expect(text).not.toContain("private_marker");
    const logged = recorded.lines.map((line) => JSON.parse(line));
    expect(logged).toContainEqual({
      level: "error",
      msg: "healthz: check failed",
      requestId: res.headers.get("x-request-id"),
      check: "d1",
      ms: expect.any(Number),
      error: { name: "Error", message: SECRET_DETAIL },
    });
    // No stack in the logs either.
    expect(recorded.lines.join("\n")).not.toContain("health.test.ts");
  });

  it("answers 503 degraded with a timeout when D1 does not answer within 2 s", async () => {
    const started = Date.now();
    const res = await healthz({ DB: hungDb });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: "degraded",
      d1: { ok: false, error: "timeout" },
      durableObjects: { ok: true },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("answers 503 degraded naming the Durable Objects when the Dispatcher fails", async () => {
    const res = await healthz({ DISPATCHER: failingDispatcher });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: "degraded",
      d1: { ok: true, ms: expect.any(Number) },
      durableObjects: { ok: false, ms: expect.any(Number), error: "failed" },
      auditBacklog: null,
      chatBacklog: null,
    });
    expect(text).not.toContain("code was updated");
  });
});
