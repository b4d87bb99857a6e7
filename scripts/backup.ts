/**
 * `npm run backup [-- --remote | --persist-to DIR] [--out DIR]`: a timestamped SQL copy of the
 * D1 database's real tables (`wrangler d1 export` refuses databases with FTS5 tables), which
 * `npm run restore` puts back into a freshly migrated database. See scripts/lib/backup.ts for
 * what goes in and how values stay exact, and docs/operations.md for the procedure.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { appendFile, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { finished, pipeline } from "node:stream/promises";
import {
  BACKUP_FORMAT,
  type BackupManifest,
  dependencyOrder,
  type Encoded,
  ForeignKeyFilter,
  insertStatement,
  MIGRATIONS_TABLE,
  manifestLine,
  PAGE_ROWS,
  pageQuery,
  pageRow,
  quoteIdentifier,
  type SchemaTable,
  selectTables,
  type TableShape,
  tableShapes,
} from "./lib/backup.ts";
import { runMain } from "./lib/cli.ts";
import { type D1Target, d1QueryEach, d1TargetFromOptions, parseD1ScriptArgs } from "./lib/d1.ts";

const HELP = `Usage: npm run backup [-- [--local | --remote] [--persist-to DIR] [--out DIR]]

Writes every real table of the D1 database to backups/parley-<local|remote>-<UTC time>.sql:
one INSERT per row, with a manifest on the first line (migrations, rows per table). The FTS5
keyword indexes are not copied: a restore rebuilds them (npm run restore).

  --local            the local database used by \`wrangler dev\` (default)
  --remote           the deployed database
  --persist-to DIR   the local database under DIR (as given to wrangler dev --persist-to)
  --out DIR          where to write the file (default: backups/, which git ignores)

The file holds personal data and password hashes: it is created readable by you only.`;

/** Page queries per wrangler run (each run costs seconds); the command line stays short. */
const COMMAND_CHARS = 60_000;

/** Tables, their shapes and the migrations, read in one wrangler run. */
async function readSchema(target: D1Target) {
  // pragma_table_xinfo reads no `_cf_…` table: the remote database refuses access to them.
  const tablesOnly = `m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE '\\_cf\\_%' ESCAPE '\\'`;
  const [schemaRows = [], migrationRows = [], columnRows = [], keyRows = []] = await d1QueryEach(
    target,
    [
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
      `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`,
      `SELECT m.name AS tbl, p.name AS col, p.pk, p.hidden FROM sqlite_master m
       JOIN pragma_table_xinfo(m.name) p WHERE ${tablesOnly} ORDER BY m.name, p.cid`,
      `SELECT m.name AS tbl, f.id, f."table" AS ref, f."from" AS col, f."to" AS ref_col
       FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE ${tablesOnly}
       ORDER BY m.name, f.id, f.seq`,
    ],
  );
  const schema = schemaRows as unknown as SchemaTable[];
  const selection = selectTables(schema);
  const shapes = tableShapes(selection.tables, schema, columnRows, keyRows);
  return { shapes, fts: selection.fts, migrations: migrationRows.map((row) => String(row.name)) };
}

/**
 * Reads every table page by page into `folder` (one JSON line of tagged values per row and
 * table). Each round reads the next page of every unfinished table, as many per wrangler run
 * as fit in one command line.
 */
async function readTables(target: D1Target, shapes: TableShape[], folder: string) {
  const cursors = new Map<string, Encoded[] | null>(shapes.map((shape) => [shape.name, null]));
  while (cursors.size > 0) {
    const pending = shapes.filter((shape) => cursors.has(shape.name));
    for (const group of commandGroups(pending, cursors)) {
      const pages = await d1QueryEach(
        target,
        group.map((shape) => pageQuery(shape, cursors.get(shape.name) ?? null, PAGE_ROWS)),
      );
      for (const [i, shape] of group.entries()) {
        const rows = (pages[i] ?? []).map((row) => pageRow(shape, row));
        if (rows.length > 0) {
          const lines = rows.map((row) => `${JSON.stringify(row.values)}\n`).join("");
          await appendFile(join(folder, tableFile(shape)), lines, { mode: 0o600 });
        }
        const last = rows.at(-1);
        if (last && rows.length === PAGE_ROWS) cursors.set(shape.name, last.key);
        else cursors.delete(shape.name);
      }
    }
  }
}

