/**
 * The audit hash chain in workerd: one serialized writer under concurrency, tamper
 * detection through GET /api/audit/verify, the pending queue when D1 refuses rows, and
 * the permission on the audit routes. D1 is shared by every test file running at the same
 * time, so tests find their rows by a unique marker and every tamper is undone.
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { type AuditLog, appendAudit, getAuditLog } from "../../durable-objects/audit-log.ts";
import { type AuditRow, chainAfterHead } from "../../src/security/audit-chain.ts";
import {
  type AuditEntry,
  auditRowContent,
  insertAuditRowStatement,
  isAuditIdConflict,
  readAuditHead,
} from "../../src/store/audit.ts";
import { login, ORIGIN, seedAgent } from "./helpers.ts";

const NO_UPDATE_TRIGGER = `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`;

let adminCookie = "";

beforeAll(async () => {
  const admin = await seedAgent({ groups: ["administrators"] });
  adminCookie = await login(admin.email);
});

function entry(marker: string, n: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actorType: "system",
    actorId: marker,
    action: "test.append",
    target: `row-${n}`,
    outcome: "success",
    ip: null,
    userAgent: null,
    details: { n },
    at: Date.now(),
    ...extra,
  };
}

async function rowsOf(marker: string): Promise<AuditRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM audit_log WHERE actor_id = ?1 ORDER BY id",
  )
    .bind(marker)
    .all<AuditRow>();
  return results;
}

async function verify(): Promise<{
  ok: boolean;
  checked: number;
  head: { id: number; hash: string } | null;
  problem?: { id: number; kind: string; message: string };
}> {
  const res = await SELF.fetch(`${ORIGIN}/api/audit/verify`, { headers: { cookie: adminCookie } });
  expect(res.status).toBe(200);
  return res.json();
}

/** Three rows of our own, so the one we tamper with is never the chain's head. */
async function threeRows(): Promise<AuditRow[]> {
  const marker = crypto.randomUUID();
  for (const n of [1, 2, 3]) await appendAudit(env, entry(marker, n));
  const rows = await rowsOf(marker);
  expect(rows).toHaveLength(3);
  return rows;
}

