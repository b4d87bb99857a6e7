/**
 * The pure part of `npm run backup` and `npm run restore` (scripts/backup.ts, restore.ts):
 * which tables a backup holds and in which order, how rows are read page by page as exact
 * tagged values and written back as SQL literals, which rows written during a backup are
 * left out, and the manifest line at the top of a backup file.
 *
 * `wrangler d1 export` refuses a database with virtual tables (our FTS5 keyword indexes), so
 * a backup holds the real tables only; the indexes are rebuilt by their INSERT triggers as the
 * rows go back in (migrations 0005, 0010, 0015).
 */
import { z } from "zod";
import { CliError } from "./cli.ts";
import { type Row, sqlValue } from "./d1.ts";

/** Rows per page and table: one `SELECT … LIMIT` each. */
export const PAGE_ROWS = 1000;

/** Wrangler's own table: a backup records the migration names (manifest), never its rows. */
export const MIGRATIONS_TABLE = "d1_migrations";

/** A `sqlite_master` row of type `table`. */
export interface SchemaTable {
  name: string;
  sql: string | null;
}

/** The tables a backup holds, and the FTS5 indexes a restore checks. */
export interface TableSelection {
  tables: string[];
  fts: string[];
}

/** SQLite's and Cloudflare's own tables (`_cf_…` cannot even be read on a remote database). */
const INTERNAL_TABLE = /^(sqlite_|_cf_)/;
const VIRTUAL_TABLE = /^\s*CREATE\s+VIRTUAL\s+TABLE\b/i;
const FTS5 = /\bUSING\s+fts5\b/i;

/**
 * The real tables, by name: not SQLite's or Cloudflare's, not `d1_migrations`, no virtual
 * table, and nothing named after a virtual table (`<index>_…`): FTS5's shadow tables
 * (`_data`, `_idx`, `_content`, `_docsize`, `_config`) and our own helpers of an index
 * (`message_fts_docs`) are rebuilt with it.
 */
export function selectTables(schema: readonly SchemaTable[]): TableSelection {
  const virtual = schema.filter((table) => VIRTUAL_TABLE.test(table.sql ?? ""));
  const partOfIndex = (name: string) =>
    virtual.some((index) => name === index.name || name.startsWith(`${index.name}_`));
  const tables = schema
    .map((table) => table.name)
    .filter((name) => !INTERNAL_TABLE.test(name) && name !== MIGRATIONS_TABLE)
    .filter((name) => !partOfIndex(name));
  const fts = virtual.filter((index) => FTS5.test(index.sql ?? "")).map((index) => index.name);
  return { tables: tables.sort(), fts: fts.sort() };
}

/** A foreign key of a table: `from` columns reference `to` columns of `table`. */
export interface ForeignKey {
  table: string;
  from: string[];
  to: string[];
}

/** What a backup needs to know of a table. */
export interface TableShape {
  name: string;
  /** The columns a row is inserted with (generated columns left out), in table order. */
  columns: string[];
  /**
   * What pages are ordered and resumed by: the primary key of a WITHOUT ROWID table, the
   * rowid otherwise (never NULL, and a small number in the command line).
   */
  key: string[];
  foreignKeys: ForeignKey[];
}

/**
 * The shapes of `tables` from the schema and the rows of `pragma_table_xinfo` (`tbl`, `col`,
 * `pk`, `hidden`) and `pragma_foreign_key_list` (`tbl`, `id`, `ref`, `col`, `ref_col`), in
 * column and key order. A foreign key without target columns references the primary key.
 */
export function tableShapes(
  tables: readonly string[],
  schema: readonly SchemaTable[],
  columnRows: readonly Row[],
  keyRows: readonly Row[],
): TableShape[] {
  const pkOf = (table: string) => {
    const cols = columnRows
      .filter((row) => row.tbl === table && Number(row.pk) > 0)
      .sort((a, b) => Number(a.pk) - Number(b.pk));
    return cols.map((row) => String(row.col));
  };
  return tables.map((name) => {
    const columns = columnRows
      .filter((row) => row.tbl === name && Number(row.hidden) === 0)
      .map((row) => String(row.col));
    const sql = schema.find((table) => table.name === name)?.sql ?? "";
    const withoutRowid = /\bWITHOUT\s+ROWID\b/i.test(sql.slice(sql.lastIndexOf(")")));
    const byId = new Map<string, ForeignKey>();
    for (const row of keyRows.filter((key) => key.tbl === name)) {
      const id = String(row.id);
      const key = byId.get(id) ?? { table: String(row.ref), from: [], to: [] };
      key.from.push(String(row.col));
      if (row.ref_col !== null && row.ref_col !== undefined) key.to.push(String(row.ref_col));
      byId.set(id, key);
    }
    const foreignKeys = [...byId.values()].map((key) =>
      key.to.length === key.from.length ? key : { ...key, to: pkOf(key.table) },
    );
    return { name, columns, key: withoutRowid ? pkOf(name) : ["rowid"], foreignKeys };
  });
}

