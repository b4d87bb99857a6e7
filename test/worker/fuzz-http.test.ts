/**
 * HTTP fuzzing (DESIGN invariant 7; issue 6, "Tests that must exist"): at least 10,000 random
 * and malformed requests per run, spread over every route of the app (read from
 * `createApp().routes`, path parameters replaced by garbage) and over paths that match none:
 * odd methods, garbage headers (content type, huge and forged cookies, bogus CF-Connecting-IP
 * values, invalid Origins, upgrade requests), garbage query strings and bodies (invalid JSON,
 * deep nesting, strings around the 64 KB limit, wrong types, unicode, NUL, prototype-pollution
 * keys, plausible bodies with wrong fields). Half of them carry the session cookie of a real
 * administrator, so the authorized code paths are fuzzed too.
 *
 * Every answer must be below 500, and every 4xx from /api the JSON error shape; nothing may
 * reach `app.onError` as an unhandled error. A chat whose messages were acked before the run
 * (in a department the fuzzer never names) keeps them, in D1 and in the replay, and still acks
 * a new message afterwards.
 *
 * Reproduce a run with `VITE_FUZZ_SEED=<seed printed on failure> npx vitest run --project worker …`.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import {
  agentChatSocket,
  agentOnline,
  events,
  greeted,
  ORIGIN,
  PASSWORD,
  postJson,
  recordConsole,
  seedAgent,
  type TestSocket,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const REQUESTS = 10_000;
const BATCH = 50;
/**
 * Administrators × sessions each: the real-cookie half (about 5,000 requests in under a
 * minute) spread thin enough to stay under RATE_API_PER_SESSION_PER_MINUTE (300).
 */
const ADMINS = 4;
const SESSIONS_EACH = 8;
/** Vite passes `VITE_*` variables into workerd; `process.env` is not the shell's there. */
const viteEnv = (import.meta as { env?: Record<string, string | undefined> }).env ?? {};
const SEED = Number(viteEnv.VITE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const LIMIT = 64 * 1024;

// ── Routes ────────────────────────────────────────────────────────────────────

/** Every route pattern of the app, with the methods it answers (middleware `ALL` included). */
function appRoutes(): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const { method, path } of createApp().routes)
    seen.set(`${method} ${path}`, { method, path });
  return [...seen.values()];
}

// ── Generators ────────────────────────────────────────────────────────────────

const METHODS =
  "GET HEAD POST PUT PATCH DELETE OPTIONS TRACE PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK PURGE REPORT SEARCH get post patch delete".split(
    " ",
  );

const printable = (max: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: max,
  });

const weird = fc.constantFrom(
  "",
  "null",
  "undefined",
  "NaN",
  "-1",
  "0",
  "1e309",
  "9".repeat(400),
  "true",
  "[object Object]",
  "%00",
  "\u0000",
  "\u202e",
  "\ud800",
  "💥",
  "ﷺ",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  '"; DROP TABLE messages; --',
  "../../etc/passwd",
  "__proto__",
  "constructor",
  "prototype",
  "$" + "{7*7}",
  "{{7*7}}",
);

const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: weird },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => "x".repeat(n)) },
);

/** Percent-encodes `text` (lone surrogates, which can't be encoded, become U+FFFD). */
const enc = (text: string) =>
  encodeURIComponent(
    text.replace(
      /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      "\ufffd",
    ),
  );

const SEGMENT_CHARS = "abcz09-._~!$&'()*+,;=:@%/";
const segment = fc.oneof(
  fc.uuid(),
  fc.constant("00000000-0000-4000-8000-000000000000"),
  fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), maxLength: 30 }),
  anyText.map((s) => enc(s)),
  fc.constantFrom("..", ".", "%2e%2e", "%2f", "%00", "%ff%fe", "%ZZ", "%", "%E0%A4%A", ";", "%20"),
  fc.integer({ min: 1, max: 9000 }).map((n) => "a".repeat(n)),
);

