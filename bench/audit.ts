/**
 * `npm run bench:audit`: seeds 100,000 chained audit rows into a fresh local D1, starts
 * `wrangler dev` on it, and times (over HTTP, as an administrator) the first page of keyword
 * searches (p50/p95) and a full chain verification, each beside the /healthz round trip
 * measured in the same run (this machine is noisy). Then `npm run audit:verify` (the CLI)
 * on the same database. Target (permissions and audit issue): keyword search first page
 * under 100 ms p50.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import initArgon2 from "@phi-ag/argon2/node";
import { auditRowsSql, verifyAuditChainVia } from "../scripts/lib/audit.ts";
import { d1Execute, sqlValue } from "../scripts/lib/d1.ts";
import { runWrangler } from "../scripts/lib/wrangler.ts";
import {
  type AuditRow,
  type AuditRowContent,
  chainAuditRows,
  GENESIS_HASH,
} from "../src/security/audit-chain.ts";
import { hashPassword } from "../src/security/password-hash.ts";
import { migratedState, startDevServer } from "../test/helpers/dev-server.ts";
import { machine, percentile } from "./stats.ts";

const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 100_000);
const ROWS_PER_FILE = 25_000;
const ROWS_PER_INSERT = 100;
const SAMPLES = 40;
const VERIFY_RUNS = 3;
const EMAIL = "bench-admin@example.com";
const PASSWORD = "audit bench passphrase 42";

// ── Seed data ───────────────────────────────────────────────────────────────────────────

/** A small deterministic PRNG, so every run seeds the same rows. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = ["ana", "ben", "chloe", "dev", "elif", "femi", "greta", "hiro", "ines", "jon"];
const LAST_NAMES = ["lima", "okafor", "schmidt", "tanaka", "rossi", "novak", "silva", "berg"];
const DEPARTMENTS = ["general", "sales", "support", "billing", "returns", "vip", "fr", "de"];
const USER_AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "parley-admin",
];
/** [action, weight, outcome chooser]; weights roughly as a busy desk produces them. */
const ACTIONS: [string, number][] = [
  ["auth.login", 30],
  ["auth.logout", 10],
  ["chat.accept", 14],
  ["chat.end", 12],
  ["chat.refuse", 3],
  ["chat.transfer", 4],
  ["chat.join", 2],
  ["chat.monitor", 2],
  ["transcript.view", 8],
  ["transcript.search", 4],
  ["transcript.delete", 0.5],
  ["secure_form.request", 2],
  ["secure_form.view", 2],
  ["access.denied", 2],
  ["agent.update", 1],
  ["agent.create", 0.3],
  ["agent.disable", 0.2],
  ["auth.password_change", 0.5],
  ["auth.mfa_enroll", 0.3],
  ["bans.add", 0.5],
  ["auth.lockout", 0.2],
];
const TOTAL_WEIGHT = ACTIONS.reduce((sum, [, weight]) => sum + weight, 0);

/** Agent n's email (agent 7 is the rare keyword searched for). */
function agentEmail(n: number): string {
  return `${FIRST_NAMES[n % FIRST_NAMES.length]}.${LAST_NAMES[n % LAST_NAMES.length]}${n}@example.com`;
}

function seedContents(count: number, now: number): AuditRowContent[] {
  const random = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const agents = Array.from({ length: 200 }, (_, n) => ({
    id: crypto.randomUUID(),
    email: agentEmail(n),
  }));
  const span = 90 * 86_400_000;
  const start = now - span;
  const rows: AuditRowContent[] = [];
  for (let i = 0; i < count; i++) {
    let roll = random() * TOTAL_WEIGHT;
    let action = "auth.login";
    for (const [name, weight] of ACTIONS) {
      roll -= weight;
      if (roll <= 0) {
        action = name;
        break;
      }
    }
    const agent = pick(agents);
    const department = pick(DEPARTMENTS);
    const chatId = crypto.randomUUID();
    const failed = action === "auth.login" && random() < 0.12;
    const details: Record<string, unknown> = {};
    let target: string | null = chatId;
    let outcome = failed ? "failure" : action === "access.denied" ? "denied" : "success";
    if (action.startsWith("auth.")) {
      target = agent.email;
      if (failed) details.reason = pick(["bad_password", "unknown_account", "captcha_required"]);
      if (action === "auth.login") details.mfa = random() < 0.3;
    } else if (action === "chat.transfer") {
      details.to = pick(agents).id;
      details.toDepartment = pick(DEPARTMENTS);
    } else if (action === "transcript.search") {
      target = null;
      details.q = pick(["refund", "invoice", "delivery late", "password reset", "cancel order"]);
      details.results = Math.floor(random() * 50);
    } else if (action === "access.denied") {
      target = `GET /api/${pick(["transcripts", "audit", "agents", "bans"])}`;
      details.required = [pick(["transcripts.view_all", "audit.view", "agents.manage"])];
      outcome = "denied";
    } else if (action.startsWith("agent.")) {
      target = pick(agents).id;
      details.email = pick(agents).email;
      details.groups = [pick(["agents", "supervisors"])];
    } else if (action === "secure_form.view" || action === "secure_form.request") {
      details.fields = ["card_number", "expiry", "security_code"];
    } else if (action === "bans.add") {
      target = `198.51.100.${Math.floor(random() * 255)}`;
      details.reason = "abusive language";
    }
    rows.push({
      id: i + 1,
      at: Math.floor(start + (span * i) / count),
      actor_type: failed ? "anonymous" : "agent",
      actor_id: failed ? null : agent.id,
      action,
      target,
      outcome,
      ip: `203.0.113.${Math.floor(random() * 255)}`,
      user_agent: pick(USER_AGENTS),
      details: Object.keys(details).length > 0 ? JSON.stringify(details) : null,
      department:
        action.startsWith("chat.") || action.startsWith("transcript.") ? department : null,
    });
  }
  return rows;
}

