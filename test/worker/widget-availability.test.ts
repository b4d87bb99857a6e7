/**
 * `GET /api/widget/availability` over real HTTP, D1 and the Dispatcher: every department with
 * online yes or no (an agent of it online, within its business hours) and nothing else; it
 * follows an agent going online and away at once (never cached); the widget's CORS grant; bad
 * query strings refused with 400; the per-IP rate limit.
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WidgetAvailability } from "../../src/protocol/widget-availability.ts";
import { createApp } from "../../worker/app.ts";
import { agentOnline, apiRequest, login, ORIGIN, seedAgent, uniqueDepartment } from "./helpers.ts";

const PATH = "/api/widget/availability";
const WIDGET_ORIGIN = "https://shop.example";

function availability(query = "", headers: Record<string, string> = {}) {
  return SELF.fetch(`${ORIGIN}${PATH}${query}`, { headers });
}

/** The answer for `department` (tests share D1: other departments may be listed too). */
async function onlineOf(department: string): Promise<boolean | undefined> {
  const res = await availability();
  expect(res.status, await res.clone().text()).toBe(200);
  const body = await res.json<WidgetAvailability>();
  return body.departments.find((d) => d.id === department)?.online;
}

/** A department of this test with one agent in it, signed in but not yet online. */
async function staffedDepartment() {
  const department = uniqueDepartment();
  const agent = await seedAgent({ departments: [department] });
  return { department, cookie: await login(agent.email) };
}

describe("the widget's department availability", () => {
  it("lists every department with online yes or no, and nothing more", async () => {
    const { department, cookie } = await staffedDepartment();
    const empty = uniqueDepartment();
    await env.DB.prepare("INSERT INTO departments (id, name, created_at) VALUES (?1, ?1, 0)")
      .bind(empty)
      .run();
    const console = await agentOnline(cookie);

    const res = await availability("", { origin: WIDGET_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const body = await res.json<WidgetAvailability>();
    expect(Object.keys(body)).toEqual(["departments"]);
    // Every department of D1, each with exactly its id and a boolean.
    const { results } = await env.DB.prepare("SELECT id FROM departments").all<{ id: string }>();
    expect(body.departments.map((d) => d.id).sort()).toEqual(results.map((r) => r.id).sort());
    for (const entry of body.departments) {
      expect(Object.keys(entry).sort()).toEqual(["id", "online"]);
      expect(typeof entry.online).toBe("boolean");
    }
    expect(body.departments.find((d) => d.id === department)?.online).toBe(true);
    expect(body.departments.find((d) => d.id === empty)?.online).toBe(false);
    // A foreign origin gets an answer but no CORS grant, so its page cannot read it.
    const foreign = await availability("", { origin: "https://evil.example" });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    console.ws.close();
  });

  it("follows the agent going online and away, uncached", async () => {
    const { department, cookie } = await staffedDepartment();
    expect(await onlineOf(department)).toBe(false);
    const console = await agentOnline(cookie);
    expect(await onlineOf(department)).toBe(true);
    console.send({ type: "status", status: "away" });
    const away = await console.nextOfType("status", (f) => f.status === "away");
    expect(await onlineOf(department)).toBe(false);
    console.send({ type: "status", status: "online" });
    const after = console.frames.indexOf(away);
    await console.nextOfType(
      "status",
      (f) => f.status === "online" && console.frames.indexOf(f) > after,
    );
    expect(await onlineOf(department)).toBe(true);
    console.ws.close();
  });

  it("answers offline outside business hours, as chat start does", async () => {
    const { department, cookie } = await staffedDepartment();
    const console = await agentOnline(cookie);
    expect(await onlineOf(department)).toBe(true);
    const manager = await seedAgent({ groups: [], grants: ["routing.manage"] });
    // Never open: chat start would answer outside_hours.
    const put = await apiRequest(
      "PUT",
      `/api/routing/rules/${department}`,
      await login(manager.email),
      {
        businessHours: { timezone: "UTC", week: {} },
      },
    );
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await onlineOf(department)).toBe(false);
    console.ws.close();
  });

  it("refuses any query parameter with 400", async () => {
    for (const query of ["?department=general", "?x=1", "?x=1&x=2"]) {
      const res = await availability(query);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("is rate limited per client IP (RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE)", async () => {
    const app = createApp();
    const call = (ip: string) =>
      app.fetch(
        new Request(`${ORIGIN}${PATH}`, { headers: { "cf-connecting-ip": ip } }),
        { ...env, RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE: "2" },
        createExecutionContext(),
      );
    expect((await call("192.0.2.91")).status).toBe(200);
    expect((await call("192.0.2.91")).status).toBe(200);
    const limited = await call("192.0.2.91");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect((await call("192.0.2.92")).status).toBe(200);
  });
});
