/**
 * Security alerts (issue 9, monitoring and incident response) with a local receiver: the
 * Worker's outbound `fetch` runs in this isolate, so a spy on it answers as the operator's
 * webhook would, and records each request. Requests go through `createApp().fetch` with the
 * alert settings added to the test bindings, and `waitOnExecutionContext` waits for the work
 * done after the answer. Each test names its own deployment (ALERT_DEPLOYMENT_NAME), which
 * keys the counters, so tests never share a window.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import { parseConfig } from "../../src/config.ts";
import { ALERT_TIMEOUT_MS } from "../../worker/alerts.ts";
import { createApp } from "../../worker/app.ts";
import { runScheduled } from "../../worker/scheduled.ts";
import { login, ORIGIN, PASSWORD, recordConsole, seedAgent } from "./helpers.ts";

const HOOK = "https://alerts.example/parley";
const SECRET = "alerts-test-webhook-secret-0123456789abcdef";

/** A received alert: the request as sent, and its raw body. */
interface Received {
  request: Request;
  body: string;
}

const restore: (() => void)[] = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

/** The operator's receiver: records each request to HOOK and answers with `answer`. */
function receiver(
  answer: (init: RequestInit | undefined) => Response | Promise<Response> = () =>
    new Response(null, { status: 204 }),
) {
  const received: Received[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    received.push({ request, body: await request.clone().text() });
    return answer(init);
  });
  restore.push(() => spy.mockRestore());
  return received;
}

function uniqueDeployment(): string {
  return `alerts-test-${crypto.randomUUID().slice(0, 8)}`;
}

let ipCounter = 0;
/** A client address of its own (IPv6 documentation range, one /64 each: per-IP limits never meet). */
function uniqueIp(): string {
  ipCounter += 1;
  return `2001:db8:${(0xa100 + ipCounter).toString(16)}::1`;
}

/**
 * A deployment with `vars` on top of the test bindings (the webhook and its secret unless
 * overridden). `send` answers once the work after the answer is done too.
 */
function deployment(vars: Record<string, string | undefined> = {}) {
  const name = uniqueDeployment();
  const bindings = {
    ...env,
    ALERT_WEBHOOK_URL: HOOK,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_DEPLOYMENT_NAME: name,
    ...vars,
  };
  const app = createApp();
  const send = async (path: string, init: RequestInit = {}, ip = uniqueIp()) => {
    const headers = new Headers(init.headers);
    headers.set("origin", ORIGIN);
    headers.set("cf-connecting-ip", ip);
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, { ...init, headers }),
      bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };
  const failedLogin = (email = `nobody-${crypto.randomUUID()}@alerts.example`) =>
    send("/api/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "not the password at all" }),
    });
  return { name, bindings, app, send, failedLogin };
}

/** The alert audit rows of a deployment, oldest first. */
async function alertRows(name: string) {
  const { results } = await env.DB.prepare(
    `SELECT actor_type, action, target, outcome, details FROM audit_log
     WHERE action LIKE 'alert.%' AND details LIKE ?1 ORDER BY id`,
  )
    .bind(`%"deployment":"${name}"%`)
    .all<{
      actor_type: string;
      action: string;
      target: string;
      outcome: string;
      details: string;
    }>();
  return results.map((row) => ({ ...row, details: JSON.parse(row.details) as unknown }));
}

