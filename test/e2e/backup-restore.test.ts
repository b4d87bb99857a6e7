/**
 * `npm run backup` and `npm run restore` against real local D1 databases (wrangler,
 * miniflare): a database with agents and audit rows written by the admin CLI (a real chain),
 * chats whose messages hold quotes, unicode, SQL comment markers, newlines and a NUL, enough
 * messages for two pages, offline messages with replies; backed up, restored into a fresh
 * migrated database, compared row for row and type for type, searched by keyword (the FTS5
 * indexes are rebuilt by their triggers and checked), and its audit chain verified by
 * `npm run audit:verify`. A restore into a database that is not empty is refused.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainedAuditInserts } from "../../scripts/lib/audit.ts";
import {
  manifestLine,
  PAGE_ROWS,
  pageQuery,
  parseManifest,
  type SchemaTable,
  selectTables,
  type TableShape,
  tableShapes,
} from "../../scripts/lib/backup.ts";
import { type D1Target, d1Execute, d1QueryEach, sqlValue } from "../../scripts/lib/d1.ts";
import { migratedState } from "../helpers/dev-server.ts";
import { runScript } from "../helpers/run-script.ts";

let source: D1Target;
let restored: D1Target;
let outDir: string;
let backupFile: string;

const CHAT = "c0ffee00-0000-4000-8000-000000000001";
const TRICKY = [
  "it's a \"quoted\" 'text'; DROP TABLE chats; -- not a comment",
  "Grüße aus Köln 😀 — ünïcödé\nsecond line /* not a comment */",
  "zebra crossing",
];

/** Every real table of a database, as the backup sees it. */
async function shapesOf(target: D1Target): Promise<TableShape[]> {
  const [schema = [], columns = []] = await d1QueryEach(target, [
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
    `SELECT m.name AS tbl, p.name AS col, p.pk, p.hidden FROM sqlite_master m
     JOIN pragma_table_xinfo(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'
     ORDER BY m.name, p.cid`,
  ]);
  const tables = schema as unknown as SchemaTable[];
  return tableShapes(selectTables(tables).tables, tables, columns, []);
}

/** What the keyword indexes hold: their size and a few searches. */
const FTS_COUNTS = [
  "SELECT count(*) AS n FROM message_fts",
  "SELECT count(*) AS n FROM message_fts_docs",
  "SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH 'zebra'",
  `SELECT count(*) AS n FROM audit_fts WHERE audit_fts MATCH '"it''s seeded"'`,
  "SELECT count(*) AS n FROM audit_fts WHERE audit_fts MATCH 'restore'",
];

/**
 * Every row of every table as exact tagged values (type and bytes) in key order, and the
 * FTS_COUNTS, in one wrangler run (each costs seconds).
 */
async function snapshot(target: D1Target, shapes: TableShape[]) {
  const results = await d1QueryEach(target, [
    ...shapes.map((shape) => pageQuery(shape, null, 100_000)),
    ...FTS_COUNTS,
  ]);
  const rows: Record<string, unknown[]> = {};
  shapes.forEach((shape, n) => {
    // Values only: a rowid (`k0` of most tables) is not part of a row's content.
    rows[shape.name] = (results[n] ?? []).map((row) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => column.startsWith("c"))),
    );
  });
  const fts = results.slice(shapes.length).map((result) => Number(result[0]?.n));
  return { rows, fts };
}

