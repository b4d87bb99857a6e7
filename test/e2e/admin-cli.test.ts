/**
 * The admin CLI against a real local D1 database (wrangler, miniflare): create, list, disable,
 * and the ways it must refuse. Each command runs as a child process, exactly as an admin runs it.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import initArgon2 from "@phi-ag/argon2/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type D1Target, d1Execute, type Row, sqlValue } from "../../scripts/lib/d1.ts";
import { PROJECT_ROOT, runWrangler } from "../../scripts/lib/wrangler.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";

const execFileAsync = promisify(execFile);

let persistTo: string;
let target: D1Target;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every `ps` listing taken while the CLI ran (its wrangler children included). */
  psSnapshots: string[];
}

/**
 * Runs `node scripts/admin.ts <args> --persist-to <tmp>` with `stdin` piped in; with `watchPs`,
 * takes `ps` listings all along (off by default: polling slows every other run down).
 */
function admin(args: string[], stdin = "", watchPs = false): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["scripts/admin.ts", ...args, "--persist-to", persistTo],
      {
        cwd: PROJECT_ROOT,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const run: CliRun = { code: null, stdout: "", stderr: "", psSnapshots: [] };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      run.stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      run.stderr += chunk;
    });
    let running = watchPs;
    const snapshots = (async () => {
      while (running) {
        const { stdout } = await execFileAsync("ps", ["-eww", "-o", "args="]);
        run.psSnapshots.push(stdout);
        await new Promise((wait) => setTimeout(wait, 100));
      }
    })();
    child.on("error", reject);
    child.on("close", (code) => {
      running = false;
      run.code = code;
      snapshots.then(() => resolve(run), reject);
    });
    child.stdin.end(stdin);
  });
}

async function query(sql: string): Promise<Row[]> {
  const [rows = []] = await d1Execute(target, [sql]);
  return rows;
}

/** Several queries in one wrangler run (each run costs seconds). */
function queries(...sql: string[]): Promise<Row[][]> {
  return d1Execute(target, sql);
}

async function countAgents(email: string): Promise<number> {
  const [row] = await query(`SELECT count(*) AS n FROM agents WHERE email = ${sqlValue(email)}`);
  return Number(row?.n);
}

/** A password that passes the default policy and appears nowhere else. */
function uniquePassword(): string {
  return `violet kettle ${crypto.randomUUID().slice(0, 13)}`;
}

