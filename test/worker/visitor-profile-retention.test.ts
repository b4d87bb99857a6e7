/**
 * Visitor profiles do not outlive the presence token that names them: the hourly cron deletes
 * the profiles of visitors unseen for longer than a presence token lives (a year, renewed at
 * every connection), oldest first, in bounded runs, with one audit row per run that did so.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PRESENCE_TOKEN_SECONDS } from "../../src/security/tokens.ts";
import { purgeStaleProfiles } from "../../src/store/visitor-profiles.ts";
import { runScheduled } from "../../worker/scheduled.ts";

const DAY = 86_400_000;

async function seedProfile(lastSeenAt: number): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO visitor_profiles (visitor_id, first_seen_at, last_seen_at, visits)
     VALUES (?1, ?2, ?2, 3)`,
  )
    .bind(id, lastSeenAt)
    .run();
  return id;
}

async function kept(ids: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT visitor_id FROM visitor_profiles WHERE visitor_id IN (SELECT value FROM json_each(?1))",
  )
    .bind(JSON.stringify(ids))
    .all<{ visitor_id: string }>();
  return results.map((row) => row.visitor_id).sort();
}

describe("visitor profile retention", () => {
  it("deletes profiles unseen for longer than a presence token lives, audited once per run", async () => {
    expect(PRESENCE_TOKEN_SECONDS).toBe(365 * 24 * 3600);
    const now = Date.now();
    const stale = await seedProfile(now - 366 * DAY);
    const recent = await seedProfile(now - 364 * DAY);
    const today = await seedProfile(now);
    await runScheduled(env, now);
    expect(await kept([stale, recent, today])).toEqual([recent, today].sort());
    const rows = await env.DB.prepare(
      `SELECT actor_type, outcome, details FROM audit_log
       WHERE action = 'retention.visitor_profiles' AND at = ?1`,
    )
      .bind(now)
      .all<{ actor_type: string; outcome: string; details: string }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ actor_type: "system", outcome: "success" });
    const details = JSON.parse(rows.results[0]?.details ?? "{}") as Record<string, number>;
    expect(details.profiles).toBeGreaterThanOrEqual(1);
    expect(details.cutoff).toBe(now - PRESENCE_TOKEN_SECONDS * 1000);

    // Nothing more to do: the next run deletes nothing and writes no row.
    const later = now + 1;
    await runScheduled(env, later);
    expect(await kept([recent, today])).toEqual([recent, today].sort());
    const again = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'retention.visitor_profiles' AND at = ?1",
    )
      .bind(later)
      .first<{ n: number }>();
    expect(again?.n).toBe(0);
  });

  it("takes at most `limit` per run, the longest unseen first", async () => {
    const now = Date.now();
    const oldest = await seedProfile(now - 900 * DAY);
    const older = await seedProfile(now - 800 * DAY);
    const old = await seedProfile(now - 700 * DAY);
    // Only these three are older than 600 days here (other tests' profiles are recent).
    expect(await purgeStaleProfiles(env.DB, now - 600 * DAY, 2)).toBe(2);
    expect(await kept([oldest, older, old])).toEqual([old]);
    expect(await purgeStaleProfiles(env.DB, now - 600 * DAY, 2)).toBe(1);
    expect(await kept([old])).toEqual([]);
  });
});
