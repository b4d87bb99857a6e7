/**
 * Audit search and CSV export on seeded rows: time-range edges, keywords (FTS5, with
 * hostile FTS syntax), combined filters, keyset pagination while rows are appended, the
 * CSV's quoting and formula escaping, and the audit rows of searching and exporting.
 * Seeded rows carry a marker of their own (D1 is shared with the other test files).
 */
import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../../durable-objects/audit-log.ts";
import type { AuditEntry, AuditLogEntry } from "../../src/store/audit.ts";
import { login, ORIGIN, seedAgent } from "./helpers.ts";

interface SearchBody {
  entries: AuditLogEntry[];
  nextCursor: string | null;
}

let admin: { id: string; email: string };
let cookie = "";

beforeAll(async () => {
  admin = await seedAgent({ groups: ["administrators"] });
  cookie = await login(admin.email);
});

/** A word FTS5 keeps as one token, unique to the caller. */
function uniqueWord(): string {
  return `w${crypto.randomUUID().replaceAll("-", "")}`;
}

function entry(actorId: string, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actorType: "agent",
    actorId,
    action: "transcript.view",
    target: "chat-1",
    outcome: "success",
    ip: "203.0.113.9",
    userAgent: "Mozilla/5.0 (test)",
    at: Date.now(),
    ...extra,
  };
}

async function seed(entries: AuditEntry[]): Promise<void> {
  for (const item of entries) await appendAudit(env, item);
}

function get(path: string, headers: Record<string, string> = { cookie }) {
  return SELF.fetch(`${ORIGIN}${path}`, { headers });
}