function concrete(path: string, values: string[]): string {
  let i = 0;
  return path
    .replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () => values[i++ % values.length] ?? "x")
    .replace(/\*/g, () => values[i++ % values.length] ?? "");
}

const QUERY_KEYS =
  "mode from to q department cursor limit agent rating minRating status actor action outcome format __proto__ constructor".split(
    " ",
  );
const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), anyText), anyText), { maxLength: 6 })
      .map((pairs) => `?${pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&")}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "?%%%&&==",
      "?limit=1e1",
      "?limit=0x3&limit=-1",
      "?=&=",
      "?a[]=1&a[b]=2",
      "?%E0%A4%A=1",
      "?mode=monitor&mode=participate",
      `?q=${"k ".repeat(300)}`,
      `?cursor=${"A".repeat(3000)}`,
    ),
  },
);

/** A body, materialized at send time (so 10,000 descriptors stay small). */
type Body =
  | { kind: "none" }
  | { kind: "text"; text: string }
  | { kind: "deep"; depth: number; open: string; close: string }
  | { kind: "huge"; size: number; shape: "raw" | "string" | "field" | "unicode" }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "stream"; chunks: string[] };

function materialize(body: Body): BodyInit | undefined {
  switch (body.kind) {
    case "none":
      return undefined;
    case "text":
      return body.text;
    case "deep":
      return body.open.repeat(body.depth) + body.close.repeat(body.depth);
    case "huge": {
      const filler = (n: number) =>
        body.shape === "unicode" ? "é".repeat(Math.ceil(n / 2)) : "a".repeat(n);
      if (body.shape === "raw") return filler(body.size);
      if (body.shape === "string") return JSON.stringify(filler(body.size - 2));
      return `{"name":"n","message":${JSON.stringify(filler(body.size - 24))},"email":"a@b.co"}`;
    }
    case "bytes":
      return body.bytes;
    case "stream": {
      const encoder = new TextEncoder();
      const chunks = [...body.chunks];
      return new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(encoder.encode(next));
        },
      });
    }
  }
}

const FIELDS =
  "email password name department variables pageUrl message currentPassword newPassword token code captcha totp id departments groups permissions expiresInDays agent mobile rating comment status identity text recoveryCode".split(
    " ",
  );
const leaf = fc.oneof(
  anyText,
  fc.emailAddress(),
  fc.uuid(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "https://shop.example/p?card=4111 1111 1111 1111",
    "javascript:alert(1)",
    "general",
    "administrators",
    PASSWORD,
  ),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(anyText, leaf, { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
/** A JSON object text; keys may repeat and include `__proto__`, which an object literal can't. */
const shapedObject = fc
  .array(
    fc.tuple(
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...FIELDS) },
        { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype") },
        { weight: 1, arbitrary: anyText },
      ),
      value,
    ),
    { maxLength: 6 },
  )
  .map(
    (entries) =>
      `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`,
  );

const POLLUTION = [
  '{"__proto__":{"isAdmin":true,"permissions":["*"]}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"email":"a@b.co","password":"x","__proto__":{"polluted":true}}',
  '{"variables":{"__proto__":"x","constructor":"y","prototype":"z"}}',
  '{"departments":["__proto__"],"groups":["constructor"]}',
  '{"permissions":{"__proto__":[]}}',
];
const INVALID_JSON = [
  '{"a":',
  "{'a':1}",
  "[1,2,",
  "NaN",
  "undefined",
  '{"a":1}}',
  "\ufeff{}",
  "\u0000",
  '{"a":"\u0000"}',
  '{"a":"\\ud800"}',
  '{"a":1,"a":2}',
  "1e999999",
  '"unterminated',
  "{}garbage",
  "",
  " ",
  "null",
  "[]",
  "0",
  "true",
];

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Body>({ kind: "none" }) },
  { weight: 24, arbitrary: shapedObject.map((text): Body => ({ kind: "text", text })) },
  {
    weight: 8,
    arbitrary: fc
      .jsonValue()
      .map((v): Body => ({ kind: "text", text: JSON.stringify(v) ?? "null" })),
  },
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(...INVALID_JSON, ...POLLUTION)
      .map((text): Body => ({ kind: "text", text })),
  },
  {
    weight: 8,
    arbitrary: fc
      .string({ unit: "binary", maxLength: 200 })
      .map((text): Body => ({ kind: "text", text })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        depth: fc.oneof(fc.integer({ min: 10, max: 200 }), fc.integer({ min: 1000, max: 30_000 })),
        pair: fc.constantFrom(
          ["[", "]"],
          ['{"a":', "}"],
          ['{"variables":', "}"],
          ['{"__proto__":', "}"],
        ),
      })
      .map(
        ({ depth, pair }): Body => ({
          kind: "deep",
          depth,
          open: pair[0] ?? "[",
          close: pair[1] ?? "]",
        }),
      ),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        size: fc.oneof(
          fc.integer({ min: LIMIT - 64, max: LIMIT + 64 }),
          fc.constantFrom(LIMIT - 1, LIMIT, LIMIT + 1, 70_000, 200_000, 1_000_000),
        ),
        shape: fc.constantFrom<"raw" | "string" | "field" | "unicode">(
          "raw",
          "string",
          "field",
          "unicode",
        ),
      })
      .map(({ size, shape }): Body => ({ kind: "huge", size, shape })),
  },
  {
    weight: 4,
    arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes): Body => ({ kind: "bytes", bytes })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.array(fc.string({ maxLength: 50 }), { maxLength: 4 }),
        fc.constant(Array.from({ length: 20 }, () => "b".repeat(5000))),
      )
      .map((chunks): Body => ({ kind: "stream", chunks })),
  },
);

const CONTENT_TYPES =
  "application/json|application/json; charset=utf-8|APPLICATION/JSON|application/json;charset=latin1|application/jsonx|text/json|text/plain|application/x-www-form-urlencoded|multipart/form-data; boundary=----x|application/octet-stream|application/json\t|;||*/*".split(
    "|",
  );
const BOGUS_IPS =
  "1.2.3|::ffff:999.1.1.1|0x7f.1|0177.0.0.1|127.1|2130706433|1.2.3.4.5|256.256.256.256|::1%eth0|fe80::1%25en0|[::1]|1.2.3.4, 5.6.7.8|unknown|| |::ffff:127.0.0.1|2001:db8::1|203.0.113.9|01.02.03.04|1.2.3.4/24|:::|g::1".split(
    "|",
  );
const ORIGINS = [
  ORIGIN,
  "https://shop.example",
  "https://console.example",
  "http://example.com",
  "null",
  "https://evil.example",
  "https://example.com.evil.example",
  "HTTPS://EXAMPLE.COM",
  "https://example.com/",
  "file://",
  "javascript:alert(1)",
  "",
];

/** `arb` in `percent` % of the cases, else null. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number) =>
  fc.oneof(
    { weight: percent, arbitrary: arb },
    { weight: 100 - percent, arbitrary: fc.constant(null) },
  );

const fakeJwt = fc
  .tuple(anyText, anyText, anyText)
  .map((parts) => parts.map((p) => btoa(unescape(enc(p))).replace(/=+$/, "")).join("."));

/** Header values: printable ASCII (non-ASCII values are covered by a fixed set below). */
const headerText = fc.oneof(
  printable(60),
  weird.filter((s) => /^[\x20-\x7e]*$/.test(s)),
  fc.integer({ min: 1, max: 20_000 }).map((n) => "h".repeat(n)),
);
const TOKEN = "abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~";

const request = fc.record({
  session: fc.nat(),
  params: fc.array(segment, { minLength: 1, maxLength: 3 }),
  extraPath: sometimes(fc.array(segment, { minLength: 1, maxLength: 4 }), 15),
  anyMethod: fc.integer({ min: 0, max: 99 }).map((n) => n < 35),
  trustedOrigin: fc.integer({ min: 0, max: 99 }).map((n) => n < 70),
  https: fc.oneof(
    { weight: 19, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  method: fc.constantFrom(...METHODS),
  query: queryString,
  body,
  authed: fc.boolean(),
  cookie: fc.oneof(
    fc.constant(""),
    headerText,
    fakeJwt.map((jwt) => `__Host-parley_session=${jwt}`),
    fc.constant(`__Host-parley_session=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.`),
    fc.integer({ min: 4000, max: 100_000 }).map((n) => `__Host-parley_session=${"c".repeat(n)}`),
    fc.constant(`${"a=b; ".repeat(2000)}__Host-parley_session=x`),
  ),
  /** Unauthenticated requests: a forged cookie, or (here) a damaged copy of a real one. */
  mangle: sometimes(fc.constantFrom("truncate", "flip", "double", "plain"), 30),
  contentType: sometimes(
    fc.oneof(
      { weight: 3, arbitrary: fc.constant("application/json") },
      { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: printable(40) },
    ),
    80,
  ),
  ip: sometimes(
    fc.oneof(fc.constantFrom(...BOGUS_IPS), fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), headerText),
    60,
  ),
  origin: sometimes(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...ORIGINS) },
      { weight: 1, arbitrary: headerText },
    ),
    80,
  ),
  upgrade: sometimes(fc.constantFrom("websocket", "WebSocket", "h2c", "garbage"), 10),
  protocol: sometimes(
    fc.oneof(fc.constantFrom("parley.v1", "parley.v1, bearer.x", "bearer.", ","), headerText),
    15,
  ),
  authorization: sometimes(
    fc.oneof(
      fc.constantFrom("Bearer pt_", "Bearer", "Basic YTpi"),
      headerText.map((t) => `Bearer ${t}`),
      headerText,
    ),
    8,
  ),
  extra: fc.array(
    fc.tuple(
      fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 20 }),
      headerText,
    ),
    { maxLength: 4 },
  ),
});
type Fuzzed = typeof request extends fc.Arbitrary<infer T> ? T : never;

// ── Sending ───────────────────────────────────────────────────────────────────

interface Session {
  email: string;
  cookie: string;
}

interface Outcome {
  sent: number;
  refusedByClient: number;
  statuses: Map<number, number>;
  /** Requests per route pattern (`METHOD /path/:param`). */
  perRoute: Map<string, number>;
  /** Statuses of the requests that carried the administrator's real cookie. */
  authedStatuses: Map<number, number>;
  failures: string[];
}

const tally = (map: Map<number, number>, status: number) =>
  map.set(status, (map.get(status) ?? 0) + 1);

function describeRequest(method: string, url: string, headers: Headers, body: Body): string {
  const shown = [...headers].map(
    ([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v}`,
  );
  let text = "";
  if (body.kind === "text")
    text = body.text.length > 300 ? `${body.text.slice(0, 300)}…(${body.text.length})` : body.text;
  else if (body.kind !== "none")
    text = JSON.stringify({
      ...body,
      ...(body.kind === "bytes" ? { bytes: body.bytes.length } : {}),
      ...(body.kind === "stream" ? { chunks: body.chunks.map((c) => c.length) } : {}),
    });
  return `${method} ${url.length > 300 ? `${url.slice(0, 300)}…(${url.length})` : url}\n  ${shown.join("\n  ")}\n  body: ${JSON.stringify(text)}`;
}