/** Recomputes the signature as a receiver would, with WebCrypto alone. */
async function expectedSignature(timestamp: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`${timestamp}.${body}`),
  );
  return `sha256=${Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("failed logins", () => {
  it("the 21st failure in 5 minutes sends one signed alert, the 22nd does not", async () => {
    const received = receiver();
    const { name, failedLogin } = deployment();
    for (let n = 1; n <= 20; n++) expect((await failedLogin()).status).toBe(401);
    expect(received).toEqual([]);
    const before = Date.now();
    expect((await failedLogin()).status).toBe(401);
    expect(received).toHaveLength(1);
    expect((await failedLogin()).status).toBe(401);
    expect(received).toHaveLength(1);

    const [{ request, body }] = received as [Received];
    expect(request.url).toBe(HOOK);
    expect(request.method).toBe("POST");
    expect(request.headers.get("content-type")).toBe("application/json");
    const at = (JSON.parse(body) as { at: string }).at;
    expect(at).toMatch(ISO);
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before - 1000);
    // The exact body, field order included.
    expect(body).toBe(
      JSON.stringify({ type: "failed_logins", count: 21, window: 300, at, deployment: name }),
    );
    const timestamp = request.headers.get("x-parley-timestamp") ?? "";
    expect(timestamp).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(request.headers.get("x-parley-signature")).toBe(
      await expectedSignature(timestamp, body),
    );
    // The same body under another timestamp (a replay sent later) does not verify.
    expect(request.headers.get("x-parley-signature")).not.toBe(
      await expectedSignature(String(Number(timestamp) + 1), body),
    );

    expect(await alertRows(name)).toEqual([
      {
        actor_type: "system",
        action: "alert.sent",
        target: "failed_logins",
        outcome: "success",
        details: { count: 21, window: 300, deployment: name, ok: true, status: 204 },
      },
    ]);
  }, 60_000);

  it("does not delay the answer; a receiver that never answers is given up after the timeout", async () => {
    let called: () => void = () => {};
    const reached = new Promise<void>((resolve) => {
      called = resolve;
    });
    const received = receiver(
      (init) =>
        new Promise<Response>((_, reject) => {
          called();
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    const { name, app, bindings } = deployment({ ALERT_FAILED_LOGINS_PER_5_MIN: "1" });
    const attempt = () =>
      new Request(`${ORIGIN}/api/auth/login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: ORIGIN,
          "cf-connecting-ip": uniqueIp(),
        },
        body: JSON.stringify({ email: "nobody@alerts.example", password: "wrong password" }),
      });
    const first = createExecutionContext();
    expect((await app.fetch(attempt(), bindings, first)).status).toBe(401);
    await waitOnExecutionContext(first);

    const second = createExecutionContext();
    const started = Date.now();
    const res = await app.fetch(attempt(), bindings, second);
    // The answer is there while the receiver still holds the alert.
    expect(res.status).toBe(401);
    await reached;
    expect(received).toHaveLength(1);
    await waitOnExecutionContext(second);
    expect(Date.now() - started).toBeGreaterThanOrEqual(ALERT_TIMEOUT_MS);
    expect(await alertRows(name)).toEqual([
      expect.objectContaining({
        action: "alert.failed",
        target: "failed_logins",
        outcome: "failure",
        details: { count: 2, window: 300, deployment: name, ok: false, reason: "timeout" },
      }),
    ]);
  }, 30_000);

  it.each([
    ["an error status", 500],
    ["a redirect, which is not followed", 302],
  ])("audits alert.failed and logs it when the receiver answers %s", async (_, status) => {
    const received = receiver(
      () => new Response(null, { status, headers: { location: "https://elsewhere.example/" } }),
    );
    const recorded = recordConsole(["error"]);
    restore.push(() => recorded.restore());
    const { name, failedLogin } = deployment({ ALERT_FAILED_LOGINS_PER_5_MIN: "1" });
    await failedLogin();
    await failedLogin();
    expect(received).toHaveLength(1);
    expect(await alertRows(name)).toEqual([
      expect.objectContaining({
        action: "alert.failed",
        outcome: "failure",
        details: { count: 2, window: 300, deployment: name, ok: false, reason: `status ${status}` },
      }),
    ]);
    const logged = recorded.lines.filter((line) => line.includes("webhook failed"));
    expect(logged.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: "error",
        msg: "security alert: webhook failed",
        type: "failed_logins",
        reason: `status ${status}`,
      }),
    ]);
    // The webhook's URL is never logged (a URL can itself hold a token).
    expect(recorded.lines.join("\n")).not.toContain("alerts.example/parley");
  });
});

