/**
 * Retention (issue 9, item 3) through the real cron handler and D1: ended and missed chats
 * (with their events and keyword index rows) and offline messages (with their replies) past
 * TRANSCRIPT_RETENTION_DAYS go, chats on legal hold and everything newer stay, one audit row
 * per run that purged something, bounded runs, idempotency; audit rows past
 * AUDIT_RETENTION_DAYS go oldest first through the audit writer behind a `retention`
 * checkpoint, and the chain still verifies (a gap after it is still found); the legal-hold
 * endpoints with their permission, scope and the 409 on deletion.
 *
 * This file has its own D1 and Durable Objects (the worker pool gives each test file fresh
 * storage), so a purge sees only what these tests seeded. Tests run in order and build on
 * the audit log left by the earlier ones: the first needs a log that no writer touched yet.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appendAudit, getAuditLog } from "../../durable-objects/audit-log.ts";
import type { LegalHoldResponse, TranscriptResponse } from "../../src/protocol/http.ts";
import { GENESIS_HASH } from "../../src/security/audit-chain.ts";
import type { AuditEntry } from "../../src/store/audit.ts";
import { runScheduled } from "../../worker/scheduled.ts";
import { apiRequest, auditRowsOf, login, seedAgent, uniqueDepartment } from "./helpers.ts";

const DAY = 86_400_000;
const CARD = "4111 1111 1111 1111";

/** The Worker's env with retention settings, as wrangler.toml `[vars]` would give them. */
function withVars(vars: Record<string, string>): typeof env {
  return { ...env, ...vars };
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function ensureDepartment(id: string): Promise<void> {
  await env.DB.prepare(
    "INSERT OR IGNORE INTO departments (id, name, created_at) VALUES (?1, ?1, 0)",
  )
    .bind(id)
    .run();
}

/** A chat with a join, the given messages and an end, straight into D1. */
async function seedChat(chat: {
  department: string;
  status: "active" | "ended" | "missed";
  endedAt: number | null;
  createdAt: number;
  messages?: string[];
}): Promise<string> {
  const id = crypto.randomUUID();
  await ensureDepartment(chat.department);
  await env.DB.prepare(
    `INSERT INTO chats (id, visitor_id, department_id, status, created_at, ended_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
  )
    .bind(id, crypto.randomUUID(), chat.department, chat.status, chat.createdAt, chat.endedAt)
    .run();
  const events: [string, string | null][] = [
    ["joined", null],
    ...(chat.messages ?? []).map((text): [string, string] => ["message", text]),
  ];
  await env.DB.batch(
    events.map(([kind, text], index) =>
      env.DB.prepare(
        `INSERT INTO messages (chat_id, seq, kind, sender_role, text, at)
         VALUES (?1, ?2, ?3, 'visitor', ?4, ?5)`,
      ).bind(id, index + 1, kind, text, chat.createdAt + index),
    ),
  );
  return id;
}

/** An offline message with `replies` replies, straight into D1. */
async function seedOffline(department: string, createdAt: number, replies: number) {
  const id = crypto.randomUUID();
  await ensureDepartment(department);
  await env.DB.prepare(
    `INSERT INTO offline_messages (id, email, department_id, message, created_at)
     VALUES (?1, 'vera@example.com', ?2, 'Please call me back', ?3)`,
  )
    .bind(id, department, createdAt)
    .run();
  for (let n = 0; n < replies; n++) {
    await env.DB.prepare(
      `INSERT INTO offline_message_replies (id, offline_message_id, agent_id, agent_name, text, at)
       VALUES (?1, ?2, 'agent-x', 'Agent X', 'Called back', ?3)`,
    )
      .bind(crypto.randomUUID(), id, createdAt + n)
      .run();
  }
  return id;
}

/** Which of `ids` are still chats. */
async function remainingChats(ids: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT id FROM chats WHERE id IN (${ids.map(() => "?").join(", ")})`,
  )
    .bind(...ids)
    .all<{ id: string }>();
  return results.map((row) => row.id).sort();
}

/** The details of every system audit row with `action`, oldest first. */
async function systemRows(action: string): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare(
    "SELECT details FROM audit_log WHERE action = ?1 AND actor_type = 'system' ORDER BY id",
  )
    .bind(action)
    .all<{ details: string }>();
  return results.map((row) => JSON.parse(row.details) as Record<string, unknown>);
}

