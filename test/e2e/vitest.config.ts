import { defineProject } from "vitest/config";

/** End-to-end tests: `wrangler dev`, real WebSocket clients, headless Chromium, the admin CLI. */
export default defineProject({
  test: {
    name: "e2e",
    environment: "node",
    include: ["**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One wrangler dev at a time: 2 cores, and each file starts its own.
    fileParallelism: false,
  },
});