describe("lockouts and IP denials", () => {
  it("alerts on lockouts over ALERT_LOCKOUTS_PER_HOUR", async () => {
    const received = receiver();
    const { name, send } = deployment({
      ALERT_LOCKOUTS_PER_HOUR: "1",
      LOGIN_LOCKOUT_AFTER: "2",
      LOGIN_CAPTCHA_AFTER: "2",
    });
    for (const agent of [await seedAgent(), await seedAgent()]) {
      const codes: string[] = [];
      for (let n = 0; n < 2; n++) {
        const res = await send("/api/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: agent.email, password: `${PASSWORD} wrong` }),
        });
        codes.push(((await res.json()) as { error: { code: string } }).error.code);
      }
      expect(codes).toEqual(["invalid_credentials", "account_locked"]);
    }
    expect(received.map(({ body }) => JSON.parse(body))).toEqual([
      {
        type: "lockouts",
        count: 2,
        window: 3600,
        at: expect.stringMatching(ISO),
        deployment: name,
      },
    ]);
  });

  it("alerts on IP-allowlist denials over ALERT_IP_DENIALS_PER_5_MIN", async () => {
    const received = receiver();
    const { name, send } = deployment({
      ALERT_IP_DENIALS_PER_5_MIN: "2",
      AGENT_IP_ALLOWLIST: "203.0.113.0/24",
    });
    for (let n = 0; n < 4; n++) {
      expect((await send("/api/auth/me", {}, `198.51.100.${200 + n}`)).status).toBe(403);
      expect(received, `denial ${n + 1}`).toHaveLength(n < 2 ? 0 : 1);
    }
    expect(JSON.parse(received[0]?.body ?? "")).toEqual({
      type: "ip_denials",
      count: 3,
      window: 300,
      at: expect.stringMatching(ISO),
      deployment: name,
    });
    expect(await alertRows(name)).toEqual([
      expect.objectContaining({ action: "alert.sent", target: "ip_denials" }),
    ]);
  });
});

describe("without a webhook", () => {
  it("sends nothing, and logs and audits the alert", async () => {
    const received = receiver();
    const recorded = recordConsole(["warn"]);
    restore.push(() => recorded.restore());
    const { name, failedLogin } = deployment({
      ALERT_WEBHOOK_URL: undefined,
      ALERT_WEBHOOK_SECRET: undefined,
      ALERT_FAILED_LOGINS_PER_5_MIN: "1",
    });
    await failedLogin();
    await failedLogin();
    expect(received).toEqual([]);
    expect(await alertRows(name)).toEqual([
      {
        actor_type: "system",
        action: "alert.logged",
        target: "failed_logins",
        outcome: "success",
        details: { count: 2, window: 300, deployment: name },
      },
    ]);
    expect(recorded.lines.map((line) => JSON.parse(line))).toContainEqual({
      level: "warn",
      msg: "security alert",
      type: "failed_logins",
      count: 2,
      window: 300,
      at: expect.stringMatching(ISO),
      deployment: name,
      delivery: "log",
    });
  });
});