beforeAll(async () => {
  persistTo = await mkdtemp(join(tmpdir(), "parley-admin-e2e-"));
  target = { remote: false, persistTo };
  const result = await runWrangler([
    ...["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
  ]);
  expect(result.code, result.stderr).toBe(0);
});

afterAll(async () => {
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe("admin CLI", () => {
  const ana = { email: "ana.lima@example.com", name: "Ana Lima" };
  const anaPassword = `  ${uniquePassword()} `; // leading and trailing spaces belong to it

  it("creates an agent from a stdin password and lists it", async () => {
    const created = await admin(
      ["create-agent", "--email", ana.email, "--name", ana.name, "--role", "supervisor"],
      `${anaPassword}\r\n`,
      true,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(ana.email);

    const listed = await admin(["list-agents", "--json"], "", true);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      { ...ana, groups: ["supervisors"], departments: ["general"], disabledAt: null },
    ]);
    const table = await admin(["list-agents"]);
    expect(table.stdout).toMatch(/EMAIL\s+NAME\s+GROUPS\s+DEPARTMENTS\s+DISABLED/);
    expect(table.stdout).toMatch(/ana\.lima@example\.com\s+Ana Lima\s+supervisors\s+general\s+no/);

    // The password never showed in any process's arguments, the CLI's or wrangler's.
    for (const run of [created, listed]) {
      expect(run.psSnapshots.length).toBeGreaterThan(0);
      for (const snapshot of run.psSnapshots) expect(snapshot).not.toContain(anaPassword.trim());
    }
  });

  it("stores an argon2id hash of exactly the line read (only the line break removed)", async () => {
    const [row] = await query(
      `SELECT password_hash, must_change_password, password_changed_at FROM agents
       WHERE email = ${sqlValue(ana.email)}`,
    );
    const hash = String(row?.password_hash);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.must_change_password).toBe(0);
    expect(row?.password_changed_at).toBeGreaterThan(Date.now() - 600_000);
    const argon2 = await initArgon2();
    expect(verifyPassword(argon2, hash, anaPassword)).toBe(true);
    expect(verifyPassword(argon2, hash, `${anaPassword}\r\n`)).toBe(false);
    expect(verifyPassword(argon2, hash, anaPassword.trim())).toBe(false);
  });

  it("writes an audit row without the password", async () => {
    const [[agent] = [], rows = []] = await queries(
      `SELECT id FROM agents WHERE email = ${sqlValue(ana.email)}`,
      "SELECT * FROM audit_log WHERE action = 'agent.create'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: "cli", target: agent?.id, outcome: "success" });
    const details = JSON.parse(String(rows[0]?.details));
    expect(details).toMatchObject({ email: ana.email, role: "supervisor" });
  });

  it("refuses a weak password and inserts nothing", async () => {
    const run = await admin(
      ["create-agent", "--email", "weak@example.com", "--name", "Weak", "--role", "agent"],
      "password123\n",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not meet the policy");
    expect(run.stderr).toContain("at least 12 characters");
    expect(await countAgents("weak@example.com")).toBe(0);

    const common = await admin(
      ["create-agent", "--email", "weak@example.com", "--name", "Weak", "--role", "agent"],
      "LeaveMeAlone\n",
    );
    expect(common.code).toBe(1);
    expect(common.stderr).toContain("most commonly used");
    expect(await countAgents("weak@example.com")).toBe(0);
  });

  it("refuses a duplicate email, whatever its case", async () => {
    const run = await admin(
      ["create-agent", "--email", "ANA.LIMA@example.com", "--name", "Other", "--role", "agent"],
      `${uniquePassword()}\n`,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("already exists");
    expect(await query("SELECT id FROM agents")).toHaveLength(1);
  });

  it("refuses a bad role, an unknown department and a multi-line stdin", async () => {
    const base = ["create-agent", "--email", "bo@example.com", "--name", "Bo"];
    const badRole = await admin([...base, "--role", "root"], `${uniquePassword()}\n`);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain("--role: must be one of administrator, supervisor, agent");

    const badDepartment = await admin(
      [...base, "--role", "agent", "--department", "sales"],
      `${uniquePassword()}\n`,
    );
    expect(badDepartment.code).toBe(1);
    expect(badDepartment.stderr).toContain("unknown department: sales");

    const twoLines = await admin([...base, "--role", "agent"], `${uniquePassword()}\nmore\n`);
    expect(twoLines.code).toBe(1);
    expect(twoLines.stderr).toContain("exactly one line");

    const argvPassword = await admin([...base, "--role", "agent", "--password", "x"]);
    expect(argvPassword.code).toBe(1);
    expect(argvPassword.stderr).toContain("standard input");
    expect(await countAgents("bo@example.com")).toBe(0);
  });

  it("never stores the password in clear in any row", async () => {
    const tables = await query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    );
    expect(tables.length).toBeGreaterThan(3);
    const contents = await queries(...tables.map(({ name }) => `SELECT * FROM "${String(name)}"`));
    expect(contents.flat().length).toBeGreaterThan(3);
    expect(JSON.stringify(contents)).not.toContain(anaPassword.trim());
  });

  it("disables an agent and revokes its open sessions only", async () => {
    const [agent] = await query(`SELECT id FROM agents WHERE email = ${sqlValue(ana.email)}`);
    const id = sqlValue(String(agent?.id));
    await d1Execute(target, [
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at) VALUES ('s-open-1', ${id}, 1, 1)`,
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at) VALUES ('s-open-2', ${id}, 1, 1)`,
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at, revoked_at)
       VALUES ('s-old', ${id}, 1, 1, 5)`,
    ]);

    const run = await admin(["disable-agent", "--email", "Ana.Lima@Example.com"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("sessions revoked: 2");

    const [sessions = [], [disabled] = [], audit = []] = await queries(
      "SELECT id, revoked_at FROM sessions ORDER BY id",
      `SELECT disabled_at FROM agents WHERE id = ${id}`,
      "SELECT * FROM audit_log WHERE action = 'agent.disable'",
    );
    const revokedAt = Object.fromEntries(sessions.map((row) => [row.id, row.revoked_at]));
    expect(revokedAt["s-old"]).toBe(5);
    expect(revokedAt["s-open-1"]).toBeGreaterThan(5);
    expect(revokedAt["s-open-2"]).toBe(revokedAt["s-open-1"]);
    expect(disabled?.disabled_at).toBe(revokedAt["s-open-1"]);
    expect(audit).toMatchObject([{ actor_type: "cli", target: agent?.id, outcome: "success" }]);

    const listed = await admin(["list-agents", "--json"]);
    expect(JSON.parse(listed.stdout)[0].disabledAt).toBe(revokedAt["s-open-1"]);
    const unknown = await admin(["disable-agent", "--email", "nobody@example.com"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no agent with email nobody@example.com");
  });

  it("issues one-time reset links, at most PASSWORD_RESETS_PER_DAY a day, storing only a hash", async () => {
    const email = "reset.me@example.com";
    const made = await admin(
      ["create-agent", "--email", email, "--name", "Reset Me", "--role", "agent"],
      `${uniquePassword()}\n`,
    );
    expect(made.code, made.stderr).toBe(0);
    const links: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const run = await admin([
        "reset-password",
        "--email",
        email,
        "--url",
        "https://chat.example.com/",
      ]);
      expect(run.code, run.stderr).toBe(0);
      const link = run.stdout.match(/https:\/\/chat\.example\.com\/console\/#reset=([\w-]{43})/);
      expect(link).not.toBeNull();
      links.push(link?.[1] ?? "");
    }
    const fourth = await admin(["reset-password", "--email", email]);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toContain("PASSWORD_RESETS_PER_DAY");
    const [tokens = [], audits = []] = await queries(
      `SELECT token_hash, used_at FROM password_tokens ORDER BY created_at`,
      `SELECT details FROM audit_log WHERE action = 'auth.password_reset_issue'`,
    );
    const { hashToken } = await import("../../src/security/tokens.ts");
    expect(tokens.map((t) => t.token_hash)).toEqual(await Promise.all(links.map(hashToken)));
    // Only the newest link still works.
    expect(tokens.map((t) => t.used_at === null)).toEqual([false, false, true]);
    for (const row of [...tokens, ...audits]) {
      for (const token of links) expect(JSON.stringify(row)).not.toContain(token);
    }
  });

  it("unlocks a locked account", async () => {
    const email = "locked.out@example.com";
    const made = await admin(
      ["create-agent", "--email", email, "--name", "Locked Out", "--role", "agent"],
      `${uniquePassword()}\n`,
    );
    expect(made.code, made.stderr).toBe(0);
    await queries(
      `INSERT INTO login_failures (kind, key, failures, last_failure, locked_until)
       VALUES ('account', ${sqlValue(email)}, 10, ${Date.now()}, ${Date.now() + 1_800_000})`,
    );
    const run = await admin(["unlock-agent", "--email", email]);
    expect(run.code, run.stderr).toBe(0);
    const [left = [], audit = []] = await queries(
      `SELECT * FROM login_failures WHERE key = ${sqlValue(email)}`,
      `SELECT action FROM audit_log WHERE action = 'agent.unlock'`,
    );
    expect(left).toEqual([]);
    expect(audit).toHaveLength(1);
    expect((await admin(["unlock-agent", "--email", "nobody@example.com"])).code).toBe(1);

    // Disabled (by hand or for inactivity), then enabled again.
    expect((await admin(["disable-agent", "--email", email])).code).toBe(0);
    const enabled = await admin(["enable-agent", "--email", email]);
    expect(enabled.code, enabled.stderr).toBe(0);
    const [agent = []] = await queries(
      `SELECT disabled_at, last_login_at FROM agents WHERE email = ${sqlValue(email)}`,
    );
    expect(agent[0]?.disabled_at).toBeNull();
    expect(Number(agent[0]?.last_login_at)).toBeGreaterThan(Date.now() - 120_000);
  });
});
