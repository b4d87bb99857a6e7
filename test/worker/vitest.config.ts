import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "../..");

/** Worker tests: the real Worker, D1 and Durable Objects in workerd. */
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            SESSION_KEY: "worker-tests-session-key-0123456789abcdef",
            CAPTCHA_KEY: "worker-tests-captcha-key-0123456789abcdef",
            // Cheap proof of work, so tests that solve many CAPTCHAs stay fast.
            ALTCHA_MAX_COUNTER: "20",
            OFFER_TIMEOUT_SECONDS: "30",
            SECURE_FORM_TTL_MINUTES: "1",
            // Every test client is "unknown" or a documentation address; allowlist tests
            // narrow these per request through the security settings.
            AGENT_IP_ALLOWLIST: "*",
            MOBILE_IP_ALLOWLIST: "*",
            // login-hardening.test.ts drives ~40 attempts on one account within a minute.
            RATE_LOGIN_PER_ACCOUNT_PER_MINUTE: "100",
            // Test files start many chats from one documentation address; the limit itself is
            // proven with small values in rate-limit-wiring.test.ts.
            RATE_CHAT_START_PER_IP_PER_MINUTE: "1000",
            WIDGET_ORIGINS: "https://shop.example",
            CONSOLE_ORIGINS: "https://console.example",
          },
        },
      }),
    ],
    // The console's screens (.tsx, hono/jsx/dom) are imported by the reachability check.
    oxc: { jsx: { runtime: "automatic" as const, importSource: "hono/jsx/dom" } },
    test: {
      name: "worker",
      root,
      include: ["test/worker/**/*.test.ts"],
      setupFiles: ["test/worker/apply-migrations.ts"],
      testTimeout: 30_000,
    },
  };
});
