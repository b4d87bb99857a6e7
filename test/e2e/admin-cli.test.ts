/**
 * The admin CLI against a real local D1 database (wrangler, miniflare): create, list, disable,
 * and the ways it must refuse. Each command runs as a child process, exactly as an admin runs it.
 *
 * Every wrangler run costs seconds, so runs that only read (listings, refusals, checks) go
 * in parallel, state other tests need is seeded with SQL, and CLI runs that write go one at
 * a time (each appends to the audit chain).
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import initArgon2 from "@phi-ag/argon2/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type D1Target, d1Execute, type Row, sqlValue } from "../../scripts/lib/d1.ts";
import { verifyPassword } from "../../src/security/password-hash.ts";
import { migratedState } from "../helpers/dev-server.ts";
import { runScript, type ScriptRun } from "../helpers/run-script.ts";

const execFileAsync = promisify(execFile);

let persistTo: string;
let target: D1Target;

interface CliRun extends ScriptRun {
  /** Every `ps` listing taken while the CLI ran (its wrangler children included). */
  psSnapshots: string[];
}

/**
 * Runs `node scripts/admin.ts <args> --persist-to <tmp>` with `stdin` piped in; with `watchPs`,
 * takes `ps` listings all along (off by default: polling slows every other run down).
 */
async function admin(args: string[], stdin = "", watchPs = false): Promise<CliRun> {
  const psSnapshots: string[] = [];
  let running = watchPs;
  const watching = (async () => {
    while (running) {
      const { stdout } = await execFileAsync("ps", ["-eww", "-o", "args="]);
      psSnapshots.push(stdout);
      await new Promise((wait) => setTimeout(wait, 100));
    }
  })();
  try {
    const run = await runScript("scripts/admin.ts", [...args, "--persist-to", persistTo], stdin);
    return { ...run, psSnapshots };
  } finally {
    running = false;
    await watching;
  }
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

/** SQL adding an agent without the CLI (creation has its own tests), for other commands. */
function insertAgent(id: string, email: string, disabledAt: number | null = null): string {
  return `INSERT INTO agents (id, email, name, password_hash, password_changed_at, disabled_at,
     created_at)
   VALUES (${sqlValue(id)}, ${sqlValue(email)}, 'Seeded', 'not a hash', 1, ${disabledAt ?? "NULL"}, 1)`;
}

beforeAll(async () => {
  persistTo = await migratedState("parley-admin-e2e-");
  target = { remote: false, persistTo };
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

    const [listed, table] = await Promise.all([
      admin(["list-agents", "--json"], "", true),
      admin(["list-agents"]),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      { ...ana, groups: ["supervisors"], departments: ["general"], disabledAt: null },
    ]);
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
    const create = [
      "create-agent",
      "--email",
      "weak@example.com",
      "--name",
      "Weak",
      "--role",
      "agent",
    ];
    const [run, common] = await Promise.all([
      admin(create, "password123\n"),
      admin(create, "LeaveMeAlone\n"),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not meet the policy");
    expect(run.stderr).toContain("at least 12 characters");
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
    const [badRole, badDepartment, twoLines, argvPassword] = await Promise.all([
      admin([...base, "--role", "root"], `${uniquePassword()}\n`),
      admin([...base, "--role", "agent", "--department", "sales"], `${uniquePassword()}\n`),
      admin([...base, "--role", "agent"], `${uniquePassword()}\nmore\n`),
      admin([...base, "--role", "agent", "--password", "x"]),
    ]);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain("--role: must be one of administrator, supervisor, agent");
    expect(badDepartment.code).toBe(1);
    expect(badDepartment.stderr).toContain("unknown department: sales");
    expect(twoLines.code).toBe(1);
    expect(twoLines.stderr).toContain("exactly one line");
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
    const anaId = `(SELECT id FROM agents WHERE email = ${sqlValue(ana.email)})`;
    const [[agent] = []] = await queries(
      `SELECT id FROM agents WHERE email = ${sqlValue(ana.email)}`,
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at) VALUES ('s-open-1', ${anaId}, 1, 1)`,
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at) VALUES ('s-open-2', ${anaId}, 1, 1)`,
      `INSERT INTO sessions (id, agent_id, created_at, last_seen_at, revoked_at)
       VALUES ('s-old', ${anaId}, 1, 1, 5)`,
    );
    const id = sqlValue(String(agent?.id));

    const run = await admin(["disable-agent", "--email", "Ana.Lima@Example.com"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("sessions revoked: 2");

    const [[sessions = [], [disabled] = [], audit = []], listed, unknown] = await Promise.all([
      queries(
        "SELECT id, revoked_at FROM sessions ORDER BY id",
        `SELECT disabled_at FROM agents WHERE id = ${id}`,
        "SELECT * FROM audit_log WHERE action = 'agent.disable'",
      ),
      admin(["list-agents", "--json"]),
      admin(["disable-agent", "--email", "nobody@example.com"]),
    ]);
    const revokedAt = Object.fromEntries(sessions.map((row) => [row.id, row.revoked_at]));
    expect(revokedAt["s-old"]).toBe(5);
    expect(revokedAt["s-open-1"]).toBeGreaterThan(5);
    expect(revokedAt["s-open-2"]).toBe(revokedAt["s-open-1"]);
    expect(disabled?.disabled_at).toBe(revokedAt["s-open-1"]);
    expect(audit).toMatchObject([{ actor_type: "cli", target: agent?.id, outcome: "success" }]);

    expect(JSON.parse(listed.stdout)[0].disabledAt).toBe(revokedAt["s-open-1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no agent with email nobody@example.com");
  });

  it("issues one-time reset links, at most PASSWORD_RESETS_PER_DAY a day, storing only a hash", async () => {
    const email = "reset.me@example.com";
    const id = crypto.randomUUID();
    const now = Date.now();
    // Two links issued in the last hour and still unused: with the next, the default 3 a day.
    await queries(
      insertAgent(id, email),
      ...[1, 2].map(
        (n) => `INSERT INTO password_tokens (token_hash, agent_id, purpose, created_at, expires_at)
                VALUES ('earlier-${n}', ${sqlValue(id)}, 'reset', ${now - 3_600_000 + n}, ${now + 600_000})`,
      ),
    );
    const run = await admin([
      "reset-password",
      "--email",
      email,
      "--url",
      "https://chat.example.com/",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const link = run.stdout.match(/https:\/\/chat\.example\.com\/console\/#reset=([\w-]{43})/)?.[1];
    expect(link).toBeDefined();

    const [fourth, [tokens = [], audits = []]] = await Promise.all([
      admin(["reset-password", "--email", email]),
      queries(
        `SELECT token_hash, used_at FROM password_tokens ORDER BY created_at`,
        `SELECT details FROM audit_log WHERE action = 'auth.password_reset_issue'`,
      ),
    ]);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toContain("PASSWORD_RESETS_PER_DAY");
    const { hashToken } = await import("../../src/security/tokens.ts");
    expect(tokens.map((t) => t.token_hash)).toEqual([
      "earlier-1",
      "earlier-2",
      await hashToken(link ?? ""),
    ]);
    // Only the newest link still works.
    expect(tokens.map((t) => t.used_at === null)).toEqual([false, false, true]);
    expect(audits).toHaveLength(1);
    for (const row of [...tokens, ...audits]) expect(JSON.stringify(row)).not.toContain(link);
  });

  it("unlocks a locked account, and enables a disabled one", async () => {
    const email = "locked.out@example.com";
    // Locked out, and disabled (by hand or for inactivity) since long ago.
    await queries(
      insertAgent(crypto.randomUUID(), email, 5),
      `INSERT INTO login_failures (kind, key, failures, last_failure, locked_until)
       VALUES ('account', ${sqlValue(email)}, 10, ${Date.now()}, ${Date.now() + 1_800_000})`,
    );
    const run = await admin(["unlock-agent", "--email", email]);
    expect(run.code, run.stderr).toBe(0);
    const [[left = [], audit = []], unknown] = await Promise.all([
      queries(
        `SELECT * FROM login_failures WHERE key = ${sqlValue(email)}`,
        `SELECT action FROM audit_log WHERE action = 'agent.unlock'`,
      ),
      admin(["unlock-agent", "--email", "nobody@example.com"]),
    ]);
    expect(left).toEqual([]);
    expect(audit).toHaveLength(1);
    expect(unknown.code).toBe(1);

    const enabled = await admin(["enable-agent", "--email", email]);
    expect(enabled.code, enabled.stderr).toBe(0);
    const [agent = [], enables = []] = await queries(
      `SELECT disabled_at, last_login_at FROM agents WHERE email = ${sqlValue(email)}`,
      `SELECT action FROM audit_log WHERE action = 'agent.enable'`,
    );
    expect(agent[0]?.disabled_at).toBeNull();
    expect(Number(agent[0]?.last_login_at)).toBeGreaterThan(Date.now() - 120_000);
    expect(enables).toHaveLength(1);
  });
});