/** Sends one fuzzed request and judges the answer. */
async function send(
  spec: Fuzzed,
  route: { method: string; path: string },
  pool: Session[],
  outcome: Outcome,
  dead: Set<string>,
): Promise<void> {
  const routeKey = `${route.method} ${route.path}`;
  outcome.perRoute.set(routeKey, (outcome.perRoute.get(routeKey) ?? 0) + 1);
  let path = concrete(route.path, spec.params);
  if (spec.extraPath) path = `${path.replace(/\/$/, "")}/${spec.extraPath.join("/")}`;
  const method = route.method === "ALL" || spec.anyMethod ? spec.method : route.method;
  const url = `${spec.https ? "https" : "http"}://example.com${path.startsWith("/") ? "" : "/"}${path}${spec.query}`;
  const session = pool[spec.session % pool.length];
  const headers = new Headers();
  try {
    for (const [name, v] of spec.extra) headers.append(name, v);
    const c = session?.cookie ?? "";
    if (spec.authed) {
      headers.set("cookie", c);
    } else if (spec.mangle !== null) {
      const damaged = {
        truncate: c.slice(0, c.length - 5),
        flip: `${c.slice(0, -3)}${c.at(-3) === "A" ? "B" : "A"}${c.slice(-2)}`,
        // Twice: only a cookie that is exactly one session may pass (this one may).
        double: `${c}; ${c}`,
        plain: c.replace("__Host-", ""),
      }[spec.mangle];
      headers.set("cookie", damaged);
    } else if (spec.cookie) {
      headers.set("cookie", spec.cookie);
    }
    if (spec.contentType !== null) headers.set("content-type", spec.contentType);
    if (spec.ip !== null) headers.set("cf-connecting-ip", spec.ip);
    if (spec.authed && spec.trustedOrigin) headers.set("origin", ORIGIN);
    else if (spec.origin !== null) headers.set("origin", spec.origin);
    if (spec.upgrade !== null) headers.set("upgrade", spec.upgrade);
    if (spec.protocol !== null) headers.set("sec-websocket-protocol", spec.protocol);
    if (spec.authorization !== null) headers.set("authorization", spec.authorization);
  } catch {
    outcome.refusedByClient += 1;
    return;
  }
  const canHaveBody = !["GET", "HEAD", "get"].includes(method);
  const payload = canHaveBody ? spec.body : ({ kind: "none" } as const);
  let res: Response;
  try {
    res = await SELF.fetch(url, { method, headers, body: materialize(payload) ?? null });
  } catch (error) {
    if (error instanceof TypeError && /Invalid (HTTP method|header)/.test(String(error))) {
      outcome.refusedByClient += 1;
      return;
    }
    outcome.failures.push(
      `fetch threw ${String(error)}\n${describeRequest(method, url, headers, payload)}`,
    );
    outcome.sent += 1;
    return;
  }
  outcome.sent += 1;
  tally(outcome.statuses, res.status);
  if (spec.authed) tally(outcome.authedStatuses, res.status);
  if (res.webSocket) {
    res.webSocket.accept();
    res.webSocket.close(1000, "fuzz");
    return;
  }
  const text = await res.text();
  const pathname = new URL(url).pathname;
  if (res.status >= 500) {
    outcome.failures.push(
      `${res.status} ${text.slice(0, 500)}\n${describeRequest(method, url, headers, payload)}`,
    );
    return;
  }
  if (pathname.startsWith("/api") && res.status >= 400 && method.toUpperCase() !== "HEAD") {
    let parsed: { error?: { code?: unknown; message?: unknown } } | null = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // judged below
    }
    if (typeof parsed?.error?.code !== "string" || typeof parsed.error.message !== "string") {
      outcome.failures.push(
        `${res.status} not the JSON error shape: ${text.slice(0, 300)}\n${describeRequest(method, url, headers, payload)}`,
      );
    }
    // The real session died (a fuzzed wrong password locked the account, a logout): replace it.
    if (
      spec.authed &&
      session &&
      res.status === 401 &&
      /"code":"(session_expired|unauthenticated)"/.test(text)
    ) {
      dead.add(session.cookie);
    }
  }
}

