/**
 * The pure part of `npm run backup` / `npm run restore` (scripts/lib/backup.ts): which tables
 * a backup holds, their order, exact SQL literals for every SQLite value (proven by a round
 * trip through a real SQLite, node:sqlite), page queries, the rows left out when their parent
 * is missing, and the manifest.
 */
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import {
  BACKUP_FORMAT,
  type BackupManifest,
  dependencyOrder,
  encodedColumn,
  ForeignKeyFilter,
  insertStatement,
  manifestLine,
  pageQuery,
  pageRow,
  parseManifest,
  selectTables,
  sqlLiteral,
  type TableShape,
  tableShapes,
} from "../../scripts/lib/backup.ts";

const fts = (name: string, columns: string) => ({
  name,
  sql: `CREATE VIRTUAL TABLE ${name} USING fts5(${columns})`,
});

describe("selectTables", () => {
  it("keeps the real tables and leaves out indexes, their shadow and helper tables, and internal tables", () => {
    const schema = [
      { name: "agents", sql: "CREATE TABLE agents (id TEXT PRIMARY KEY)" },
      { name: "messages", sql: "CREATE TABLE messages (...) WITHOUT ROWID" },
      { name: "audit_log", sql: "CREATE TABLE audit_log (id INTEGER PRIMARY KEY)" },
      fts("audit_fts", "action, content = 'audit_log', content_rowid = 'id'"),
      fts("message_fts", "text, chat_id UNINDEXED"),
      ...["data", "idx", "content", "docsize", "config"].map((suffix) => ({
        name: `message_fts_${suffix}`,
        sql: `CREATE TABLE 'message_fts_${suffix}'(id INTEGER PRIMARY KEY, block BLOB)`,
      })),
      { name: "audit_fts_data", sql: "CREATE TABLE 'audit_fts_data'(id, block)" },
      { name: "message_fts_docs", sql: "CREATE TABLE message_fts_docs (id INTEGER PRIMARY KEY)" },
      { name: "sqlite_sequence", sql: "CREATE TABLE sqlite_sequence(name,seq)" },
      { name: "_cf_KV", sql: "CREATE TABLE _cf_KV (key TEXT PRIMARY KEY)" },
      { name: "d1_migrations", sql: "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY)" },
      { name: "geo", sql: "create virtual table geo using rtree(id, x0, x1)" },
      { name: "geo_node", sql: "CREATE TABLE 'geo_node'(nodeno, data)" },
    ];
    expect(selectTables(schema)).toEqual({
      tables: ["agents", "audit_log", "messages"],
      fts: ["audit_fts", "message_fts"],
    });
  });
});

describe("tableShapes", () => {
  const schema = [
    { name: "chats", sql: "CREATE TABLE chats (id TEXT PRIMARY KEY, agent_id TEXT)" },
    {
      name: "messages",
      sql: "CREATE TABLE messages (chat_id, seq, PRIMARY KEY (chat_id, seq)) WITHOUT ROWID",
    },
    {
      name: "pairs",
      sql: "CREATE TABLE pairs (a, b, c AS (a + b), FOREIGN KEY (a, b) REFERENCES messages)",
    },
  ];
  const columns = [
    { tbl: "chats", col: "id", pk: 1, hidden: 0 },
    { tbl: "chats", col: "agent_id", pk: 0, hidden: 0 },
    { tbl: "messages", col: "chat_id", pk: 1, hidden: 0 },
    { tbl: "messages", col: "seq", pk: 2, hidden: 0 },
    { tbl: "pairs", col: "a", pk: 0, hidden: 0 },
    { tbl: "pairs", col: "b", pk: 0, hidden: 0 },
    { tbl: "pairs", col: "c", pk: 0, hidden: 2 },
  ];
  const keys = [
    { tbl: "messages", id: 0, ref: "chats", col: "chat_id", ref_col: "id" },
    { tbl: "pairs", id: 0, ref: "messages", col: "a", ref_col: null },
    { tbl: "pairs", id: 0, ref: "messages", col: "b", ref_col: null },
  ];

  it("pages rowid tables by rowid and WITHOUT ROWID tables by their primary key, without generated columns", () => {
    const shapes = tableShapes(["chats", "messages", "pairs"], schema, columns, keys);
    expect(shapes).toEqual([
      { name: "chats", columns: ["id", "agent_id"], key: ["rowid"], foreignKeys: [] },
      {
        name: "messages",
        columns: ["chat_id", "seq"],
        key: ["chat_id", "seq"],
        foreignKeys: [{ table: "chats", from: ["chat_id"], to: ["id"] }],
      },
      {
        name: "pairs",
        columns: ["a", "b"],
        key: ["rowid"],
        // No target columns: the parent's primary key, in key order.
        foreignKeys: [{ table: "messages", from: ["a", "b"], to: ["chat_id", "seq"] }],
      },
    ]);
  });
});

