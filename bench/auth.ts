/**
 * `npm run bench:auth`: argon2id hash and verify time in workerd (p50, p95), and login
 * requests per second on `wrangler dev`, each against a baseline measured in the same run
 * (a no-op round trip; /healthz throughput), since this machine is noisy.
 */
import { startDevServer } from "../test/helpers/dev-server.ts";
import { machine, percentile } from "./stats.ts";
import { startBenchWorker } from "./worker-process.ts";

const SAMPLES = 40;
const LOGINS = 60;
const CONCURRENCY = 4;

async function timed(url: string): Promise<{ ms: number; body: string }> {
  const start = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  return { ms: performance.now() - start, body };
}

async function argon2InWorkerd(): Promise<void> {
  const worker = await startBenchWorker("bench/argon2-worker/wrangler.toml", "/noop");
  try {
    const base = worker.origin;
    const hash = (await timed(`${base}/hash`)).body; // also warms the WASM instance
    const noop: number[] = [];
    const hashes: number[] = [];
    const verifies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      noop.push((await timed(`${base}/noop`)).ms);
      hashes.push((await timed(`${base}/hash`)).ms);
      const verified = await timed(`${base}/verify?hash=${encodeURIComponent(hash)}`);
      if (verified.body !== "true") throw new Error("verify failed");
      verifies.push(verified.ms);
    }
    const base50 = percentile(noop, 50);
    const row = (name: string, values: number[]) =>
      `${name.padEnd(22)} p50 ${percentile(values, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(6)} ms   (minus baseline p50: ${(percentile(values, 50) - base50).toFixed(1)} ms)`;
    console.log(`argon2id in workerd (m=19456 KiB, t=2, p=1), ${SAMPLES} samples each, over HTTP:`);
    console.log(row("baseline round trip", noop));
    console.log(row("hash", hashes));
    console.log(row("verify", verifies));
  } finally {
    worker.stop();
  }
}

async function throughput(count: number, send: () => Promise<Response>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next += 1;
        const res = await send();
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`request failed: ${res.status}`);
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function loginsOnWranglerDev(): Promise<void> {
  const server = await startDevServer();
  try {
    const email = "bench@example.com";
    const password = "timing run passphrase 42";
    await server.createAgent({ email, name: "Bench Agent", password });
    const login = () =>
      fetch(`${server.origin}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.origin },
        body: JSON.stringify({ email, password }),
      });
    await login();
    const health = await throughput(LOGINS * 5, () => fetch(`${server.origin}/healthz`));
    const logins = await throughput(LOGINS, login);
    console.log(`\nwrangler dev, ${CONCURRENCY} concurrent clients:`);
    console.log(`/healthz (baseline)   ${health.toFixed(1).padStart(7)} req/s`);
    console.log(
      `POST /api/auth/login  ${logins.toFixed(1).padStart(7)} req/s   (${(logins / health).toFixed(3)} × baseline)`,
    );
  } finally {
    await server.stop();
  }
}

console.log(`Machine: ${machine()}\n`);
await argon2InWorkerd();
await loginsOnWranglerDev();