beforeAll(async () => {
  const [src, dst, out] = await Promise.all([
    migratedState("parley-backup-src-"),
    migratedState("parley-backup-dst-"),
    mkdtemp(join(tmpdir(), "parley-backup-out-")),
  ]);
  source = { remote: false, persistTo: src };
  restored = { remote: false, persistTo: dst };
  outDir = out;

  // An administrator and a supervisor through the CLI: agents, groups, departments and a
  // chained audit trail.
  for (const [email, name, role] of [
    ["ana@example.com", "Ana O'Neil", "administrator"],
    ["bo@example.com", "Bo Ünal", "supervisor"],
  ] as const) {
    const run = await runScript(
      "scripts/admin.ts",
      ["create-agent", "--persist-to", src, "--email", email, "--name", name, "--role", role],
      `violet kettle ${crypto.randomUUID().slice(0, 13)}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
  }
  const at = Date.UTC(2026, 10, 1);
  await d1Execute(source, [
    `INSERT INTO departments (id, name, created_at) VALUES ('sales', 'Sales ''n'' more', ${at})`,
    `INSERT INTO chats (id, visitor_id, visitor_name, department_id, status, agent_id, created_at,
       ended_at, variables)
     SELECT ${sqlValue(CHAT)}, 'visitor-1', 'Vera' || char(0) || 'Nul', 'sales', 'ended', id,
       ${at}, ${at + 60_000}, '{"plan":"pro \\"gold\\""}' FROM agents WHERE email = 'ana@example.com'`,
    ...TRICKY.map(
      (text, i) =>
        `INSERT INTO messages (chat_id, seq, kind, sender_role, sender_name, text, at)
         VALUES (${sqlValue(CHAT)}, ${i + 1}, 'message', 'visitor', 'Vera', ${sqlValue(text)}, ${at + i})`,
    ),
    // Beyond 2^53: JSON numbers would round it.
    `INSERT INTO messages (chat_id, seq, kind, sender_role, text, at)
     VALUES (${sqlValue(CHAT)}, 4, 'ended', 'system', NULL, 9007199254740993)`,
    // Enough rows for a second page.
    `WITH RECURSIVE n(i) AS (SELECT 5 UNION ALL SELECT i + 1 FROM n WHERE i < ${PAGE_ROWS + 200})
     INSERT INTO messages (chat_id, seq, kind, sender_role, text, at)
     SELECT ${sqlValue(CHAT)}, i, 'message', 'agent', 'bulk message ' || i, ${at} + i FROM n`,
    `INSERT INTO chat_agents (chat_id, agent_id, role, added_at)
     SELECT ${sqlValue(CHAT)}, id, 'joined', ${at} FROM agents WHERE email = 'bo@example.com'`,
    `INSERT INTO offline_messages (id, name, email, department_id, message, created_at)
     VALUES ('offline-1', 'Olga', 'olga@example.com', 'sales', ${sqlValue(TRICKY[0] ?? "")}, ${at})`,
    `INSERT INTO offline_message_replies (id, offline_message_id, agent_id, agent_name, text, at)
     VALUES ('reply-1', 'offline-1', 'agent-x', 'Ana O''Neil', 'Called back 📞', ${at})`,
  ]);
  // One more audited change, as the CLI writes them.
  await d1Execute(
    source,
    await chainedAuditInserts(source, [
      { at, action: "test.backup_seed", target: "zebra", details: { note: "it's seeded" } },
    ]),
  );
});

afterAll(async () => {
  for (const target of [source, restored]) {
    if (target?.persistTo) await rm(target.persistTo, { recursive: true, force: true });
  }
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe("backup and restore", () => {
  it("writes a timestamped backup of the real tables, readable by its owner only", async () => {
    const run = await runScript("scripts/backup.ts", [
      "--persist-to",
      source.persistTo ?? "",
      "--out",
      join(outDir, "backups"),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [name, ...others] = await readdir(join(outDir, "backups"));
    expect(others).toEqual([]);
    expect(name).toMatch(/^parley-local-\d{8}T\d{6}Z\.sql$/);
    backupFile = join(outDir, "backups", name as string);
    expect((await stat(backupFile)).mode & 0o777).toBe(0o600);
    expect(run.stdout).toMatch(new RegExp(`Backup written: \\d+ rows in \\d+ tables → .*${name}`));
    expect(run.stdout).toMatch(/messages\s+1200 rows/);

    const text = await readFile(backupFile, "utf8");
    const manifest = parseManifest(text.slice(0, text.indexOf("\n")));
    expect(manifest.migrations).toContain("0015_retention.sql");
    expect(manifest.fts).toEqual(["agent_message_fts", "audit_fts", "message_fts"]);
    expect(manifest.skipped).toEqual({});
    expect(manifest.tables).toMatchObject({ messages: 1200, chats: 1, offline_messages: 1 });
    // Parents before children.
    const order = Object.keys(manifest.tables);
    expect(order.indexOf("chats")).toBeLessThan(order.indexOf("messages"));
    expect(order.indexOf("agents")).toBeLessThan(order.indexOf("chats"));
    // Derived and internal tables stay out.
    for (const table of ["message_fts", "message_fts_docs", "audit_fts_data", "d1_migrations"]) {
      expect(text).not.toContain(`INSERT INTO "${table}"`);
    }
    expect(text).toContain("'it''s a \"quoted\" ''text''; DROP TABLE chats; -- not a comment'");
  });

  it("restores into a fresh migrated database: every row equal, keyword search rebuilt, chain intact", async () => {
    const run = await runScript("scripts/restore.ts", [
      "--file",
      backupFile,
      "--persist-to",
      restored.persistTo ?? "",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /Restored \d+ rows in \d+ tables .*keyword indexes rebuilt and checked/,
    );

    const [shapes, restoredShapes] = await Promise.all([shapesOf(source), shapesOf(restored)]);
    expect(restoredShapes).toEqual(shapes);
    const [before, after] = await Promise.all([
      snapshot(source, shapes),
      snapshot(restored, shapes),
    ]);
    // The restore's own audit row is the only difference: chained after the restored rows.
    const restoreRow = (after.rows.audit_log ?? []).pop() as Record<string, string>;
    expect(restoreRow.c4).toBe(`t${Buffer.from("backup.restore").toString("hex").toUpperCase()}`);
    expect(after.rows).toEqual(before.rows);
    // The keyword indexes hold exactly the restored rows (no duplicates) and find them.
    expect(before.fts).toEqual([1199, 1199, 1, 1, 0]);
    expect(after.fts).toEqual([1199, 1199, 1, 1, 1]);

    const verify = await runScript("scripts/audit-verify.ts", [
      "--persist-to",
      restored.persistTo ?? "",
    ]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/Audit chain intact/);
  });

  it("refuses a database that is not empty", async () => {
    const again = await runScript("scripts/restore.ts", [
      "--file",
      backupFile,
      "--persist-to",
      restored.persistTo ?? "",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error: the database is not empty \(2 agents, \d+ audit rows\)/);
  });

  it("refuses a database whose migrations differ from the backup's", async () => {
    const text = await readFile(backupFile, "utf8");
    const end = text.indexOf("\n");
    const manifest = parseManifest(text.slice(0, end));
    const older = join(outDir, "older.sql");
    const migrations = manifest.migrations.filter((name) => name !== "0015_retention.sql");
    await writeFile(older, `${manifestLine({ ...manifest, migrations })}${text.slice(end)}`);
    const run = await runScript("scripts/restore.ts", [
      "--file",
      older,
      "--persist-to",
      restored.persistTo ?? "",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: the database's migrations differ from the backup's (missing: none; not in the backup: 0015_retention.sql)",
    );
  });
});
