/**
 * `npm run restore -- --file F [--remote | --persist-to DIR]`: puts a backup written by
 * `npm run backup` into an empty database that has the same migrations applied (create it,
 * `wrangler d1 migrations apply`, then restore: docs/operations.md). One batch (a transaction):
 * the rows the migrations seeded are replaced by the backup's, the keyword indexes are rebuilt
 * by their triggers as the rows go in and then checked, and the row counts are compared with
 * the manifest. The restore is recorded as a `backup.restore` audit row, chained after the
 * restored rows (whose ids are kept, so the chain verifies: `npm run audit:verify`).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { finished, pipeline } from "node:stream/promises";
import { d1ExecuteAudited } from "./lib/audit.ts";
import {
  type BackupManifest,
  MIGRATIONS_TABLE,
  parseManifest,
  quoteIdentifier,
  type SchemaTable,
  selectTables,
} from "./lib/backup.ts";
import { CliError, runMain } from "./lib/cli.ts";
import {
  type D1Target,
  d1ExecuteFile,
  d1QueryEach,
  d1TargetFromOptions,
  parseD1ScriptArgs,
} from "./lib/d1.ts";

const HELP = `Usage: npm run restore -- --file FILE [--local | --remote] [--persist-to DIR]

Restores a backup written by \`npm run backup\` into an EMPTY database with the same
migrations applied: create a new D1 database (or use a new --persist-to folder), run
\`npx wrangler d1 migrations apply DB\` on it, then this command. It refuses a database
that holds agents or audit rows, or whose migrations differ from the backup's.

  --file FILE        the backup file (required)
  --local            the local database used by \`wrangler dev\` (default)
  --remote           the deployed database (as bound in wrangler.toml)
  --persist-to DIR   the local database under DIR`;

/** Reads the manifest from the first line of the backup file. */
async function readManifest(file: string): Promise<BackupManifest> {
  const handle = await open(file, "r").catch(() => {
    throw new CliError(`cannot read ${file}`);
  });
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString("utf8");
    const end = text.indexOf("\n");
    return parseManifest(end < 0 ? text : text.slice(0, end));
  } finally {
    await handle.close();
  }
}

/** Refuses a target the backup cannot go into; answers the target's FTS5 indexes. */
async function checkTarget(target: D1Target, manifest: BackupManifest): Promise<string[]> {
  const [migrationRows = [], schemaRows = [], [used] = []] = await d1QueryEach(target, [
    `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY id`,
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
    "SELECT (SELECT count(*) FROM agents) AS agents, (SELECT count(*) FROM audit_log) AS audit",
  ]);
  const migrations = migrationRows.map((row) => String(row.name));
  if (JSON.stringify(migrations) !== JSON.stringify(manifest.migrations)) {
    const missing = manifest.migrations.filter((name) => !migrations.includes(name));
    const extra = migrations.filter((name) => !manifest.migrations.includes(name));
    throw new CliError(
      `the database's migrations differ from the backup's (missing: ${missing.join(", ") || "none"}; ` +
        `not in the backup: ${extra.join(", ") || "none"}). Apply exactly the backup's migrations ` +
        "(check out the release that wrote it), restore, then apply the newer ones.",
    );
  }
  if (Number(used?.agents) > 0 || Number(used?.audit) > 0) {
    throw new CliError(
      `the database is not empty (${used?.agents} agents, ${used?.audit} audit rows): restore into a new, freshly migrated database`,
    );
  }
  const selection = selectTables(schemaRows as unknown as SchemaTable[]);
  const unknown = Object.keys(manifest.tables).filter((name) => !selection.tables.includes(name));
  if (unknown.length > 0) throw new CliError(`the database has no table ${unknown.join(", ")}`);
  return selection.fts;
}

/**
 * The restore batch: the seeded rows out (children first), the backup's rows in, then an
 * FTS5 integrity check of every index, which fails the whole batch if an index does not match
 * its rows.
 */
async function writeRestoreFile(
  file: string,
  backup: string,
  manifest: BackupManifest,
  fts: string[],
) {
  const out = createWriteStream(file, { mode: 0o600 });
  out.write("PRAGMA defer_foreign_keys = ON;\n");
  for (const name of Object.keys(manifest.tables).reverse()) {
    out.write(`DELETE FROM ${quoteIdentifier(name)};\n`);
  }
  await pipeline(createReadStream(backup), out, { end: false });
  for (const index of fts) {
    const name = quoteIdentifier(index);
    out.write(`\nINSERT INTO ${name} (${name}) VALUES ('integrity-check');`);
  }
  out.end("\n");
  await finished(out);
}

/** Row counts after the restore, compared with the manifest. */
async function checkCounts(target: D1Target, manifest: BackupManifest): Promise<number> {
  const names = Object.keys(manifest.tables);
  const counts = await d1QueryEach(
    target,
    names.map((name) => `SELECT count(*) AS n FROM ${quoteIdentifier(name)}`),
  );
  let total = 0;
  for (const [i, name] of names.entries()) {
    const rows = Number(counts[i]?.[0]?.n);
    const expected = manifest.tables[name] ?? 0;
    if (rows !== expected) {
      throw new CliError(`${name} holds ${rows} rows after the restore, the backup ${expected}`);
    }
    total += expected;
  }
  return total;
}

async function main(): Promise<number> {
  const values = parseD1ScriptArgs({ file: { type: "string" } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.file) throw new CliError("--file is required\nRun with --help for usage.");
  const target = d1TargetFromOptions(values);
  const backup = resolve(process.env.INIT_CWD ?? process.cwd(), values.file);
  const manifest = await readManifest(backup);
  const fts = await checkTarget(target, manifest);

  const folder = await mkdtemp(join(tmpdir(), "parley-restore-"));
  try {
    const batch = join(folder, "restore.sql");
    await writeRestoreFile(batch, backup, manifest, fts);
    await d1ExecuteFile(target, batch);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  const total = await checkCounts(target, manifest);
  await d1ExecuteAudited(target, [], {
    at: Date.now(),
    action: "backup.restore",
    target: basename(backup),
    details: { createdAt: manifest.createdAt, source: manifest.source, rows: total },
  });
  console.log(
    `Restored ${total} rows in ${Object.keys(manifest.tables).length} tables from ${basename(backup)} ` +
      `(backup of ${manifest.createdAt}); keyword indexes rebuilt and checked: ${fts.join(", ") || "none"}.`,
  );
  console.log(
    `Next: npm run audit:verify${target.remote ? " -- --remote" : target.persistTo ? ` -- --persist-to ${target.persistTo}` : ""}`,
  );
  return 0;
}

runMain(main);
