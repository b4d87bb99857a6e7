import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runScheduled } from "../../worker/scheduled.ts";
import { login, ORIGIN, seedAgent } from "./helpers.ts";

const DAY = 86_400_000;

describe("scheduled housekeeping", () => {
  it("disables accounts inactive for ACCOUNT_INACTIVE_DAYS, ends their sessions, and audits it", async () => {
    const idle = await seedAgent();
    const active = await seedAgent();
    const cookie = await login(idle.email);
    await login(active.email);
    await env.DB.prepare("UPDATE agents SET last_login_at = ?2 WHERE id = ?1")
      .bind(idle.id, Date.now() - 91 * DAY)
      .run();
    await runScheduled(env);
    const rows = await env.DB.prepare("SELECT id, disabled_at FROM agents WHERE id IN (?1, ?2)")
      .bind(idle.id, active.id)
      .all<{ id: string; disabled_at: number | null }>();
    const byId = new Map(rows.results.map((r) => [r.id, r.disabled_at]));
    expect(byId.get(idle.id)).toEqual(expect.any(Number));
    expect(byId.get(active.id)).toBeNull();
    expect((await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
    const audit = await env.DB.prepare(
      "SELECT outcome FROM audit_log WHERE action = 'agent.disable_inactive' AND target = ?1",
    )
      .bind(idle.id)
      .all();
    expect(audit.results).toEqual([{ outcome: "success" }]);
    // Idempotent: a second run disables nothing more and writes no second row.
    await runScheduled(env);
    const again = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'agent.disable_inactive' AND target = ?1",
    )
      .bind(idle.id)
      .first<{ n: number }>();
    expect(again?.n).toBe(1);
  });

  it("purges expired CAPTCHA solutions and day-old failure counters, keeping live locks", async () => {
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO captcha_used (signature, expires_at) VALUES ('old-sig', ?1), ('new-sig', ?2)",
      ).bind(now - 1, now + 60_000),
      env.DB.prepare(
        `INSERT INTO login_failures (kind, key, failures, last_failure, locked_until) VALUES
         ('ip', 'stale', 3, ?1, NULL), ('ip', 'fresh', 3, ?2, NULL), ('account', 'locked@x', 10, ?1, ?3)`,
      ).bind(now - 2 * DAY, now, now + 60_000),
    ]);
    await runScheduled(env, now);
    const sigs = await env.DB.prepare(
      "SELECT signature FROM captcha_used WHERE signature IN ('old-sig', 'new-sig')",
    ).all();
    expect(sigs.results).toEqual([{ signature: "new-sig" }]);
    const keys = await env.DB.prepare(
      "SELECT key FROM login_failures WHERE key IN ('stale', 'fresh', 'locked@x') ORDER BY key",
    ).all();
    expect(keys.results).toEqual([{ key: "fresh" }, { key: "locked@x" }]);
  });
});