function entry(marker: string, at: number): AuditEntry {
  return {
    actorType: "system",
    actorId: null,
    action: "test.retention",
    target: marker,
    outcome: "success",
    ip: null,
    userAgent: null,
    details: { marker },
    at,
  };
}

async function verifyChain(cookie: string) {
  const res = await apiRequest("GET", "/api/audit/verify", cookie);
  expect(res.status).toBe(200);
  return res.json<{
    ok: boolean;
    checkpoint: { id: number } | null;
    problem?: { id: number; kind: string };
  }>();
}

async function administrator(): Promise<string> {
  const admin = await seedAgent({ groups: ["administrators"] });
  return login(admin.email);
}

// First in the file: the audit log must still be empty here.
describe("audit retention before the chain", () => {
  it("deletes rows that predate the chain without a new checkpoint", async () => {
    expect(await count("SELECT count(*) AS n FROM audit_log")).toBe(0);
    // Two rows as written before the chain existed (no hashes), then the writer's first append,
    // which starts the chain with a `chain_start` checkpoint after them.
    await env.DB.prepare(
      `INSERT INTO audit_log (at, actor_type, action, outcome) VALUES
       (1000, 'system', 'old.one', 'success'), (2000, 'system', 'old.two', 'success')`,
    ).run();
    const now = Date.now();
    await appendAudit(env, entry("after-start", now));

    const purged = await getAuditLog(env).purgeBefore(now - DAY, now);
    expect(purged).toEqual({ through: 2, count: 2, anchor: null });
    const { results } = await env.DB.prepare(
      "SELECT id, action, details FROM audit_log ORDER BY id",
    ).all<{ id: number; action: string; details: string }>();
    expect(results.map((row) => row.action)).toEqual([
      "audit.checkpoint",
      "test.retention",
      "audit.retention_purge",
    ]);
    expect(JSON.parse(results[0]?.details ?? "")).toEqual({
      reason: "chain_start",
      after: 2,
      anchor: GENESIS_HASH,
    });
    expect(JSON.parse(results[2]?.details ?? "")).toEqual({
      count: 2,
      cutoff: now - DAY,
      through: 2,
    });
    const verified = await verifyChain(await administrator());
    expect(verified).toMatchObject({ ok: true, checkpoint: { id: 3 } });
  });
});