/** Logs in from its own documentation address, so no per-IP counter of the fuzz run applies. */
async function loginFrom(email: string, ip: string): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": ip },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}

/** True while the session still answers /api/auth/me. */
async function alive(session: Session): Promise<boolean> {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie: session.cookie } });
  await res.body?.cancel();
  return res.status === 200;
}

let ipCounter = 0;
/** A documentation address in a /64 of its own (per-IP limits may key on the /64). */
const nextIp = () => `2001:db8:${(++ipCounter).toString(16)}:f022::1`;

/** `count` sessions of one new administrator of `department`. */
async function adminSessions(department: string, count: number): Promise<Session[]> {
  const agent = await seedAgent({ groups: ["administrators"], departments: [department] });
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    sessions.push({ email: agent.email, cookie: await loginFrom(agent.email, nextIp()) });
  }
  return sessions;
}

// ── The chat that must survive ────────────────────────────────────────────────

interface Keeper {
  chatId: string;
  token: string;
  visitor: TestSocket;
  agentChat: TestSocket;
  desk: TestSocket;
  rows: unknown[];
}

async function storedRows(chatId: string) {
  const { results } = await env.DB.prepare(
    "SELECT seq, kind, sender_role, sender_id, sender_name, text, at FROM messages WHERE chat_id = ?1 ORDER BY seq",
  )
    .bind(chatId)
    .all();
  return results;
}

