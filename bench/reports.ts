/**
 * `npm run bench:reports`: seeds 100,000 chats into a fresh local D1 (90 days, 10 departments,
 * 50 agents, ~8 % missed, ~30 % rated), starts `wrangler dev` on it and times every report
 * over HTTP as an administrator (p50/p90), for 30 and 90 days and with a department filter.
 * The baseline, measured in the same run (this machine is noisy), is the `chats` report over a
 * range without chats: session, permissions and a D1 round trip, without rows.
 * Target (issue 8): every report under 200 ms p50. Needs `npm run build`.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sqlValue } from "../scripts/lib/d1.ts";
import { runWrangler } from "../scripts/lib/wrangler.ts";
import { REPORT_NAMES } from "../src/protocol/reports.ts";
import { migratedState, startDevServer } from "../test/helpers/dev-server.ts";
import { machine, percentile } from "./stats.ts";

const CHATS = Number(process.env.BENCH_REPORTS_CHATS ?? 100_000);
const ROWS_PER_FILE = 25_000;
const ROWS_PER_INSERT = 100;
const SAMPLES = 25;
/** Issue 8: every report query under 200 ms p50. */
const TARGET_MS = 200;
const DAY = 86_400_000;
const EMAIL = "bench-admin@example.com";
const PASSWORD = "reports bench passphrase 42";

// ── Seed data ───────────────────────────────────────────────────────────────────────────

/** A small deterministic PRNG, so every run seeds the same chats. */
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

/** [id, share of the chats]. */
const DEPARTMENTS: [string, number][] = [
  ["sales", 22],
  ["support", 24],
  ["billing", 12],
  ["returns", 10],
  ["vip", 3],
  ["fr", 7],
  ["de", 7],
  ["es", 5],
  ["it", 4],
  ["b2b", 6],
];
/** Chats per hour of day (UTC): a working-day curve with a quiet night. */
const HOURS = [1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 9, 10, 11, 11, 10, 8, 6, 5, 4, 3, 2, 1];
const RATINGS = [5, 5, 5, 5, 4, 4, 4, 3, 2, 1];
const PAGES = ["/", "/pricing", "/cart", "/checkout", "/help/shipping", "/account/orders"];

function weighted<T>(random: () => number, items: readonly [T, number][]): T {
  let roll = random() * items.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [item, weight] of items) {
    roll -= weight;
    if (roll <= 0) return item;
  }
  return items[items.length - 1]?.[0] as T;
}

interface Seed {
  sql: string[];
  missed: number;
  rated: number;
}

/** INSERTs for the departments, 50 agents (5 per department, no usable password) and chats. */
function seedSql(count: number, now: number): Seed {
  const random = prng(7);
  const int = (max: number) => Math.floor(random() * max);
  const sql = [
    `INSERT OR IGNORE INTO departments (id, name, created_at) VALUES ${DEPARTMENTS.map(
      ([id]) => `(${sqlValue(id)}, ${sqlValue(id.toUpperCase())}, 0)`,
    ).join(", ")};`,
  ];
  const agents = new Map<string, string[]>();
  for (const [department] of DEPARTMENTS) {
    const ids = Array.from({ length: 5 }, () => crypto.randomUUID());
    agents.set(department, ids);
    for (const [n, id] of ids.entries()) {
      sql.push(
        `INSERT INTO agents (id, email, name, password_hash, password_changed_at, created_at)
         VALUES (${sqlValue(id)}, ${sqlValue(`${department}${n}@example.com`)},
                 ${sqlValue(`Agent ${department} ${n}`)}, '!', 0, 0);`,
        `INSERT INTO agent_departments (agent_id, department_id)
         VALUES (${sqlValue(id)}, ${sqlValue(department)});`,
      );
    }
  }
  const hours = HOURS.map((weight, hour): [number, number] => [hour, weight]);
  const start = now - 90 * DAY;
  const times = Array.from({ length: count }, () => {
    const day = start - (start % DAY) + (1 + int(89)) * DAY;
    return day + weighted(random, hours) * 3_600_000 + int(3_600_000);
  }).sort((a, b) => a - b);
  let missed = 0;
  let rated = 0;
  const rows = times.map((createdAt) => {
    const department = weighted(random, DEPARTMENTS);
    const roll = random();
    let status = "ended";
    let agent: string | null = null;
    let accepted: number | null = null;
    let firstResponse: number | null = null;
    let ended: number | null = null;
    let rating: number | null = null;
    if (roll < 0.065) {
      status = "missed";
      ended = createdAt + 60_000 + int(120_000);
      missed += 1;
    } else if (roll < 0.08) {
      ended = createdAt + int(60_000); // the visitor left before anyone accepted
      missed += 1;
    } else {
      const owners = agents.get(department) ?? [];
      agent = owners[int(owners.length)] ?? null;
      accepted = createdAt + 2000 + int(int(4) === 0 ? 600_000 : 60_000);
      if (random() < 0.95) firstResponse = accepted + 3000 + int(120_000);
      ended = accepted + 60_000 + int(1_800_000);
      if (random() < 0.33) {
        rating = RATINGS[int(RATINGS.length)] ?? 5;
        rated += 1;
      }
    }
    const n = int(1_000_000);
    return [
      crypto.randomUUID(),
      crypto.randomUUID(),
      `Visitor ${n}`,
      `visitor${n}@example.com`,
      department,
      `https://shop.example${PAGES[int(PAGES.length)]}?utm_source=newsletter`,
      JSON.stringify({ plan: ["free", "pro", "team"][int(3)], orderId: String(100_000 + n) }),
      status,
      agent,
      createdAt,
      accepted,
      firstResponse,
      ended,
      rating,
    ].map(sqlValue);
  });
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const values = rows.slice(i, i + ROWS_PER_INSERT).map((row) => `(${row.join(", ")})`);
    sql.push(
      `INSERT INTO chats (id, visitor_id, visitor_name, visitor_email, department_id, page_url,
         variables, status, agent_id, created_at, accepted_at, first_response_at, ended_at, rating)
       VALUES ${values.join(",\n")};`,
    );
  }
  return { sql, missed, rated };
}