const shape = (name: string, parents: string[] = [], columns = ["id", "parent"]): TableShape => ({
  name,
  columns,
  key: ["rowid"],
  foreignKeys: parents.map((table) => ({ table, from: ["parent"], to: ["id"] })),
});

describe("dependencyOrder", () => {
  it("puts every table after the tables it references, ignoring references to itself", () => {
    const order = dependencyOrder([
      shape("messages", ["chats"]),
      shape("chats", ["departments", "agents"]),
      shape("agents", ["agents"]),
      shape("departments"),
      shape("replies", ["offline"]),
      shape("offline", ["departments"]),
    ]);
    for (const [child, parent] of [
      ["messages", "chats"],
      ["chats", "departments"],
      ["chats", "agents"],
      ["replies", "offline"],
      ["offline", "departments"],
    ]) {
      expect(order.indexOf(child as string)).toBeGreaterThan(order.indexOf(parent as string));
    }
    expect(order).toHaveLength(6);
  });

  it("puts tables in a reference cycle last, by name", () => {
    expect(dependencyOrder([shape("b", ["a"]), shape("a", ["b"]), shape("c")])).toEqual([
      "c",
      "a",
      "b",
    ]);
  });
});

describe("sqlLiteral", () => {
  const text = (value: string) => `t${Buffer.from(value).toString("hex").toUpperCase()}`;

  it("writes NULL, integers beyond 2^53, reals and blobs exactly", () => {
    expect(sqlLiteral(null)).toBe("NULL");
    expect(sqlLiteral("i9007199254740993")).toBe("9007199254740993");
    expect(sqlLiteral("i-42")).toBe("-42");
    expect(sqlLiteral("r1.0e+300")).toBe("1.0e+300");
    expect(sqlLiteral("r-0.1")).toBe("-0.1");
    expect(sqlLiteral("b00FF7F")).toBe("X'00FF7F'");
    expect(sqlLiteral("b")).toBe("X''");
  });

  it("writes text as a quoted string with quotes doubled, unicode and newlines as they are", () => {
    expect(sqlLiteral(text("it's a 'test'"))).toBe("'it''s a ''test'''");
    expect(sqlLiteral(text("Grüße 😀; -- not a comment\n/* line */"))).toBe(
      "'Grüße 😀; -- not a comment\n/* line */'",
    );
    expect(sqlLiteral(text(""))).toBe("''");
  });

  it("writes text with NUL, invalid UTF-8 or (for cursors) any text as its exact bytes", () => {
    expect(sqlLiteral("t610062")).toBe("CAST(X'610062' AS TEXT)");
    expect(sqlLiteral("tC328")).toBe("CAST(X'C328' AS TEXT)");
    expect(sqlLiteral(text("abc"), true)).toBe("CAST(X'616263' AS TEXT)");
    // A byte-order mark is content, not a hint to drop.
    expect(sqlLiteral("tEFBBBF41")).toBe("'\uFEFFA'");
  });

  it("refuses anything that is not a tagged value", () => {
    for (const bad of ["x1", "i1; DROP TABLE agents", "r1e", "tZZ", "t0", "b1", "", "i"]) {
      expect(() => sqlLiteral(bad), bad).toThrow(/in a backup/);
    }
  });

  it("round-trips every SQLite type through a real database, byte for byte", () => {
    const source = new DatabaseSync(":memory:");
    const target = new DatabaseSync(":memory:");
    for (const db of [source, target]) db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY, v)");
    source.exec(`INSERT INTO t (n, v) VALUES
      (1, NULL), (2, 9223372036854775807), (3, -9223372036854775808), (4, 0.1), (5, 1e308),
      (6, -2.5e-300), (7, 'it''s "quoted"; -- ok'), (8, 'Grüße 😀' || char(10) || 'x'),
      (9, 'a' || char(0) || 'b'), (10, CAST(X'C328FF' AS TEXT)), (11, X'00010203FEFF'),
      (12, ''), (13, X''), (14, 9e999), (15, CAST(X'EFBBBF41' AS TEXT))`);
    const read = (db: DatabaseSync) =>
      db
        .prepare(
          `SELECT n, typeof(v) AS type, hex(v) AS bytes, ${encodedColumn("v")} AS v FROM t ORDER BY n`,
        )
        .all();
    const shapeT: TableShape = { name: "t", columns: ["n", "v"], key: ["rowid"], foreignKeys: [] };
    for (const row of read(source)) {
      target.exec(insertStatement(shapeT, [`i${row.n}`, row.v as string | null]));
    }
    expect(read(target)).toEqual(read(source));
  });
});