function commandGroups(shapes: TableShape[], cursors: Map<string, Encoded[] | null>) {
  const groups: TableShape[][] = [];
  let group: TableShape[] = [];
  let chars = 0;
  for (const shape of shapes) {
    const length = pageQuery(shape, cursors.get(shape.name) ?? null, PAGE_ROWS).length;
    if (group.length > 0 && chars + length > COMMAND_CHARS) {
      groups.push(group);
      group = [];
      chars = 0;
    }
    group.push(shape);
    chars += length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** A file name for a table's rows (table names are SQL identifiers, not file names). */
function tableFile(shape: TableShape): string {
  return `${Buffer.from(shape.name).toString("hex")}.jsonl`;
}

/**
 * Writes the INSERTs, parents first, to `body`, leaving out rows whose parent is missing;
 * answers the rows written and left out per table.
 */
async function writeInserts(shapes: TableShape[], folder: string, body: string) {
  const byName = new Map(shapes.map((shape) => [shape.name, shape]));
  const filter = new ForeignKeyFilter(shapes);
  const tables: Record<string, number> = {};
  const skipped: Record<string, number> = {};
  const out = createWriteStream(body, { mode: 0o600 });
  // Parents may follow children only in a reference cycle, which D1 checks at the commit.
  out.write("PRAGMA defer_foreign_keys = ON;\n");
  for (const name of dependencyOrder(shapes)) {
    const shape = byName.get(name) as TableShape;
    filter.begin(name);
    out.write(`-- ${quoteIdentifier(name)}\n`);
    let written = 0;
    let left = 0;
    const file = join(folder, tableFile(shape));
    if (await stat(file).catch(() => null)) {
      for await (const line of createInterface({ input: createReadStream(file) })) {
        const values = JSON.parse(line) as Encoded[];
        if (!filter.keep(name, values)) {
          left += 1;
          continue;
        }
        written += 1;
        if (!out.write(`${insertStatement(shape, values)}\n`)) await once(out, "drain");
      }
    }
    tables[name] = written;
    if (left > 0) skipped[name] = left;
  }
  out.end();
  await finished(out);
  return { tables, skipped };
}

/** Writes the manifest line, then the body, to `file` (via a `.partial` renamed at the end). */
async function writeBackupFile(file: string, manifest: BackupManifest, body: string) {
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { mode: 0o600 });
  out.write(`${manifestLine(manifest)}\n`);
  await pipeline(createReadStream(body), out, { end: false });
  out.end();
  await finished(out);
  await rename(partial, file);
}

function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<number> {
  const values = parseD1ScriptArgs({ out: { type: "string" } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const target = d1TargetFromOptions(values);
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const outDir = resolve(cwd, values.out ?? "backups");
  const started = new Date();
  const source = target.remote ? "remote" : "local";
  const file = join(outDir, `parley-${source}-${utcStamp(started)}.sql`);

  const folder = await mkdtemp(join(tmpdir(), "parley-backup-"));
  try {
    const { shapes, fts, migrations } = await readSchema(target);
    await readTables(target, shapes, folder);
    const body = join(folder, "body.sql");
    const { tables, skipped } = await writeInserts(shapes, folder, body);
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: started.toISOString(),
      source,
      migrations,
      tables,
      fts,
      skipped,
    };
    await writeBackupFile(file, manifest, body);

    const width = Math.max(...Object.keys(tables).map((name) => name.length));
    for (const [name, rows] of Object.entries(tables)) {
      console.log(`  ${name.padEnd(width)}  ${rows} rows`);
    }
    for (const [name, rows] of Object.entries(skipped)) {
      console.log(
        `warning: ${rows} rows of ${name} left out: written during the backup, their parent row is not in it`,
      );
    }
    const total = Object.values(tables).reduce((sum, rows) => sum + rows, 0);
    const shown = relative(cwd, file) || file;
    console.log(
      `Backup written: ${total} rows in ${Object.keys(tables).length} tables → ${shown} (${size((await stat(file)).size)}).`,
    );
    return 0;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

runMain(main);
