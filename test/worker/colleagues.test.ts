/**
 * `GET /api/agent/colleagues` (the console's transfer, invite and agent-chat pickers): the
 * enabled agents sharing a department with the caller, never the caller, never a disabled
 * agent, never an agent of other departments only; `general` for agents without one.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ColleagueListResponse } from "../../src/protocol/colleagues.ts";
import { apiRequest, login, ORIGIN, seedAgent, uniqueDepartment } from "./helpers.ts";

async function colleaguesOf(email: string): Promise<string[]> {
  const res = await apiRequest("GET", "/api/agent/colleagues", await login(email));
  expect(res.status).toBe(200);
  return ((await res.json()) as ColleagueListResponse).colleagues.map((c) => c.id);
}

describe("GET /api/agent/colleagues", () => {
  it("lists the enabled agents of the caller's departments, by name, without the caller", async () => {
    const sales = uniqueDepartment();
    const billing = uniqueDepartment();
    const me = await seedAgent({ departments: [sales, billing] });
    const salesMate = await seedAgent({ departments: [sales] });
    const billingMate = await seedAgent({ departments: [billing, uniqueDepartment()] });
    const stranger = await seedAgent({ departments: [uniqueDepartment()] });
    const disabled = await seedAgent({ departments: [sales] });
    await env.DB.prepare("UPDATE agents SET disabled_at = 1 WHERE id = ?1").bind(disabled.id).run();

    const listed = await colleaguesOf(me.email);
    expect(listed).toContain(salesMate.id);
    expect(listed).toContain(billingMate.id);
    for (const absent of [me.id, stranger.id, disabled.id]) expect(listed).not.toContain(absent);

    const res = await apiRequest("GET", "/api/agent/colleagues", await login(me.email));
    const { colleagues } = (await res.json()) as ColleagueListResponse;
    const mine = colleagues.filter((c) => [salesMate.id, billingMate.id].includes(c.id));
    expect(mine).toEqual(
      [salesMate, billingMate]
        .map(({ id, name }) => ({ id, name }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it("treats agents without a department as general", async () => {
    const a = await seedAgent();
    const b = await seedAgent();
    const elsewhere = await seedAgent({ departments: [uniqueDepartment()] });
    const listed = await colleaguesOf(a.email);
    expect(listed).toContain(b.id);
    expect(listed).not.toContain(elsewhere.id);
  });

  it("answers 401 without a session", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/agent/colleagues`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: expect.any(String) } });
  });
});