async function keeperChat(): Promise<Keeper> {
  const department = uniqueDepartment();
  const agent = await seedAgent({ departments: [department] });
  const cookie = await loginFrom(agent.email, nextIp());
  const desk = await agentOnline(cookie);
  const res = await postJson(
    "/api/visitor/chats",
    { name: "Kept Visitor", department },
    { "cf-connecting-ip": nextIp() },
  );
  expect(res.status).toBe(201);
  const { chatId, token } = (await res.json()) as { chatId: string; token: string };
  await desk.nextOfType("offer", (f) => f.chatId === chatId);
  desk.send({ type: "accept", chatId });
  await desk.nextOfType("assigned", (f) => f.chatId === chatId);
  const visitor = await greeted(await visitorSocket(chatId, token));
  const agentChat = await greeted(await agentChatSocket(chatId, cookie));
  let lastSeq = 0;
  for (let i = 0; i < 5; i++) {
    visitor.send({ type: "message", clientId: `v${i}`, text: `visitor message ${i} <b>kept</b>` });
    await visitor.nextOfType("ack", (f) => f.clientId === `v${i}`);
    agentChat.send({ type: "message", clientId: `a${i}`, text: `agent reply ${i} 🎉` });
    lastSeq = Number((await agentChat.nextOfType("ack", (f) => f.clientId === `a${i}`)).seq);
  }
  await visitor.nextOfType("event", (f) => f.seq === lastSeq);
  expect(events(visitor).filter((e) => e.kind === "message")).toHaveLength(10);
  await expect
    .poll(async () => (await storedRows(chatId)).length, { timeout: 10_000 })
    .toBe(lastSeq);
  return { chatId, token, visitor, agentChat, desk, rows: await storedRows(chatId) };
}