describe("pages", () => {
  const messages: TableShape = {
    name: "messages",
    columns: ["chat_id", "seq", "text"],
    key: ["chat_id", "seq"],
    foreignKeys: [],
  };

  it("reads a first page ordered by the key, and a next page after the last key", () => {
    const first = pageQuery(messages, null, 1000);
    expect(first).toMatch(
      /^SELECT CASE typeof\("chat_id"\) .* AS c0, .* AS c2, .* AS k1 FROM "messages" ORDER BY "chat_id", "seq" LIMIT 1000$/,
    );
    const next = pageQuery(messages, ["t6162", "i7"], 1000);
    expect(next).toContain(`WHERE ("chat_id", "seq") > (CAST(X'6162' AS TEXT), 7) ORDER BY`);
    expect(next).not.toMatch(/\n/);
  });

  it("reads a page against a real database and resumes without skipping or repeating rows", () => {
    const db = new DatabaseSync(":memory:");
    db.exec(
      "CREATE TABLE messages (chat_id TEXT, seq INTEGER, text TEXT, PRIMARY KEY (chat_id, seq)) WITHOUT ROWID",
    );
    const insert = db.prepare("INSERT INTO messages VALUES (?, ?, ?)");
    for (const chat of ["b", "a", "c'"])
      for (let seq = 1; seq <= 3; seq++) insert.run(chat, seq, `${chat}${seq}`);
    const seen: string[] = [];
    let after: (string | null)[] | null = null;
    for (;;) {
      const rows: ReturnType<typeof pageRow>[] = db
        .prepare(pageQuery(messages, after, 4))
        .all()
        .map((row) => pageRow(messages, row as Record<string, unknown>));
      seen.push(...rows.map((row) => sqlLiteral(row.values[2] ?? null)));
      if (rows.length < 4) break;
      after = rows.at(-1)?.key ?? null;
    }
    expect(seen).toEqual([
      "'a1'",
      "'a2'",
      "'a3'",
      "'b1'",
      "'b2'",
      "'b3'",
      "'c''1'",
      "'c''2'",
      "'c''3'",
    ]);
  });

  it("writes an INSERT with quoted identifiers", () => {
    const odd: TableShape = {
      name: 'we"ird',
      columns: ["a b", "c"],
      key: ["rowid"],
      foreignKeys: [],
    };
    expect(insertStatement(odd, ["i1", null])).toBe(
      `INSERT INTO "we""ird" ("a b", "c") VALUES (1, NULL);`,
    );
  });
});

describe("ForeignKeyFilter", () => {
  it("leaves out rows whose parent is not kept, their own children too, and keeps NULL references", () => {
    const chats = shape("chats");
    const messages = shape("messages", ["chats"]);
    const notes = shape("notes", ["messages"]);
    const filter = new ForeignKeyFilter([chats, messages, notes]);
    filter.begin("chats");
    expect(filter.keep("chats", ["tC1", null])).toBe(true);
    filter.begin("messages");
    expect(filter.keep("messages", ["tM1", "tC1"])).toBe(true);
    // A message of a chat started after the chats were read.
    expect(filter.keep("messages", ["tM2", "tC2"])).toBe(false);
    expect(filter.keep("messages", ["tM3", null])).toBe(true);
    filter.begin("notes");
    expect(filter.keep("notes", ["tN1", "tM1"])).toBe(true);
    expect(filter.keep("notes", ["tN2", "tM2"])).toBe(false);
  });

  it("leaves references to the table itself and to tables not begun (a cycle) to the restore", () => {
    const a = shape("a", ["a", "b"]);
    const b = shape("b", ["a"]);
    const filter = new ForeignKeyFilter([a, b]);
    filter.begin("a");
    expect(filter.keep("a", ["tA1", "tX"])).toBe(true);
    filter.begin("b");
    expect(filter.keep("b", ["tB1", "tA1"])).toBe(true);
    expect(filter.keep("b", ["tB2", "tA9"])).toBe(false);
  });
});

describe("manifest", () => {
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    createdAt: "2026-12-01T02:00:00.000Z",
    source: "remote",
    migrations: ["0001_core.sql", "0015_retention.sql"],
    tables: { departments: 1, agents: 2 },
    fts: ["audit_fts"],
    skipped: { messages: 3 },
  };

  it("is one SQL comment line that reads back as written, table order included", () => {
    const line = manifestLine(manifest);
    expect(line).toMatch(/^-- parley-backup \{/);
    expect(line).not.toContain("\n");
    const parsed = parseManifest(line);
    expect(parsed).toEqual(manifest);
    expect(Object.keys(parsed.tables)).toEqual(["departments", "agents"]);
  });

  it("refuses other files and other formats", () => {
    expect(() => parseManifest("PRAGMA defer_foreign_keys = ON;")).toThrow(/not a Parley backup/);
    expect(() => parseManifest("-- parley-backup {")).toThrow(/not valid JSON/);
    const other = manifestLine({ ...manifest, format: "parley-backup/2" as typeof BACKUP_FORMAT });
    expect(() => parseManifest(other)).toThrow(/unsupported backup manifest: format/);
  });
});