/** Multi-row INSERTs of chained rows (the same literals the CLI writes). */
function insertSql(rows: AuditRow[]): string {
  const statements: string[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(`${auditRowsSql(rows.slice(i, i + ROWS_PER_INSERT))};`);
  }
  return `${statements.join("\n")}\n`;
}

async function seed(persistTo: string, scratch: string): Promise<void> {
  const started = performance.now();
  const rows = await chainAuditRows(seedContents(ROWS, Date.now()), GENESIS_HASH);
  const hashed = performance.now();
  for (let i = 0; i < rows.length; i += ROWS_PER_FILE) {
    const file = join(scratch, `audit-${i}.sql`);
    await writeFile(file, insertSql(rows.slice(i, i + ROWS_PER_FILE)));
    const result = await runWrangler([
      "d1",
      "execute",
      "DB",
      "--local",
      "--persist-to",
      persistTo,
      "--file",
      file,
    ]);
    if (result.code !== 0) throw new Error(`seeding failed:\n${result.stdout}\n${result.stderr}`);
  }
  const argon2 = await initArgon2();
  const id = crypto.randomUUID();
  const now = Date.now();
  await d1Execute({ remote: false, persistTo }, [
    `INSERT INTO agents (id, email, name, password_hash, password_changed_at, created_at)
     VALUES (${sqlValue(id)}, ${sqlValue(EMAIL)}, 'Bench Admin',
       ${sqlValue(hashPassword(argon2, PASSWORD))}, ${now}, ${now})`,
    `INSERT INTO agent_groups (agent_id, group_id) VALUES (${sqlValue(id)}, 'administrators')`,
  ]);
  console.log(
    `Seeded ${ROWS.toLocaleString("en")} chained rows: hashing ${((hashed - started) / 1000).toFixed(1)} s, ` +
      `wrangler d1 execute ${((performance.now() - hashed) / 1000).toFixed(1)} s.`,
  );
}

// ── Measurements ────────────────────────────────────────────────────────────────────────

async function timed(url: string, cookie: string): Promise<{ ms: number; body: string }> {
  const start = performance.now();
  const res = await fetch(url, { headers: { cookie } });
  const body = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body}`);
  return { ms: performance.now() - start, body };
}

async function samples(url: string, cookie: string, count = SAMPLES): Promise<number[]> {
  for (let i = 0; i < 3; i++) await timed(url, cookie); // warm-up
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push((await timed(url, cookie)).ms);
  return values;
}

function row(name: string, values: number[], base50: number): string {
  const p50 = percentile(values, 50);
  return `${name.padEnd(44)} p50 ${p50.toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms   ${(p50 / base50).toFixed(2).padStart(5)} × baseline`;
}

async function main(): Promise<void> {
  console.log(`Machine: ${machine()}\n`);
  const persistTo = await migratedState("parley-bench-audit-");
  try {
    await seed(persistTo, persistTo);
    const server = await startDevServer({ persistTo });
    try {
      await measure(server.origin);
    } finally {
      await server.stop();
    }
    const started = performance.now();
    const result = await verifyAuditChainVia({ remote: false, persistTo });
    console.log(
      `\nnpm run audit:verify (wrangler d1 execute, 5,000 rows per query): ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s, ok=${result.ok}, ` +
        `${result.checked.toLocaleString("en")} rows`,
    );
  } finally {
    await rm(persistTo, { recursive: true, force: true });
  }
}

/** Searches and verifications over HTTP, signed in as the seeded administrator. */
async function measure(origin: string): Promise<void> {
  const login = await fetch(`${origin}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

  const health = await samples(`${origin}/healthz`, "");
  const base50 = percentile(health, 50);
  const searches: [string, string][] = [
    ['keyword, common ("login")', "q=login"],
    ['keyword, medium ("transfer")', "q=transfer"],
    ["keyword, rare (one agent's email)", `q=${encodeURIComponent(agentEmail(7))}`],
    ['keyword, 2 terms ("refund" "search")', "q=refund%20search"],
    ["keyword + outcome=failure", "q=login&outcome=failure"],
    ["keyword, no match", "q=zzyzx"],
    ["no filter (newest page)", ""],
    ["action prefix auth.* + outcome=denied", "action=auth.*&outcome=denied"],
    ["time range (one day, 30 days ago)", timeRange()],
  ];
  console.log(`\nGET /api/audit, first page (50 rows), ${SAMPLES} sequential samples each:`);
  console.log(row("/healthz (baseline round trip)", health, base50));
  for (const [name, query] of searches) {
    const values = await samples(`${origin}/api/audit?${query}`, cookie);
    console.log(row(name, values, base50));
  }

  console.log(`\nGET /api/audit/verify (whole chain), ${VERIFY_RUNS} runs:`);
  for (let i = 0; i < VERIFY_RUNS; i++) {
    const { ms, body } = await timed(`${origin}/api/audit/verify`, cookie);
    const result = JSON.parse(body) as { ok: boolean; checked: number };
    console.log(
      `  run ${i + 1}: ${(ms / 1000).toFixed(2)} s, ok=${result.ok}, ${result.checked.toLocaleString("en")} rows ` +
        `(${((ms * 1000) / result.checked).toFixed(1)} µs/row, ${(ms / base50).toFixed(0)} × baseline)`,
    );
  }
}

function timeRange(): string {
  const day = 86_400_000;
  const from = Date.now() - 30 * day;
  return `from=${from}&to=${from + day}`;
}

await main();