describe("transcript retention", () => {
  it("keeps everything with TRANSCRIPT_RETENTION_DAYS=0 and AUDIT_RETENTION_DAYS=0", async () => {
    const department = uniqueDepartment();
    const ancient = Date.UTC(2001, 0, 1);
    const chat = await seedChat({
      department,
      status: "ended",
      createdAt: ancient,
      endedAt: ancient + 60_000,
      messages: ["hello"],
    });
    const offline = await seedOffline(department, ancient, 1);
    const auditRows = await count("SELECT count(*) AS n FROM audit_log");
    // Twenty years on: everything is old, and nothing may go.
    await runScheduled(withVars({ AUDIT_RETENTION_DAYS: "0" }), Date.now() + 20 * 365 * DAY);
    expect(await remainingChats([chat])).toEqual([chat]);
    expect(await count("SELECT count(*) AS n FROM messages WHERE chat_id = ?1", chat)).toBe(2);
    expect(await count("SELECT count(*) AS n FROM offline_messages WHERE id = ?1", offline)).toBe(
      1,
    );
    // The only rows written: the administrator of the first test disabled as inactive.
    expect(
      await count("SELECT count(*) AS n FROM audit_log WHERE action != 'agent.disable_inactive'"),
    ).toBe(auditRows);
    await env.DB.batch([
      env.DB.prepare("DELETE FROM chats WHERE id = ?1").bind(chat),
      env.DB.prepare("DELETE FROM offline_messages WHERE id = ?1").bind(offline),
    ]);
  });

  it("purges old ended and missed chats and offline messages, except chats on legal hold, and audits the counts", async () => {
    const now = Date.now();
    const old = now - 40 * DAY;
    const recent = now - 10 * DAY;
    const department = uniqueDepartment();
    const oldEnded = await seedChat({
      department,
      status: "ended",
      createdAt: old - 60_000,
      endedAt: old,
      messages: ["zebra refund please", "it's urgent"],
    });
    const oldMissed = await seedChat({
      department,
      status: "missed",
      createdAt: old - 60_000,
      endedAt: old,
    });
    const held = await seedChat({
      department,
      status: "ended",
      createdAt: old - 60_000,
      endedAt: old,
      messages: ["zebra court case"],
    });
    const stillActive = await seedChat({
      department,
      status: "active",
      createdAt: old - 60_000,
      endedAt: null,
      messages: ["zebra still talking"],
    });
    const recentEnded = await seedChat({
      department,
      status: "ended",
      createdAt: recent - 60_000,
      endedAt: recent,
      messages: ["zebra new one"],
    });
    await env.DB.prepare(
      "INSERT INTO chat_agents (chat_id, agent_id, role, added_at) SELECT ?1, id, 'joined', ?2 FROM agents LIMIT 1",
    )
      .bind(oldEnded, old)
      .run();
    const oldOffline = await seedOffline(department, old, 2);
    const recentOffline = await seedOffline(department, recent, 1);

    const cookie = await administrator();
    const hold = await apiRequest("PUT", `/api/transcripts/${held}/legal-hold`, cookie, {
      reason: "Litigation 2024-17",
    });
    expect(hold.status).toBe(200);

    await runScheduled(withVars({ TRANSCRIPT_RETENTION_DAYS: "30" }), now);

    const all = [oldEnded, oldMissed, held, stillActive, recentEnded];
    expect(await remainingChats(all)).toEqual([held, stillActive, recentEnded].sort());
    for (const gone of [oldEnded, oldMissed]) {
      expect(await count("SELECT count(*) AS n FROM messages WHERE chat_id = ?1", gone)).toBe(0);
      expect(await count("SELECT count(*) AS n FROM message_fts WHERE chat_id = ?1", gone)).toBe(0);
      expect(
        await count("SELECT count(*) AS n FROM message_fts_docs WHERE chat_id = ?1", gone),
      ).toBe(0);
    }
    expect(await count("SELECT count(*) AS n FROM chat_agents WHERE chat_id = ?1", oldEnded)).toBe(
      0,
    );
    // The keyword index still finds every kept chat, and nothing of the purged one.
    const { results: hits } = await env.DB.prepare(
      "SELECT DISTINCT chat_id FROM message_fts WHERE message_fts MATCH 'zebra'",
    ).all<{ chat_id: string }>();
    expect(hits.map((row) => row.chat_id).sort()).toEqual([held, stillActive, recentEnded].sort());
    expect(await count("SELECT count(*) AS n FROM messages WHERE chat_id = ?1", held)).toBe(2);

    expect(
      await count(
        "SELECT count(*) AS n FROM offline_messages WHERE id IN (?1, ?2)",
        oldOffline,
        recentOffline,
      ),
    ).toBe(1);
    expect(
      await count("SELECT count(*) AS n FROM offline_messages WHERE id = ?1", recentOffline),
    ).toBe(1);
    expect(
      await count(
        "SELECT count(*) AS n FROM offline_message_replies WHERE offline_message_id = ?1",
        oldOffline,
      ),
    ).toBe(0);
    expect(
      await count(
        "SELECT count(*) AS n FROM offline_message_replies WHERE offline_message_id = ?1",
        recentOffline,
      ),
    ).toBe(1);

    // One row for the run: 2 chats, their 3 + 1 events, 1 offline message.
    expect(await systemRows("retention.purge")).toEqual([
      { chats: 2, messages: 4, offlineMessages: 1, cutoff: now - 30 * DAY, copiesErased: 2 },
    ]);

    // Idempotent: the next run finds nothing and writes nothing.
    await runScheduled(withVars({ TRANSCRIPT_RETENTION_DAYS: "30" }), now);
    expect(await remainingChats(all)).toEqual([held, stillActive, recentEnded].sort());
    expect(await systemRows("retention.purge")).toHaveLength(1);

    // Lifted, the hold no longer protects the chat: the next run takes it.
    const lift = await apiRequest("DELETE", `/api/transcripts/${held}/legal-hold`, cookie);
    expect(lift.status).toBe(200);
    await runScheduled(withVars({ TRANSCRIPT_RETENTION_DAYS: "30" }), now);
    expect(await remainingChats(all)).toEqual([stillActive, recentEnded].sort());
    expect((await systemRows("retention.purge")).at(-1)).toEqual({
      chats: 1,
      messages: 2,
      offlineMessages: 0,
      cutoff: now - 30 * DAY,
      copiesErased: 1,
    });
  });

  it("purges at most 1,000 chats per run, oldest first, and finishes in the next runs", async () => {
    const now = Date.now();
    const department = uniqueDepartment();
    await ensureDepartment(department);
    // 1,005 chats that ended 100 days ago and later, one message each.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1005)
       INSERT INTO chats (id, visitor_id, department_id, status, created_at, ended_at)
       SELECT 'bulk-' || i, 'visitor-' || i, ?1, 'ended', ?2 + i, ?2 + i FROM n`,
    )
      .bind(department, now - 100 * DAY)
      .run();
    await env.DB.prepare(
      `INSERT INTO messages (chat_id, seq, kind, sender_role, text, at)
       SELECT id, 1, 'message', 'visitor', 'bulk text', created_at FROM chats WHERE id LIKE 'bulk-%'`,
    ).run();
    const vars = withVars({ TRANSCRIPT_RETENTION_DAYS: "30" });

    await runScheduled(vars, now);
    expect(await count("SELECT count(*) AS n FROM chats WHERE id LIKE 'bulk-%'")).toBe(5);
    // The newest five are left.
    const { results: left } = await env.DB.prepare(
      "SELECT id FROM chats WHERE id LIKE 'bulk-%' ORDER BY ended_at",
    ).all<{ id: string }>();
    expect(left.map((row) => row.id)).toEqual(
      [1001, 1002, 1003, 1004, 1005].map((i) => `bulk-${i}`),
    );
    expect((await systemRows("retention.purge")).at(-1)).toMatchObject({
      chats: 1000,
      messages: 1000,
    });

    await runScheduled(vars, now);
    expect(await count("SELECT count(*) AS n FROM chats WHERE id LIKE 'bulk-%'")).toBe(0);
    expect(
      await count("SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH 'bulk'"),
    ).toBe(0);
    expect((await systemRows("retention.purge")).at(-1)).toMatchObject({ chats: 5, messages: 5 });
    const rows = (await systemRows("retention.purge")).length;
    await runScheduled(vars, now);
    expect(await systemRows("retention.purge")).toHaveLength(rows);
    // Each purged chat's ChatSession was asked to erase its own copy (none held one here).
    expect((await systemRows("retention.purge")).at(-1)).toMatchObject({ copiesErased: 5 });
  }, 30_000);
});

describe("legal hold", () => {
  async function endedChat(department: string): Promise<string> {
    const now = Date.now();
    return seedChat({
      department,
      status: "ended",
      createdAt: now - 60_000,
      endedAt: now,
      messages: ["hello"],
    });
  }

  it("is placed with a card-masked reason, shown with the transcript, audited, and refuses deletion with 409 legal_hold", async () => {
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const department = uniqueDepartment();
    const chat = await endedChat(department);

    const placed = await apiRequest("PUT", `/api/transcripts/${chat}/legal-hold`, cookie, {
      reason: `Dispute over card ${CARD}`,
    });
    expect(placed.status).toBe(200);
    const { legalHold } = await placed.json<LegalHoldResponse>();
    expect(legalHold).toEqual({
      at: expect.any(Number),
      by: admin.id,
      reason: "Dispute over card •••• •••• •••• 1111",
    });
    const detail = await apiRequest("GET", `/api/transcripts/${chat}`, cookie);
    expect((await detail.json<TranscriptResponse>()).transcript.legalHold).toEqual(legalHold);

    const refused = await apiRequest("DELETE", `/api/transcripts/${chat}`, cookie);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: "legal_hold" } });
    expect(await remainingChats([chat])).toEqual([chat]);

    const lifted = await apiRequest("DELETE", `/api/transcripts/${chat}/legal-hold`, cookie);
    expect(lifted.status).toBe(200);
    // Lifting again changes nothing and answers the same.
    expect((await apiRequest("DELETE", `/api/transcripts/${chat}/legal-hold`, cookie)).status).toBe(
      200,
    );
    const deleted = await apiRequest("DELETE", `/api/transcripts/${chat}`, cookie);
    expect(deleted.status).toBe(200);

    const rows = await auditRowsOf(admin.id, "transcript.%");
    expect(rows.filter((row) => row.action !== "transcript.view")).toEqual([
      {
        action: "transcript.legal_hold",
        target: chat,
        outcome: "success",
        department,
        details: { reason: "Dispute over card •••• •••• •••• 1111", replaced: null },
      },
      {
        action: "transcript.delete",
        target: chat,
        outcome: "failure",
        department,
        details: { reason: "legal_hold" },
      },
      {
        action: "transcript.legal_hold_release",
        target: chat,
        outcome: "success",
        department,
        details: {
          released: true,
          reason: "Dispute over card •••• •••• •••• 1111",
          heldSince: legalHold.at,
          heldBy: admin.id,
        },
      },
      {
        action: "transcript.legal_hold_release",
        target: chat,
        outcome: "success",
        department,
        details: { released: false },
      },
      expect.objectContaining({ action: "transcript.delete", outcome: "success" }),
    ]);
    expect(
      await count("SELECT count(*) AS n FROM audit_log WHERE details LIKE '%4111 1111%'"),
    ).toBe(0);
  });

  it("answers 403 forbidden without transcripts.delete, and audits the denial", async () => {
    const department = uniqueDepartment();
    const reader = await seedAgent({
      grants: ["transcripts.view_department"],
      departments: [department],
    });
    const cookie = await login(reader.email);
    const chat = await endedChat(department);
    for (const method of ["PUT", "DELETE"]) {
      const res = await apiRequest(method, `/api/transcripts/${chat}/legal-hold`, cookie, {
        reason: "keep",
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    expect(await auditRowsOf(reader.id, "access.denied")).toEqual([
      expect.objectContaining({
        target: `PUT /api/transcripts/${chat}/legal-hold`,
        outcome: "denied",
      }),
      expect.objectContaining({
        target: `DELETE /api/transcripts/${chat}/legal-hold`,
        outcome: "denied",
      }),
    ]);
    expect(
      await count(
        "SELECT count(*) AS n FROM chats WHERE id = ?1 AND legal_hold_at IS NOT NULL",
        chat,
      ),
    ).toBe(0);
  });

  it("answers 404 for another department's chat exactly as for a missing one, and audits the attempt", async () => {
    const own = uniqueDepartment();
    const other = uniqueDepartment();
    const agent = await seedAgent({
      grants: ["transcripts.view_department", "transcripts.delete"],
      departments: [own],
    });
    const cookie = await login(agent.email);
    const foreign = await endedChat(other);
    const outOfScope = await apiRequest("PUT", `/api/transcripts/${foreign}/legal-hold`, cookie, {
      reason: "keep",
    });
    const missing = await apiRequest(
      "PUT",
      `/api/transcripts/${crypto.randomUUID()}/legal-hold`,
      cookie,
      { reason: "keep" },
    );
    expect(outOfScope.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await outOfScope.json()).toEqual(await missing.json());
    expect(
      (await apiRequest("DELETE", `/api/transcripts/${foreign}/legal-hold`, cookie)).status,
    ).toBe(404);
    expect(await auditRowsOf(agent.id, "transcript.legal_hold%")).toEqual([
      {
        action: "transcript.legal_hold",
        target: foreign,
        outcome: "denied",
        department: other,
        details: { reason: "out_of_scope" },
      },
      {
        action: "transcript.legal_hold_release",
        target: foreign,
        outcome: "denied",
        department: other,
        details: { reason: "out_of_scope" },
      },
    ]);

    // In its own department the same agent may place a hold; an empty reason is refused.
    const mine = await endedChat(own);
    const empty = await apiRequest("PUT", `/api/transcripts/${mine}/legal-hold`, cookie, {
      reason: "  ",
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: "invalid_request" } });
    const ok = await apiRequest("PUT", `/api/transcripts/${mine}/legal-hold`, cookie, {
      reason: "keep",
    });
    expect(ok.status).toBe(200);
  });
});

// Last in the file: it moves the clock 25 years on (past the rows the "keeps everything" run
// wrote 20 years on), which disables every agent seeded so far.
describe("audit retention", () => {
  it("purges the oldest rows behind a retention checkpoint; the chain verifies and a later gap is still found", async () => {
    const realNow = Date.now();
    const now = realNow + 25 * 365 * DAY;
    const cutoff = now - 365 * DAY;
    // Every row so far is older than the cutoff; these are not.
    await appendAudit(env, entry("old-marker", realNow));
    const { results: before } = await env.DB.prepare(
      "SELECT id, hash FROM audit_log ORDER BY id",
    ).all<{ id: number; hash: string }>();
    const through = before.at(-1) as { id: number; hash: string };
    for (const n of [1, 2]) await appendAudit(env, entry(`new-marker-${n}`, cutoff + n));

    await runScheduled(withVars({ AUDIT_RETENTION_DAYS: "365" }), now);

    expect(await count("SELECT count(*) AS n FROM audit_log WHERE id <= ?1", through.id)).toBe(0);
    expect(
      await count("SELECT count(*) AS n FROM audit_log WHERE target LIKE 'new-marker-%'"),
    ).toBe(2);
    const checkpoint = await env.DB.prepare(
      "SELECT id, details FROM audit_log WHERE action = 'audit.checkpoint' ORDER BY id DESC",
    ).first<{ id: number; details: string }>();
    expect(JSON.parse(checkpoint?.details ?? "")).toEqual({
      reason: "retention",
      after: through.id,
      anchor: through.hash,
    });
    // Rows of the earlier tests plus the pre-chain purge's three rows, counted before the purge.
    expect(await systemRows("audit.retention_purge")).toEqual([
      { count: before.length, cutoff, through: through.id },
    ]);
    // The keyword index forgot the purged rows.
    const search = (word: string) =>
      count("SELECT count(*) AS n FROM audit_fts WHERE audit_fts MATCH ?1", word);
    expect(await search('"old marker"')).toBe(0);
    expect(await search('"new marker"')).toBe(2);

    const cookie = await administrator();
    expect(await verifyChain(cookie)).toMatchObject({
      ok: true,
      checkpoint: { id: checkpoint?.id },
    });

    // A row deleted after the checkpoint, outside retention, is still a gap.
    const victim = await env.DB.prepare(
      "SELECT * FROM audit_log WHERE target = 'new-marker-2'",
    ).first<Record<string, unknown>>();
    await env.DB.prepare("DELETE FROM audit_log WHERE id = ?1").bind(victim?.id).run();
    try {
      expect((await verifyChain(cookie)).problem).toMatchObject({ kind: "gap" });
    } finally {
      const columns = Object.keys(victim ?? {});
      await env.DB.prepare(
        `INSERT INTO audit_log (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      )
        .bind(...Object.values(victim ?? {}))
        .run();
    }
    expect(await verifyChain(cookie)).toMatchObject({ ok: true });

    // Idempotent: nothing more is due, nothing more is deleted or recorded.
    const first = await count("SELECT min(id) AS n FROM audit_log");
    await runScheduled(withVars({ AUDIT_RETENTION_DAYS: "365" }), now);
    expect(await count("SELECT min(id) AS n FROM audit_log")).toBe(first);
    expect(await systemRows("audit.retention_purge")).toHaveLength(1);
  });

  it("refuses AUDIT_RETENTION_DAYS below 365 (other than 0): the cron then does nothing", async () => {
    const rows = await count("SELECT count(*) AS n FROM audit_log");
    await runScheduled(withVars({ AUDIT_RETENTION_DAYS: "30" }), Date.now() + 3650 * DAY);
    expect(await count("SELECT count(*) AS n FROM audit_log")).toBe(rows);
  });
});