/**
 * Table names with every table after the tables it references, so rows go back in with their
 * parents first. Tables in a reference cycle come last, by name: the restore defers foreign
 * keys to the end of its transaction, which covers them.
 */
export function dependencyOrder(shapes: readonly TableShape[]): string[] {
  const byName = [...shapes].sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(byName.map((shape) => shape.name));
  const order: string[] = [];
  const placed = new Set<string>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const shape of byName) {
      if (placed.has(shape.name)) continue;
      const parents = shape.foreignKeys
        .map((key) => key.table)
        .filter((table) => table !== shape.name && names.has(table));
      if (parents.every((parent) => placed.has(parent))) {
        placed.add(shape.name);
        order.push(shape.name);
        progress = true;
      }
    }
  }
  return [...order, ...byName.map((shape) => shape.name).filter((name) => !placed.has(name))];
}

/** An SQL identifier, double-quoted (quotes doubled). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The expression that reads a column as tagged text, exact for every SQLite type: `i` + the
 * integer's digits (no 2^53 limit, unlike JSON numbers), `r` + SQLite's own round-trip
 * literal of a real, `t` + the text's bytes in hex (any bytes: NUL, invalid UTF-8, a BOM),
 * `b` + the blob in hex, or NULL.
 */
export function encodedColumn(column: string): string {
  const c = quoteIdentifier(column);
  return `CASE typeof(${c}) WHEN 'integer' THEN 'i' || ${c} WHEN 'real' THEN 'r' || quote(${c}) WHEN 'text' THEN 't' || hex(${c}) WHEN 'blob' THEN 'b' || hex(${c}) END`;
}

/** A tagged value as `encodedColumn` reads it. */
export type Encoded = string | null;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The SQL literal of a tagged value. Text is a quoted string (`sqlValue`: quotes doubled) when
 * it is valid UTF-8 without NUL, else `CAST(X'…' AS TEXT)` with its exact bytes; `hexText`
 * uses that form for all text (cursors in a command line: no quotes, no whitespace).
 */
export function sqlLiteral(value: Encoded, hexText = false): string {
  if (value === null) return "NULL";
  const body = value.slice(1);
  const hex = () => {
    if (!/^(?:[0-9A-F]{2})*$/.test(body)) throw new CliError(`not hex in a backup value: ${value}`);
    return body;
  };
  switch (value[0]) {
    case "i":
      if (!/^-?\d+$/.test(body)) break;
      return body;
    case "r":
      if (!/^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i.test(body)) break;
      return body;
    case "b":
      return `X'${hex()}'`;
    case "t": {
      const bytes = Buffer.from(hex(), "hex");
      if (!hexText) {
        try {
          const text = decoder.decode(bytes);
          if (!text.includes("\0")) return sqlValue(text);
        } catch {
          // Not UTF-8: only the bytes themselves are exact.
        }
      }
      return `CAST(X'${body}' AS TEXT)`;
    }
  }
  throw new CliError(`unexpected value in a backup: ${value.slice(0, 40)}`);
}

/**
 * The query of one page of a table: its columns as tagged values (`c0`, `c1`, …), then its
 * key (`k0`, …), ordered by the key, after the key `after` (the last row of the page before).
 */
export function pageQuery(shape: TableShape, after: readonly Encoded[] | null, limit: number) {
  const select = [
    ...shape.columns.map((column, i) => `${encodedColumn(column)} AS c${i}`),
    ...shape.key.map((column, i) => `${encodedColumn(column)} AS k${i}`),
  ];
  const key = shape.key.map(quoteIdentifier).join(", ");
  const where = after
    ? ` WHERE (${key}) > (${after.map((value) => sqlLiteral(value, true)).join(", ")})`
    : "";
  return `SELECT ${select.join(", ")} FROM ${quoteIdentifier(shape.name)}${where} ORDER BY ${key} LIMIT ${limit}`;
}

/** A row of a page: its values (in `shape.columns` order) and its key. */
export function pageRow(shape: TableShape, row: Row): { values: Encoded[]; key: Encoded[] } {
  const read = (name: string): Encoded => {
    const value = row[name];
    if (value === null || typeof value === "string") return value;
    throw new CliError(`unexpected ${typeof value} in column ${name} of ${shape.name}`);
  };
  return {
    values: shape.columns.map((_, i) => read(`c${i}`)),
    key: shape.key.map((_, i) => read(`k${i}`)),
  };
}