describe("the audit writer", () => {
  it("chains 50 parallel appends and concurrent logins into one unbroken chain", async () => {
    const marker = crypto.randomUUID();
    const agents = await Promise.all([1, 2, 3].map(() => seedAgent({ groups: ["agents"] })));
    await Promise.all([
      ...Array.from({ length: 50 }, (_, n) => appendAudit(env, entry(marker, n))),
      ...agents.map((agent) => login(agent.email)),
    ]);
    const rows = await rowsOf(marker);
    expect(rows).toHaveLength(50);
    expect(rows.every((row) => row.hash?.length === 64 && row.prev_hash?.length === 64)).toBe(true);
    // Every row links to the row with the id just below it (no fork, no reuse of a head).
    for (const row of rows) {
      const before = await env.DB.prepare("SELECT hash FROM audit_log WHERE id = ?1")
        .bind(row.id - 1)
        .first<{ hash: string }>();
      expect(row.prev_hash).toBe(before?.hash ?? "0".repeat(64));
    }
    for (const agent of agents) {
      const login = await env.DB.prepare(
        "SELECT hash FROM audit_log WHERE action = 'auth.login' AND actor_id = ?1",
      )
        .bind(agent.id)
        .first<{ hash: string | null }>();
      expect(login?.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const result = await verify();
    expect(result).toMatchObject({ ok: true });
    expect(result.checked).toBeGreaterThanOrEqual(53);
    expect(await getAuditLog(env).backlog()).toBe(0);
  });

  it("remembers the last row it appended", async () => {
    const marker = crypto.randomUUID();
    await appendAudit(env, entry(marker, 1));
    const [row] = await rowsOf(marker);
    const last = await getAuditLog(env).lastAppended();
    // Other files append at the same time: the record is this row or a later one.
    expect(last?.id).toBeGreaterThanOrEqual(row?.id ?? Number.POSITIVE_INFINITY);
  });

  it("refuses an invalid entry and queues nothing of the call", async () => {
    const marker = crypto.randomUUID();
    const bad = { ...entry(marker, 2), outcome: "maybe" } as unknown as AuditEntry;
    const error = await getAuditLog(env)
      .append([entry(marker, 1), bad])
      .then(
        () => null,
        (reason: unknown) => reason,
      );
    expect(String(error)).toMatch(/invalid audit entry: outcome/);
    expect(await rowsOf(marker)).toHaveLength(0);
    expect(await getAuditLog(env).backlog()).toBe(0);
  });

  it("keeps rows pending while D1 refuses them, and the alarm flushes them later", async () => {
    // A writer of its own: the simulated outage only refuses this test's rows, so the
    // global writer (used by every other test file meanwhile) is not held back.
    const marker = crypto.randomUUID();
    const trigger = `audit_test_outage_${marker.replaceAll("-", "_")}`;
    const stub: DurableObjectStub<AuditLog> = env.AUDIT_LOG.get(
      env.AUDIT_LOG.idFromName(`test-outage-${marker}`),
    );
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON audit_log WHEN new.actor_id = '${marker}'
       BEGIN SELECT RAISE(ABORT, 'simulated D1 outage'); END`,
    ).run();
    try {
      await stub.append([entry(marker, 1), entry(marker, 2)]);
      await stub.append([entry(marker, 3)]);
      expect(await stub.backlog()).toBe(3);
      expect(await rowsOf(marker)).toHaveLength(0);
      const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
      expect(alarm).not.toBeNull();

      // Still failing: the alarm keeps the rows and sets itself again (backoff).
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await stub.backlog()).toBe(3);
      expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    } finally {
      await env.DB.prepare(`DROP TRIGGER IF EXISTS ${trigger}`).run();
    }

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.backlog()).toBe(0);
    const rows = await rowsOf(marker);
    expect(rows.map((row) => row.target)).toEqual(["row-1", "row-2", "row-3"]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
    expect(await verify()).toMatchObject({ ok: true });
  });

  it("does not append a batch twice when D1 committed it but the answer was lost", async () => {
    const marker = crypto.randomUUID();
    const stub = env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName(`test-lost-answer-${marker}`));
    const content = auditRowContent(entry(marker, 1), 0);
    // D1 commits the row (as the writer would have, after the current head)…
    let committed: AuditRow | undefined;
    while (!committed) {
      const head = await readAuditHead(env.DB);
      const lastChained = head?.hash ? { id: head.id, hash: head.hash } : null;
      const [row] = await chainAfterHead({ head, lastChained }, [content], Date.now());
      if (!row) throw new Error("no row");
      try {
        await insertAuditRowStatement(env.DB, row).run();
        committed = row;
      } catch (error) {
        if (!isAuditIdConflict(error)) throw error; // another writer appended first
      }
    }
    // …but the writer stopped before it heard so: the row is still queued, its batch in flight.
    const inflight = JSON.stringify({ id: committed.id, hash: committed.hash, seq: 1 });
    await runInDurableObject(stub, async (_, state) => {
      state.storage.sql.exec(
        "INSERT INTO pending (seq, row) VALUES (1, ?)",
        JSON.stringify(content),
      );
      state.storage.sql.exec("INSERT INTO state (key, value) VALUES ('inflight', ?)", inflight);
      await state.storage.setAlarm(Date.now() + 30_000);
    });
    expect(await stub.backlog()).toBe(1);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.backlog()).toBe(0);
    expect((await rowsOf(marker)).map((row) => row.id)).toEqual([committed.id]);
    expect(await stub.lastAppended()).toEqual({ id: committed.id, hash: committed.hash });
  });

  it("reports its backlog on /healthz", async () => {
    const res = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", auditBacklog: 0 });
  });
});

describe("tamper detection", () => {
  it("names exactly the row whose field was changed in D1", async () => {
    const rows = await threeRows();
    const victim = rows[1] as AuditRow;
    // One batch (a transaction): no other connection sees the table without its trigger.
    const edit = (target: string | null) =>
      env.DB.batch([
        env.DB.prepare("DROP TRIGGER audit_log_no_update"),
        env.DB.prepare("UPDATE audit_log SET target = ?1 WHERE id = ?2").bind(target, victim.id),
        env.DB.prepare(NO_UPDATE_TRIGGER),
      ]);
    await edit("row-2 (edited)");
    try {
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.problem).toMatchObject({ id: victim.id, kind: "altered" });
      expect(result.head?.id).toBe(victim.id - 1);
    } finally {
      await edit(victim.target);
    }
    expect(await verify()).toMatchObject({ ok: true });
    // The append-only trigger is back.
    await expect(
      env.DB.prepare("UPDATE audit_log SET outcome = 'failure' WHERE id = ?1")
        .bind(victim.id)
        .run(),
    ).rejects.toThrow(/append-only/);
  });

  it("reports a deleted row as a gap", async () => {
    const rows = await threeRows();
    const victim = rows[1] as AuditRow;
    await env.DB.prepare("DELETE FROM audit_log WHERE id = ?1").bind(victim.id).run();
    try {
      const result = await verify();
      expect(result.ok).toBe(false);
      expect(result.problem).toMatchObject({ id: victim.id + 1, kind: "gap" });
      expect(result.problem?.message).toContain(`row ${victim.id} missing`);
    } finally {
      const columns = Object.keys(victim);
      await env.DB.prepare(
        `INSERT INTO audit_log (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      )
        .bind(...Object.values(victim))
        .run();
    }
    expect(await verify()).toMatchObject({ ok: true });
  });
});

describe("access to the audit log", () => {
  it("refuses agents without audit.view with 403 forbidden, and audits the denial", async () => {
    const agent = await seedAgent({ groups: ["agents"] });
    const cookie = await login(agent.email);
    for (const path of ["/api/audit", "/api/audit/export", "/api/audit/verify"]) {
      const res = await SELF.fetch(`${ORIGIN}${path}`, { headers: { cookie } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    const { results } = await env.DB.prepare(
      "SELECT target, outcome FROM audit_log WHERE action = 'access.denied' AND actor_id = ?1 ORDER BY id",
    )
      .bind(agent.id)
      .all<{ target: string; outcome: string }>();
    expect(results).toEqual([
      { target: "GET /api/audit", outcome: "denied" },
      { target: "GET /api/audit/export", outcome: "denied" },
      { target: "GET /api/audit/verify", outcome: "denied" },
    ]);
  });

  it("refuses anonymous callers with 401", async () => {
    for (const path of ["/api/audit", "/api/audit/export", "/api/audit/verify"]) {
      expect((await SELF.fetch(`${ORIGIN}${path}`)).status).toBe(401);
    }
  });

  it("audits every verification", async () => {
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const res = await SELF.fetch(`${ORIGIN}/api/audit/verify`, { headers: { cookie } });
    const body = await res.json<{ ok: boolean; checked: number }>();
    const row = await env.DB.prepare(
      "SELECT outcome, details FROM audit_log WHERE action = 'audit.verify' AND actor_id = ?1",
    )
      .bind(admin.id)
      .first<{ outcome: string; details: string }>();
    expect(row?.outcome).toBe("success");
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({ ok: body.ok, checked: body.checked });
  });
});

// Last in the file: a detected truncation stays in the chain for good, by design.
describe("a cut tail", () => {
  it("is recorded by the next append and reported by every later verification", async () => {
    const marker = `cut-${crypto.randomUUID()}`;
    await Promise.all([0, 1, 2].map((n) => appendAudit(env, entry(marker, n))));
    const rows = await rowsOf(marker);
    const last = rows.at(-1) as AuditRow;
    await env.DB.prepare("DELETE FROM audit_log WHERE id >= ?1").bind(last.id).run();
    // The chain alone looks intact; the writer's memory of its last row does not.
    expect((await verify()).problem).toMatchObject({ kind: "truncated" });
    await appendAudit(env, entry(marker, 3));
    const recorded = await env.DB.prepare(
      "SELECT id, details FROM audit_log WHERE action = 'audit.truncation_detected' ORDER BY id DESC",
    ).first<{ id: number; details: string }>();
    expect(JSON.parse(recorded?.details ?? "{}")).toMatchObject({ missingTo: last.id });
    const after = await verify();
    expect(after.ok).toBe(false);
    expect(after.problem).toMatchObject({ id: recorded?.id, kind: "truncated" });
  });
});
