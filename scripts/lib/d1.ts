/**
 * D1 access for scripts, through `wrangler d1 execute`. Writes go through a private temporary
 * file (`--file`), never argv, so values such as password hashes never show in `ps`; a file is
 * also executed as one batch, so its statements succeed or fail together. Reads use
 * `--command` (remote files are imports, which return no rows).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { CliError } from "./cli.ts";
import { runWrangler } from "./wrangler.ts";

/** The options every D1 script takes: which database, and `--help`. */
const D1_SCRIPT_OPTIONS = {
  local: { type: "boolean" },
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Parses a D1 script's command line: the database options plus the script's own `extra`
 * options. A bad argument is a CliError that points at `--help`.
 */
export function parseD1ScriptArgs<const Extra extends ParseArgsOptionsConfig>(extra: Extra) {
  try {
    return parseArgs({ options: { ...D1_SCRIPT_OPTIONS, ...extra }, strict: true }).values;
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nRun with --help for usage.`);
  }
}

/** Which database: the local one (optionally under a persistence folder) or the remote one. */
export interface D1Target {
  remote: boolean;
  /** Local persistence folder (wrangler's default: `.wrangler/state`). */
  persistTo?: string;
}

/**
 * The database the `--local`, `--remote` and `--persist-to` options of a script choose. A
 * relative folder is the caller's own: npm runs scripts from the project root.
 */
export function d1TargetFromOptions(options: {
  local?: boolean;
  remote?: boolean;
  "persist-to"?: string;
}): D1Target {
  if (options.local && options.remote) throw new CliError("choose --local or --remote, not both");
  if (options.remote && options["persist-to"]) {
    throw new CliError("--persist-to applies to the local database only");
  }
  const target: D1Target = { remote: options.remote === true };
  const persistTo = options["persist-to"];
  if (persistTo) target.persistTo = resolve(process.env.INIT_CWD ?? process.cwd(), persistTo);
  return target;
}

/** One result row. */
export type Row = Record<string, unknown>;

/** A failed D1 statement; `text` is D1's own message. */
export class D1Error extends CliError {
  override name = "D1Error";
  readonly text: string;

  constructor(text: string) {
    super(
      /no such table/.test(text)
        ? `${text} — apply the migrations first (npx wrangler d1 migrations apply DB --local, or npm start)`
        : text,
    );
    this.text = text;
  }
}

/**
 * A SQL literal for a value. Strings are single-quoted with quotes doubled (the only special
 * character inside an SQLite string literal); NUL is refused since SQLite would cut the text there.
 */
export function sqlValue(value: string | number | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new CliError(`not a safe integer for SQL: ${value}`);
    return String(value);
  }
  if (value.includes("\0")) throw new CliError("text values must not contain NUL characters");
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Runs the statements as one batch (a `--file`, so values never show in `ps`) and returns
 * each statement's rows, in order. Against the remote database wrangler runs a file as an
 * import, which returns no rows: read with `d1Query`.
 */
export async function d1Execute(target: D1Target, statements: string[]): Promise<Row[][]> {
  const folder = await mkdtemp(join(tmpdir(), "parley-d1-"));
  try {
    const file = join(folder, "batch.sql");
    await writeFile(file, `${statements.map((sql) => `${sql.trim()};`).join("\n")}\n`, {
      mode: 0o600,
    });
    return await d1ExecuteFile(target, file);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Runs an SQL file as one batch (see `d1Execute`; remote: an import, which returns no rows). */
export function d1ExecuteFile(target: D1Target, file: string): Promise<Row[][]> {
  // --yes: remote file execution asks for confirmation, and a script has nobody to ask.
  return runD1(target, ["--file", file, ...(target.remote ? ["--yes"] : [])]);
}

/**
 * Runs one read-only statement with `--command` and returns its rows (local and remote
 * alike). Only for SQL without secrets: the statement is visible in `ps`.
 */
export async function d1Query(target: D1Target, sql: string): Promise<Row[]> {
  const results = await runD1(target, ["--command", sql.replace(/\s+/g, " ").trim()]);
  return results.flat();
}

/**
 * Runs read-only statements with one `--command` and returns each statement's rows: one
 * wrangler start (seconds) for many queries, and one consistent view of the database (D1 runs
 * them as one request). The SQL is visible in `ps`, as with `d1Query`.
 */
export function d1QueryEach(target: D1Target, statements: string[]): Promise<Row[][]> {
  return runD1(target, ["--command", statements.map((sql) => sql.trim()).join(";\n")]);
}

async function runD1(target: D1Target, source: string[]): Promise<Row[][]> {
  const args = ["d1", "execute", "DB", target.remote ? "--remote" : "--local"];
  if (target.persistTo && !target.remote) args.push("--persist-to", target.persistTo);
  const result = await runWrangler([...args, ...source, "--json"]);
  const output = parseJsonOutput(result.stdout);
  if (isErrorOutput(output)) throw new D1Error(output.error.text ?? "unknown D1 error");
  if (result.code !== 0 || !Array.isArray(output)) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5);
    throw new CliError(`wrangler d1 execute failed (exit ${result.code}):\n${detail.join("\n")}`);
  }
  return output.map((item: { results?: Row[] }) => item.results ?? []);
}

// wrangler may print a banner or warnings before the JSON document.
function parseJsonOutput(stdout: string): unknown {
  const start = stdout.search(/^[[{]/m);
  if (start < 0) return undefined;
  try {
    return JSON.parse(stdout.slice(start));
  } catch {
    return undefined;
  }
}

function isErrorOutput(output: unknown): output is { error: { text?: string } } {
  return typeof output === "object" && output !== null && "error" in output;
}