async function seed(persistTo: string, now: number): Promise<void> {
  const started = performance.now();
  const { sql, missed, rated } = seedSql(CHATS, now);
  const perFile = ROWS_PER_FILE / ROWS_PER_INSERT;
  for (let i = 0; i < sql.length; i += perFile) {
    const file = join(persistTo, `chats-${i}.sql`);
    await writeFile(file, `${sql.slice(i, i + perFile).join("\n")}\n`);
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
  const pct = (n: number) => `${((100 * n) / CHATS).toFixed(1)} %`;
  console.log(
    `Seeded ${CHATS.toLocaleString("en")} chats over 90 days (missed ${pct(missed)}, rated ${pct(rated)}) ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
}

// ── Measurements ────────────────────────────────────────────────────────────────────────

async function timed(url: string, cookie: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, { headers: { cookie } });
  const body = await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body}`);
  return performance.now() - start;
}

async function samples(url: string, cookie: string): Promise<number[]> {
  for (let i = 0; i < 2; i++) await timed(url, cookie); // warm-up
  const values: number[] = [];
  for (let i = 0; i < SAMPLES; i++) values.push(await timed(url, cookie));
  return values;
}

async function measure(origin: string, now: number): Promise<void> {
  const login = await fetch(`${origin}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

  const total = await fetch(`${origin}/api/reports/chats?from=${now - 90 * DAY}&to=${now}`, {
    headers: { cookie },
  }).then((res) => res.json() as Promise<{ chats: { total: number } }>);
  if (total.chats.total !== CHATS) throw new Error(`90 days hold ${total.chats.total} chats`);

  const report = (name: string, days: number, extra = "") =>
    `${origin}/api/reports/${name}?from=${now - days * DAY}&to=${now}${extra}`;
  const base = await samples(`${origin}/api/reports/chats?from=1000&to=2000`, cookie);
  const base50 = percentile(base, 50);
  let missed = 0;
  const line = (name: string, values: number[]) => {
    const p50 = percentile(values, 50);
    if (p50 >= TARGET_MS) missed += 1;
    console.log(
      `${name.padEnd(46)} p50 ${p50.toFixed(1).padStart(6)} ms   p90 ${percentile(values, 90).toFixed(1).padStart(6)} ms   ${(p50 / base50).toFixed(2).padStart(5)} × baseline${p50 < TARGET_MS ? "" : "   ABOVE TARGET"}`,
    );
  };
  console.log(`\nGET /api/reports/*, as an administrator, ${SAMPLES} sequential samples each:`);
  line("baseline: chats over a range without chats", base);
  const runs: [string, string][] = [
    ...REPORT_NAMES.map((name): [string, string] => [name, report(name, 30)]),
    ["daily, tz=Europe/Berlin", report("daily", 30, "&tz=Europe/Berlin")],
    ["hourly, tz=America/New_York", report("hourly", 30, "&tz=America/New_York")],
    ["waiting-time, department=support", report("waiting-time", 30, "&department=support")],
    ["agents, department=support", report("agents", 30, "&department=support")],
    ["handle-time.csv (audited export)", report("handle-time.csv", 30)],
  ];
  for (const [name, url] of runs) line(`30 days: ${name}`, await samples(url, cookie));
  for (const name of REPORT_NAMES)
    line(`90 days: ${name}`, await samples(report(name, 90), cookie));
  console.log(
    missed === 0 ? `\nTarget met: every p50 under ${TARGET_MS} ms.` : `\n${missed} above target.`,
  );
}

async function main(): Promise<void> {
  console.log(`Machine: ${machine()}\n`);
  const now = Date.now();
  const persistTo = await migratedState("parley-bench-reports-");
  try {
    await seed(persistTo, now);
    // Hundreds of requests a minute on one session: lift the per-session API limit.
    const server = await startDevServer({
      persistTo,
      vars: { RATE_API_PER_SESSION_PER_MINUTE: "100000" },
    });
    try {
      await server.createAgent({
        email: EMAIL,
        name: "Bench Admin",
        password: PASSWORD,
        role: "administrator",
      });
      await measure(server.origin, now);
    } finally {
      await server.stop();
    }
  } finally {
    await rm(persistTo, { recursive: true, force: true });
  }
}

await main();