describe("configuration", () => {
  it.each([
    ["a webhook without its secret", { ALERT_WEBHOOK_SECRET: undefined }, "ALERT_WEBHOOK_SECRET"],
    ["a secret under 32 characters", { ALERT_WEBHOOK_SECRET: "short" }, "ALERT_WEBHOOK_SECRET"],
    ["an http:// webhook", { ALERT_WEBHOOK_URL: "http://alerts.example/parley" }, "https"],
    ["a webhook that is no URL", { ALERT_WEBHOOK_URL: "alerts.example" }, "https"],
    ["a threshold of 0", { ALERT_FAILED_LOGINS_PER_5_MIN: "0" }, "ALERT_FAILED_LOGINS"],
    ["a malformed deployment name", { ALERT_DEPLOYMENT_NAME: "prod east" }, "ALERT_DEPLOYMENT"],
  ])("refuses %s (503 config_invalid, the value not logged)", async (_, vars, named) => {
    const recorded = recordConsole(["error"]);
    restore.push(() => recorded.restore());
    const { send } = deployment(vars);
    const res = await send("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "config_invalid" } });
    const logged = recorded.lines.join("\n");
    expect(logged).toContain(named);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain("short");
    expect(logged).not.toContain("alerts.example");
  });

  it("reads the documented defaults", () => {
    expect(parseConfig({ ...env }).alerts).toEqual({
      webhook: null,
      deployment: null,
      failedLoginsPer5Min: 20,
      lockoutsPerHour: 3,
      ipDenialsPer5Min: 20,
    });
  });
});

describe("a broken audit chain", () => {
  const NO_UPDATE_TRIGGER = `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`;

  /** Runs `body` while one row of the chain (a row of our own) is altered, then undoes it. */
  async function whileTampered(body: (victimId: number) => Promise<void>): Promise<void> {
    const marker = `alerts-chain-${crypto.randomUUID()}`;
    await appendAudit(env, {
      actorType: "system",
      actorId: marker,
      action: "test.append",
      target: "original",
      outcome: "success",
      ip: null,
      userAgent: null,
      at: Date.now(),
    });
    const row = await env.DB.prepare("SELECT id FROM audit_log WHERE actor_id = ?1")
      .bind(marker)
      .first<{ id: number }>();
    const id = row?.id ?? 0;
    // One batch (a transaction): no other connection sees the table without its trigger.
    const edit = (target: string) =>
      env.DB.batch([
        env.DB.prepare("DROP TRIGGER audit_log_no_update"),
        env.DB.prepare("UPDATE audit_log SET target = ?1 WHERE id = ?2").bind(target, id),
        env.DB.prepare(NO_UPDATE_TRIGGER),
      ]);
    await edit("edited");
    try {
      await body(id);
    } finally {
      await edit("original");
    }
  }

  it("GET /api/audit/verify finding a break sends audit_chain_broken, once an hour", async () => {
    const received = receiver();
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const { name, send } = deployment();
    await whileTampered(async (victimId) => {
      for (let n = 0; n < 2; n++) {
        const res = await send("/api/audit/verify", { headers: { cookie } });
        expect(await res.json()).toMatchObject({ ok: false, problem: { kind: "altered" } });
      }
      expect(received.map(({ body }) => JSON.parse(body))).toEqual([
        {
          type: "audit_chain_broken",
          count: 1,
          window: 3600,
          at: expect.stringMatching(ISO),
          deployment: name,
          problem: { id: victimId, kind: "altered" },
        },
      ]);
    });
    expect(await alertRows(name)).toEqual([
      expect.objectContaining({ action: "alert.sent", target: "audit_chain_broken" }),
    ]);
    // Intact again: verifying raises nothing more.
    const res = await SELF.fetch(`${ORIGIN}/api/audit/verify`, { headers: { cookie } });
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it("the cron verifies the chain every 6 hours and alerts on a break", async () => {
    const received = receiver();
    const { name, bindings } = deployment();
    const sixHourly = new Date();
    sixHourly.setUTCHours(sixHourly.getUTCHours() - (sixHourly.getUTCHours() % 6), 7, 0, 0);
    await whileTampered(async (victimId) => {
      // 1:07 past a six-hour mark: no verification.
      await runScheduled(bindings, sixHourly.getTime() + 3_600_000);
      expect(received).toEqual([]);
      await runScheduled(bindings, sixHourly.getTime());
      expect(received.map(({ body }) => JSON.parse(body))).toEqual([
        expect.objectContaining({
          type: "audit_chain_broken",
          deployment: name,
          problem: { id: victimId, kind: "altered" },
        }),
      ]);
    });
  });
});