/** The INSERT of one row. */
export function insertStatement(shape: TableShape, values: readonly Encoded[]): string {
  const columns = shape.columns.map(quoteIdentifier).join(", ");
  const literals = values.map((value) => sqlLiteral(value)).join(", ");
  return `INSERT INTO ${quoteIdentifier(shape.name)} (${columns}) VALUES (${literals});`;
}

/**
 * Leaves out rows whose parent row is not in the backup. Pages are read across several
 * wrangler runs, so on a live database a row can be written after its parent's table was read
 * (a message of a chat that started meanwhile); restored, it would fail the whole restore on
 * its foreign key. Feed the tables in `dependencyOrder`, each with `begin` first: a row is
 * checked against the rows kept of the tables before it. Values compare as stored (type and
 * bytes); the rows left out are counted and reported, never dropped silently.
 */
export class ForeignKeyFilter {
  readonly #shapes: Map<string, TableShape>;
  /** Per table begun: each column list its children reference, with the rows kept so far. */
  readonly #kept = new Map<string, { columns: string[]; tuples: Set<string> }[]>();

  constructor(shapes: readonly TableShape[]) {
    this.#shapes = new Map(shapes.map((shape) => [shape.name, shape]));
  }

  /** Starts a table: from now on its children are checked against the rows it keeps. */
  begin(table: string): void {
    const lists = new Map<string, { columns: string[]; tuples: Set<string> }>();
    for (const shape of this.#shapes.values()) {
      for (const key of shape.foreignKeys) {
        if (key.table === table)
          lists.set(JSON.stringify(key.to), { columns: key.to, tuples: new Set() });
      }
    }
    this.#kept.set(table, [...lists.values()]);
  }

  /** True when every foreign key of the row finds its parent; the row is then kept. */
  keep(table: string, values: readonly Encoded[]): boolean {
    const shape = this.#shapes.get(table);
    if (!shape) throw new CliError(`unknown table ${table}`);
    const tupleOf = (columns: readonly string[]) =>
      columns.map((column) => values[shape.columns.indexOf(column)] ?? null);
    for (const key of shape.foreignKeys) {
      // A reference to itself or to a table not begun yet (a cycle) is left to the restore.
      const parents =
        key.table === table
          ? undefined
          : this.#kept
              .get(key.table)
              ?.find((list) => JSON.stringify(list.columns) === JSON.stringify(key.to));
      const tuple = tupleOf(key.from);
      // SQL: a foreign key with a NULL column references nothing and always holds.
      if (!parents || tuple.some((value) => value === null)) continue;
      if (!parents.tuples.has(JSON.stringify(tuple))) return false;
    }
    for (const list of this.#kept.get(table) ?? []) {
      list.tuples.add(JSON.stringify(tupleOf(list.columns)));
    }
    return true;
  }
}

// ── Manifest ──────────────────────────────────────────────────────────────────────────────

/** The format of the backup files this code writes and reads. */
export const BACKUP_FORMAT = "parley-backup/1";

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  /** ISO-8601, when the backup started. */
  createdAt: z.string(),
  source: z.enum(["local", "remote"]),
  /** The migrations the database had (`d1_migrations`, in order): a restore needs the same. */
  migrations: z.array(z.string()),
  /** Rows per table, in the order they are restored. */
  tables: z.record(z.string(), z.number().int().nonnegative()),
  /** FTS5 indexes, rebuilt by triggers and checked after a restore. */
  fts: z.array(z.string()),
  /** Rows left out per table (their parent row was written after its table was read). */
  skipped: z.record(z.string(), z.number().int().positive()),
});

/** What the first line of a backup file says about it. */
export type BackupManifest = z.infer<typeof manifestSchema>;

const MANIFEST_PREFIX = "-- parley-backup ";

/** The first line of a backup file: an SQL comment holding the manifest as JSON. */
export function manifestLine(manifest: BackupManifest): string {
  return `${MANIFEST_PREFIX}${JSON.stringify(manifest)}`;
}

/** Reads the manifest from a backup file's first line; a CliError when it is not one. */
export function parseManifest(line: string): BackupManifest {
  if (!line.startsWith(MANIFEST_PREFIX)) {
    throw new CliError("not a Parley backup file (no manifest on its first line)");
  }
  let json: unknown;
  try {
    json = JSON.parse(line.slice(MANIFEST_PREFIX.length));
  } catch {
    throw new CliError("the backup's manifest is not valid JSON");
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(`unsupported backup manifest: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}