async function search(params: Record<string, string | number>): Promise<SearchBody> {
  const query = new URLSearchParams(
    Object.entries(params).map(([key, value]) => [key, String(value)]),
  );
  const res = await get(`/api/audit?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe("audit search", () => {
  it("includes `from` and excludes `to`, exactly at the edges", async () => {
    const actor = crypto.randomUUID();
    const t0 = Date.UTC(2026, 0, 15, 12, 0, 0);
    const t1 = t0 + 60_000;
    await seed(
      [t0 - 1, t0, t0 + 1, t1 - 1, t1, t1 + 1].map((at) => entry(actor, { at, target: `${at}` })),
    );
    const targets = async (from: string | number, to: string | number) =>
      (await search({ actor, from, to })).entries.map((e) => Number(e.target));
    expect(await targets(t0, t1)).toEqual([t1 - 1, t0 + 1, t0]);
    // ISO-8601 with an offset means the same instants.
    expect(
      await targets(new Date(t0).toISOString(), new Date(t1).toISOString().replace("Z", "+00:00")),
    ).toEqual([t1 - 1, t0 + 1, t0]);
    expect(await targets(t0 + 1, t0 + 2)).toEqual([t0 + 1]);
    // A date means UTC midnight.
    expect(await targets("2026-01-15", "2026-01-16")).toHaveLength(6);
    expect(await targets("2026-01-16", "2026-01-17")).toHaveLength(0);
  });

  it("returns entries newest first with ISO times and parsed details", async () => {
    const actor = crypto.randomUUID();
    await seed([
      entry(actor, { at: 1_000, details: { reason: "first" }, department: "sales" }),
      entry(actor, { at: 2_000, details: { reason: "second" } }),
    ]);
    const { entries, nextCursor } = await search({ actor });
    expect(nextCursor).toBeNull();
    expect(entries).toEqual([
      expect.objectContaining({
        at: "1970-01-01T00:00:02.000Z",
        actorType: "agent",
        actorId: actor,
        action: "transcript.view",
        target: "chat-1",
        outcome: "success",
        ip: "203.0.113.9",
        userAgent: "Mozilla/5.0 (test)",
        department: null,
        details: { reason: "second" },
      }),
      expect.objectContaining({ department: "sales", details: { reason: "first" } }),
    ]);
    expect(entries[0]?.id).toBeGreaterThan(entries[1]?.id ?? Number.POSITIVE_INFINITY);
  });

  it("finds keywords in details, target, actor, IP and user agent; every term must occur", async () => {
    const actor = crypto.randomUUID();
    const [a, b, c] = [uniqueWord(), uniqueWord(), uniqueWord()];
    await seed([
      entry(actor, { details: { note: `${a} and ${b}` } }),
      entry(actor, { target: `chat ${a}` }),
      entry(actor, { userAgent: `Agent/${c}` }),
      entry(actor, { details: { note: "nothing" } }),
    ]);
    expect((await search({ q: a })).entries).toHaveLength(2);
    // From here on the audit.search rows of these searches hold the words too (a search is
    // audited with its keywords): look at the seeded action only.
    const action = "transcript.view";
    expect((await search({ q: a, action })).entries).toHaveLength(2);
    expect((await search({ q: `${a} ${b}`, action })).entries).toHaveLength(1);
    expect((await search({ q: `  ${b}   ${a}  `, action })).entries).toHaveLength(1);
    expect((await search({ q: c, action })).entries.map((e) => e.userAgent)).toEqual([
      `Agent/${c}`,
    ]);
    expect((await search({ q: `${a} ${c}`, action })).entries).toHaveLength(0);
    expect((await search({ q: actor, action })).entries).toHaveLength(4);
    // An empty keyword is no filter.
    expect((await search({ q: "  ", actor })).entries).toHaveLength(4);
  });

  it("combines actor, action (exact and prefix), outcome, department and keyword", async () => {
    const actor = crypto.randomUUID();
    const other = crypto.randomUUID();
    const word = uniqueWord();
    await seed([
      entry(actor, { action: "auth.login", outcome: "failure", details: { w: word } }),
      entry(actor, { action: "auth.login", outcome: "success", details: { w: word } }),
      entry(actor, { action: "auth.logout", outcome: "failure", details: { w: word } }),
      entry(actor, { action: "authx.other", outcome: "failure", details: { w: word } }),
      entry(actor, { action: "chat.accept", department: "sales", outcome: "failure" }),
      entry(other, { action: "auth.login", outcome: "failure", details: { w: word } }),
    ]);
    const actions = async (params: Record<string, string>) =>
      (await search(params)).entries.map((e) => `${e.action}/${e.outcome}`);
    expect(await actions({ actor, action: "auth.*" })).toEqual([
      "auth.logout/failure",
      "auth.login/success",
      "auth.login/failure",
    ]);
    expect(await actions({ actor, action: "auth.login", outcome: "failure" })).toEqual([
      "auth.login/failure",
    ]);
    expect(await actions({ actor, action: "auth.*", outcome: "failure", q: word })).toEqual([
      "auth.logout/failure",
      "auth.login/failure",
    ]);
    expect(await actions({ q: word, action: "auth.login", outcome: "failure" })).toHaveLength(2);
    expect(await actions({ actor, department: "sales" })).toEqual(["chat.accept/failure"]);
    expect(await actions({ actor, department: "sales", outcome: "success" })).toEqual([]);
  });

  it("pages with a stable cursor while new rows are appended between pages", async () => {
    const actor = crypto.randomUUID();
    await seed(Array.from({ length: 25 }, (_, n) => entry(actor, { target: `old-${n}` })));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: SearchBody = await search({ actor, limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.entries.map((e) => e.target ?? ""));
      cursor = page.nextCursor;
      pages += 1;
      // Rows arriving meanwhile are newer than every page still to come.
      await seed([entry(actor, { target: `new-${pages}` })]);
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => `old-${24 - n}`));

    // The same through the keyword path.
    const word = uniqueWord();
    await seed(
      Array.from({ length: 7 }, (_, n) => entry(actor, { target: `k-${n}`, details: { word } })),
    );
    const first = await search({ q: word, limit: 4 });
    await seed([entry(actor, { target: "k-late", details: { word } })]);
    const second = await search({ q: word, limit: 4, cursor: first.nextCursor ?? "" });
    expect([...first.entries, ...second.entries].map((e) => e.target)).toEqual(
      Array.from({ length: 7 }, (_, n) => `k-${6 - n}`),
    );
    expect(second.nextCursor).toBeNull();
  });

  it("treats FTS syntax in keywords as text: never a 500", async () => {
    const word = uniqueWord();
    await seed([entry(crypto.randomUUID(), { details: { note: `say "${word}" OR *` } })]);
    const hostile = [
      '"',
      '""',
      "OR *",
      "*",
      "a OR b",
      "NEAR(a b)",
      "details:x",
      "-x",
      "^x",
      "(",
      ")",
      "x AND",
      "'; DROP TABLE audit_log; --",
      "\\",
      "{a b}:c",
      `"${word}`,
      `${word}"`,
      `${word} OR`,
    ];
    for (const q of hostile) {
      const res = await get(`/api/audit?q=${encodeURIComponent(q)}`);
      expect(res.status, `q=${q}`).toBe(200);
    }
    const action = "transcript.view"; // not the audit.search rows of the loop above
    expect((await search({ q: `${word}"`, action })).entries).toHaveLength(1);
    expect((await search({ q: `${word} OR`, action })).entries).toHaveLength(1);
    expect((await search({ q: `${word} NEAR`, action })).entries).toHaveLength(0);
    expect((await search({ q: "OR *" })).entries.length).toBeGreaterThanOrEqual(0);
  });

  it("refuses bad query strings with 400 invalid_request", async () => {
    for (const query of [
      "from=yesterday",
      "from=2026-02-30",
      "from=2026-01-01T10:00:00",
      "to=1e3",
      "from=2000&to=1000",
      "from=1000&to=1000",
      "limit=0",
      "limit=101",
      "limit=ten",
      "cursor=abc",
      "cursor=-1",
      "outcome=maybe",
      "action=auth.*.x",
      "action=*",
      "department=Sales Team",
      "unknown=1",
      "actor=a&actor=b",
      `q=${"x".repeat(201)}`,
    ]) {
      const res = await get(`/api/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.json(), query).toMatchObject({ error: { code: "invalid_request" } });
    }
  });

  it("audits each search with its filters, card numbers masked", async () => {
    const agent = await seedAgent({ groups: ["agents"], grants: ["audit.view"] });
    const agentCookie = await login(agent.email);
    const res = await get(
      `/api/audit?q=${encodeURIComponent("card 4111 1111 1111 1111")}&outcome=denied&from=1000&limit=5`,
      { cookie: agentCookie },
    );
    expect(res.status).toBe(200);
    const row = await env.DB.prepare(
      "SELECT outcome, details FROM audit_log WHERE action = 'audit.search' AND actor_id = ?1",
    )
      .bind(agent.id)
      .first<{ outcome: string; details: string }>();
    expect(row?.outcome).toBe("success");
    expect(row?.details).not.toContain("4111 1111 1111 1111");
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({
      q: "card •••• •••• •••• 1111",
      outcome: "denied",
      from: 1000,
      page: "first",
    });
  });
});

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 1;
    } else field += char;
  }
  expect(field).toBe("");
  expect(record).toEqual([]);
  return records;
}

describe("audit export", () => {
  it("streams RFC 4180 CSV with spreadsheet formulas defused", async () => {
    const actor = crypto.randomUUID();
    const hostile = [
      '=HYPERLINK("http://evil.example","click")',
      "+1+1",
      "-2+3",
      "@SUM(A1)",
      "\t=1",
      "\r=1",
      'plain, with "quotes"\nand a newline',
    ];
    await seed(hostile.map((target, n) => entry(actor, { target, at: 10_000 + n })));
    const res = await get(`/api/audit/export?actor=${actor}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="audit-.*\.csv"$/,
    );
    const records = parseCsv(await res.text());
    expect(records[0]).toEqual([
      "id",
      "at",
      "actor_type",
      "actor_id",
      "action",
      "target",
      "outcome",
      "ip",
      "user_agent",
      "department",
      "details",
      "prev_hash",
      "hash",
    ]);
    const rows = records.slice(1);
    expect(rows.map((row) => row[5])).toEqual(
      [
        '\'=HYPERLINK("http://evil.example","click")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\t=1",
        "'\r=1",
        'plain, with "quotes"\nand a newline',
      ].reverse(),
    );
    expect(rows.every((row) => row.length === 13)).toBe(true);
    expect(rows[0]?.[1]).toBe("1970-01-01T00:00:10.006Z");
    expect(rows[0]?.[12]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("pages through more rows than one query returns", async () => {
    const actor = crypto.randomUUID();
    const count = 1234;
    const batch = Array.from({ length: count }, (_, n) => entry(actor, { target: `t${n}` }));
    await env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName("global")).append(batch);
    const res = await get(`/api/audit/export?actor=${actor}`);
    const rows = parseCsv(await res.text()).slice(1);
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((row) => row[0])).size).toBe(count);
  });

  it("requires a recent authentication, and audits each export with its filters", async () => {
    const other = await seedAgent({ groups: ["administrators"] });
    const otherCookie = await login(other.email);
    const ok = await get("/api/audit/export?action=auth.*&outcome=failure", {
      cookie: otherCookie,
    });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const row = await env.DB.prepare(
      "SELECT details FROM audit_log WHERE action = 'audit.export' AND actor_id = ?1",
    )
      .bind(other.id)
      .first<{ details: string }>();
    expect(JSON.parse(row?.details ?? "{}")).toEqual({ action: "auth.*", outcome: "failure" });

    await env.DB.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE agent_id = ?1")
      .bind(other.id, Date.now() - 10 * 60_000)
      .run();
    const stale = await get("/api/audit/export", { cookie: otherCookie });
    expect(stale.status).toBe(403);
    expect(await stale.json()).toMatchObject({ error: { code: "reauth_required" } });
    // Searching needs no re-authentication.
    expect((await get("/api/audit?limit=1", { cookie: otherCookie })).status).toBe(200);
  });

  it("refuses bad filters with 400 and does not take a cursor or limit", async () => {
    for (const query of ["from=nope", "cursor=5", "limit=10", "outcome=x"]) {
      const res = await get(`/api/audit/export?${query}`);
      expect(res.status, query).toBe(400);
    }
  });
});