// ── The run ───────────────────────────────────────────────────────────────────

describe("HTTP fuzzing", () => {
  let recorded: ReturnType<typeof recordConsole>;
  beforeAll(() => {
    recorded = recordConsole(["error"]);
  });
  afterAll(() => recorded.restore());

  it(`answers ${REQUESTS} random and malformed requests without a 5xx, and loses nothing`, async () => {
    const started = Date.now();
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(40);
    const keeper = await keeperChat();
    const fuzzDepartment = uniqueDepartment();
    let pool = (
      await Promise.all(
        Array.from({ length: ADMINS }, () => adminSessions(fuzzDepartment, SESSIONS_EACH)),
      )
    ).flat();

    // Non-ASCII header values (workerd sends them as UTF-8 with a warning, once each).
    const fixed = ["é", "😀"].map((v) =>
      SELF.fetch(`${ORIGIN}/api/auth/me`, {
        headers: { "cf-connecting-ip": v, origin: v, cookie: pool[0]?.cookie ?? "" },
      }),
    );
    for (const res of await Promise.all(fixed)) expect(res.status).toBeLessThan(500);

    const outcome: Outcome = {
      sent: 0,
      refusedByClient: 0,
      statuses: new Map(),
      perRoute: new Map(),
      authedStatuses: new Map(),
      failures: [],
    };
    const specs = fc.sample(request, { numRuns: REQUESTS + 300, seed: SEED });
    let replaced = 0;
    for (let i = 0; i < specs.length && outcome.sent < REQUESTS; i += BATCH) {
      const dead = new Set<string>();
      await Promise.all(
        specs.slice(i, i + BATCH).map((spec, j) =>
          // Routes in turn (the rest of each request is random): every route gets its share
          // however many there are.
          send(
            spec,
            routes[(i + j) % routes.length] ?? { method: "GET", path: "/" },
            pool,
            outcome,
            dead,
          ),
        ),
      );
      if (dead.size > 0) {
        pool = await Promise.all(
          pool.map(async (s) => {
            if (!dead.has(s.cookie) || (await alive(s))) return s;
            replaced += 1;
            return (await adminSessions(fuzzDepartment, 1))[0] ?? s;
          }),
        );
      }
    }
    const sorted = (map: Map<number, number>) =>
      JSON.stringify(Object.fromEntries([...map].sort(([a], [b]) => a - b)));
    console.log(
      `fuzz-http: seed ${SEED}, ${outcome.sent} requests sent (${outcome.refusedByClient} refused by the client), ` +
        `${replaced} sessions replaced, ${Date.now() - started} ms; statuses ${sorted(outcome.statuses)}, ` +
        `with the real cookie ${sorted(outcome.authedStatuses)}`,
    );
    expect(outcome.sent, `seed ${SEED}`).toBeGreaterThanOrEqual(REQUESTS);
    // Every route got its share (REQUESTS / routes each). Past 200 routes, raise REQUESTS.
    expect(routes.length).toBeLessThanOrEqual(REQUESTS / 50);
    const starved = routes.filter((r) => (outcome.perRoute.get(`${r.method} ${r.path}`) ?? 0) < 50);
    expect(starved, `seed ${SEED}`).toEqual([]);
    expect(
      outcome.failures.slice(0, 20),
      `seed ${SEED}: ${outcome.failures.length} failures`,
    ).toEqual([]);

    // Nothing was logged as an error (the error handler logs every unhandled exception), and
    // no prototype was polluted.
    const errors = recorded.lines;
    expect(errors.slice(0, 10), `seed ${SEED}: ${errors.length} errors logged`).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();

    // The kept chat: its rows are untouched, its replay complete, and it still acks.
    expect(await storedRows(keeper.chatId)).toEqual(keeper.rows);
    const again = await greeted(await visitorSocket(keeper.chatId, keeper.token));
    expect(events(again).map((e) => [e.seq, e.kind, e.text])).toEqual(
      events(keeper.visitor).map((e) => [e.seq, e.kind, e.text]),
    );
    again.send({ type: "message", clientId: "after-fuzz", text: "still here" });
    const ack = await again.nextOfType("ack", (f) => f.clientId === "after-fuzz");
    await keeper.agentChat.nextOfType("event", (f) => f.text === "still here" && f.seq === ack.seq);
    const health = await SELF.fetch(`${ORIGIN}/healthz`);
    expect(health.status).toBe(200);
    await expect
      .poll(async () => (await storedRows(keeper.chatId)).length, { timeout: 10_000 })
      .toBe(keeper.rows.length + 1);
  }, 240_000);
});
